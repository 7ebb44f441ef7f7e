//! The board's pages and actions (spec §10.2, with QN-1 and QN-9 fixed).
//!
//! Who may do what:
//!
//! | Action | Needs |
//! |---|---|
//! | see the board | a visit with READ |
//! | post | READ and a user (not an anonymous launch) |
//! | edit | READ and being the author |
//! | delete | READ and being the author, or WRITE (instructors) |
//!
//! Everything else is 403 with a page. Notices live in the resource's
//! context (course): a launch without one gets the page that says so (200
//! where there is only something to read, 403 for actions), and a notice
//! id of another context is 404, like one that does not exist.

use axum::response::{IntoResponse, Redirect, Response};
use axum_lti::core::{ContextKey, Permissions};
use axum_lti::{CsrfToken, LtiRejection, LtiState, Visit};
use http::StatusCode;

use crate::form::{CheckedNotice, DESCRIPTION_MAX, IdParam, NoticeInput, TITLE_MAX};
use crate::notices::{NewNotice, Notice, NoticeId, Notices};
use crate::pages::{
    AddPage, Board, DeletePage, EditPage, FormView, HomePage, IndexPage, NoContextPage, NoticeView,
    html,
};

type PageResult = Result<Response, LtiRejection>;

/// The stylesheet's absolute URL.
fn css_url(lti: &LtiState) -> String {
    lti.root().join(&crate::assets::stylesheet_path())
}

fn board(visit: &Visit) -> Board {
    let context = visit
        .context()
        .map(|c| {
            c.title
                .clone()
                .or_else(|| c.label.clone())
                .unwrap_or_else(|| c.context_id.clone())
        })
        .unwrap_or_default();
    Board {
        title: visit.title(),
        context,
        user: visit.display_name(),
    }
}

/// The page saying notices need a course.
fn no_context(lti: &LtiState, status: StatusCode) -> Response {
    html(
        status,
        &NoContextPage {
            css_url: css_url(lti),
        },
    )
}

/// The board's URL (where actions redirect to, 303).
fn board_url(visit: &Visit, lti: &LtiState) -> String {
    visit.url(lti, "")
}

fn is_author(visit: &Visit, notice: &Notice) -> bool {
    visit.user().is_some_and(|user| user.key == notice.author)
}

fn may_delete(visit: &Visit, notice: &Notice) -> bool {
    is_author(visit, notice) || visit.can_write()
}

fn empty_form(visit: &Visit, lti: &LtiState, csrf: &CsrfToken, action: &str) -> FormView {
    FormView {
        action: visit.url(lti, action),
        title: String::new(),
        description: String::new(),
        title_error: None,
        description_error: None,
        submit: "Post the notice",
        cancel_url: None,
        csrf_field: csrf.field().to_owned(),
        csrf_value: csrf.value().to_owned(),
    }
}

fn edit_form(visit: &Visit, lti: &LtiState, csrf: &CsrfToken, notice: &Notice) -> FormView {
    FormView {
        title: notice.title.clone(),
        description: notice.description.clone().unwrap_or_default(),
        submit: "Save the changes",
        cancel_url: Some(board_url(visit, lti)),
        ..empty_form(visit, lti, csrf, &format!("edit?id={}", notice.id))
    }
}

fn add_page(visit: &Visit, lti: &LtiState, form: FormView) -> AddPage {
    AddPage {
        css_url: css_url(lti),
        board: board(visit),
        form,
        title_max: TITLE_MAX,
        description_max: DESCRIPTION_MAX,
    }
}

fn edit_page(visit: &Visit, lti: &LtiState, form: FormView) -> EditPage {
    EditPage {
        css_url: css_url(lti),
        board: board(visit),
        form,
        title_max: TITLE_MAX,
        description_max: DESCRIPTION_MAX,
    }
}

/// `GET /`: what the tool is and its launch URL (no session needed).
pub(crate) async fn home(lti: LtiState) -> Response {
    html(
        StatusCode::OK,
        &HomePage {
            css_url: css_url(&lti),
            launch_url: lti.root().join("launch"),
        },
    )
}

/// `GET /resource/{id}/`: the context's notices, newest first, with the
/// form to post one.
pub(crate) async fn index(
    visit: Visit,
    lti: LtiState,
    csrf: CsrfToken,
    notices: Notices,
) -> PageResult {
    visit.require(Permissions::READ)?;
    let Some(context) = visit.context() else {
        return Ok(no_context(&lti, StatusCode::OK));
    };
    let list = notices.list(context.key).await?;
    let views = list
        .iter()
        .map(|notice| {
            let mut view = NoticeView::new(notice);
            let edit = format!("edit?id={}", notice.id);
            let delete = format!("delete?id={}", notice.id);
            view.edit_url = is_author(&visit, notice).then(|| visit.url(&lti, &edit));
            view.delete_url = may_delete(&visit, notice).then(|| visit.url(&lti, &delete));
            view
        })
        .collect();
    let form = visit
        .user()
        .is_some()
        .then(|| empty_form(&visit, &lti, &csrf, "add"));
    Ok(html(
        StatusCode::OK,
        &IndexPage {
            css_url: css_url(&lti),
            board: board(&visit),
            form,
            notices: views,
            title_max: TITLE_MAX,
            description_max: DESCRIPTION_MAX,
        },
    ))
}

/// The checks every action shares: READ, then the context (or the page
/// saying there is none, with `status`).
fn context_of(visit: &Visit) -> Result<Option<ContextKey>, LtiRejection> {
    visit.require(Permissions::READ)?;
    Ok(visit.context().map(|c| c.key))
}

/// `GET /resource/{id}/add`: the form on a page of its own.
pub(crate) async fn add_form(visit: Visit, lti: LtiState, csrf: CsrfToken) -> PageResult {
    if context_of(&visit)?.is_none() {
        return Ok(no_context(&lti, StatusCode::OK));
    }
    if visit.user().is_none() {
        return Err(LtiRejection::NoPermission);
    }
    let mut form = empty_form(&visit, &lti, &csrf, "add");
    form.cancel_url = Some(board_url(&visit, &lti));
    Ok(html(StatusCode::OK, &add_page(&visit, &lti, form)))
}

/// `POST /resource/{id}/add`: posts a notice, or re-shows the form with
/// what was wrong (400; nothing stored).
pub(crate) async fn add(
    visit: Visit,
    lti: LtiState,
    csrf: CsrfToken,
    notices: Notices,
    input: NoticeInput,
) -> PageResult {
    let Some(context) = context_of(&visit)? else {
        return Ok(no_context(&lti, StatusCode::FORBIDDEN));
    };
    let user = visit.user().ok_or(LtiRejection::NoPermission)?;
    let CheckedNotice { title, description } = match input.check() {
        Ok(checked) => checked,
        Err(errors) => {
            let mut form = empty_form(&visit, &lti, &csrf, "add").with_input(&input, errors);
            form.cancel_url = Some(board_url(&visit, &lti));
            let page = add_page(&visit, &lti, form);
            return Ok(html(StatusCode::BAD_REQUEST, &page));
        }
    };
    notices
        .insert(&NewNotice {
            context,
            author: user.key,
            title: &title,
            description: description.as_deref(),
            now: lti.now(),
        })
        .await?;
    Ok(Redirect::to(&board_url(&visit, &lti)).into_response())
}

/// Finds the notice an edit or delete page names, in the visit's context:
/// 404 when there is none there.
async fn find(
    notices: &Notices,
    context: ContextKey,
    id: NoticeId,
) -> Result<Notice, LtiRejection> {
    notices
        .find(context, id)
        .await?
        .ok_or(LtiRejection::NotFound)
}

/// `GET /resource/{id}/edit?id=`: the author's form, filled in.
pub(crate) async fn edit_form_page(
    visit: Visit,
    lti: LtiState,
    csrf: CsrfToken,
    notices: Notices,
    IdParam(id): IdParam,
) -> PageResult {
    let Some(context) = context_of(&visit)? else {
        return Ok(no_context(&lti, StatusCode::FORBIDDEN));
    };
    let notice = find(&notices, context, id).await?;
    if !is_author(&visit, &notice) {
        return Err(LtiRejection::NoPermission);
    }
    let form = edit_form(&visit, &lti, &csrf, &notice);
    Ok(html(StatusCode::OK, &edit_page(&visit, &lti, form)))
}

/// `POST /resource/{id}/edit?id=`: saves the author's changes, or
/// re-shows the form with what was wrong (400; nothing changed).
pub(crate) async fn edit(
    visit: Visit,
    lti: LtiState,
    csrf: CsrfToken,
    notices: Notices,
    IdParam(id): IdParam,
    input: NoticeInput,
) -> PageResult {
    let Some(context) = context_of(&visit)? else {
        return Ok(no_context(&lti, StatusCode::FORBIDDEN));
    };
    let notice = find(&notices, context, id).await?;
    let Some(user) = visit.user().filter(|_| is_author(&visit, &notice)) else {
        return Err(LtiRejection::NoPermission);
    };
    let CheckedNotice { title, description } = match input.check() {
        Ok(checked) => checked,
        Err(errors) => {
            let form = edit_form(&visit, &lti, &csrf, &notice).with_input(&input, errors);
            let page = edit_page(&visit, &lti, form);
            return Ok(html(StatusCode::BAD_REQUEST, &page));
        }
    };
    let now = lti.now();
    let changed = notices
        .update(context, id, user.key, &title, description.as_deref(), now)
        .await?;
    if !changed {
        // Deleted since it was found.
        return Err(LtiRejection::NotFound);
    }
    Ok(Redirect::to(&board_url(&visit, &lti)).into_response())
}

/// `GET /resource/{id}/delete?id=`: asks to confirm.
pub(crate) async fn delete_page(
    visit: Visit,
    lti: LtiState,
    csrf: CsrfToken,
    notices: Notices,
    IdParam(id): IdParam,
) -> PageResult {
    let Some(context) = context_of(&visit)? else {
        return Ok(no_context(&lti, StatusCode::FORBIDDEN));
    };
    let notice = find(&notices, context, id).await?;
    if !may_delete(&visit, &notice) {
        return Err(LtiRejection::NoPermission);
    }
    let page = DeletePage {
        css_url: css_url(&lti),
        board: board(&visit),
        notice: NoticeView::new(&notice),
        own: is_author(&visit, &notice),
        action: visit.url(&lti, &format!("delete?id={id}")),
        cancel_url: board_url(&visit, &lti),
        csrf_field: csrf.field().to_owned(),
        csrf_value: csrf.value().to_owned(),
    };
    Ok(html(StatusCode::OK, &page))
}

/// `POST /resource/{id}/delete?id=`: deletes the notice.
pub(crate) async fn delete(
    visit: Visit,
    lti: LtiState,
    notices: Notices,
    IdParam(id): IdParam,
) -> PageResult {
    let Some(context) = context_of(&visit)? else {
        return Ok(no_context(&lti, StatusCode::FORBIDDEN));
    };
    let notice = find(&notices, context, id).await?;
    if !may_delete(&visit, &notice) {
        return Err(LtiRejection::NoPermission);
    }
    if !notices.delete(context, id).await? {
        return Err(LtiRejection::NotFound);
    }
    Ok(Redirect::to(&board_url(&visit, &lti)).into_response())
}

/// Any other page under the resource: 404, once the visit is checked (a
/// browser without a visit gets 403, as everywhere under `/resource/`).
pub(crate) async fn not_found(_visit: Visit) -> LtiRejection {
    LtiRejection::NotFound
}

/// A method the route does not serve.
pub(crate) fn method_not_allowed(
    allow: &'static str,
) -> impl Fn() -> std::future::Ready<LtiRejection> + Clone + Send + Sync + 'static {
    move || std::future::ready(LtiRejection::MethodNotAllowed { allow })
}
