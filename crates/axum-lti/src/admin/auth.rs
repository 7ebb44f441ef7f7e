//! Logging in and out, and the [`SignedIn`] extractor that guards every
//! other page (spec §10.4 with QN-2 and QN-6 fixed: an email and password
//! login instead of the retired Google+ sign-in, and a log-out that works).
//!
//! A login stores `<owner id>.<session epoch>` in the session payload under
//! [`SESSION_KEY`]; the session id is renewed first, so an id planted
//! before the login is worthless (fixation). Log out moves the owner's
//! epoch on in the database and clears the cookie: the session cookie is
//! signed, not stored, so the epoch is what makes an old copy of the cookie
//! useless — on every instance, for every session of that owner.

use std::sync::Arc;

use axum::extract::{Extension, Form, FromRequestParts, Query};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use lti_core::{OwnerRecord, SiloRecord, normalize_email};
use serde::Deserialize;

use super::forms::LoginForm;
use super::limiter::{ClientAddress, LoginLimiter};
use super::password::verify_password;
use super::views::{LoginPage, html};
use crate::error::LtiRejection;
use crate::session::{CsrfToken, Session, see_other};
use crate::state::LtiState;

/// The session payload key of a signed-in owner.
pub(crate) const SESSION_KEY: &str = "admin";

/// The owner signed in to this session, with their silo. Extracting it
/// without a valid login answers 303 to the login page.
pub(crate) struct SignedIn {
    pub(crate) owner: OwnerRecord,
    pub(crate) silo: SiloRecord,
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let lti = LtiState::from_extensions(&parts.extensions)?;
        match signed_in(&lti, &session).await? {
            Some(signed_in) => Ok(signed_in),
            None => Err(LtiRejection::Redirect(Box::new(see_other(
                &lti.root().join("admin/login"),
            )))),
        }
    }
}

/// The owner this session is signed in as, if the login is still valid:
/// the owner exists and the session's epoch is the owner's current one. A
/// stale login is removed from the session.
async fn signed_in(state: &LtiState, session: &Session) -> Result<Option<SignedIn>, LtiRejection> {
    let Some(value) = session.get(SESSION_KEY) else {
        return Ok(None);
    };
    let parsed = value
        .split_once('.')
        .and_then(|(id, epoch)| Some((id.parse().ok()?, epoch.parse::<i64>().ok()?)));
    let store = state.store();
    let owner = match parsed {
        Some((id, epoch)) => store
            .find_owner(lti_core::OwnerId(id))
            .await?
            .filter(|owner| owner.session_epoch == epoch),
        None => None,
    };
    let Some(owner) = owner else {
        session.remove(SESSION_KEY);
        return Ok(None);
    };
    let Some(silo) = store.find_silo(owner.silo).await? else {
        session.remove(SESSION_KEY);
        return Ok(None);
    };
    Ok(Some(SignedIn { owner, silo }))
}

/// `?done=logout` after logging out.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginQuery {
    done: String,
}

/// `GET /admin/login`: the form (or the list, when already signed in).
pub(crate) async fn login_form(
    state: LtiState,
    session: Session,
    csrf: CsrfToken,
    Query(query): Query<LoginQuery>,
) -> Result<Response, LtiRejection> {
    if signed_in(&state, &session).await?.is_some() {
        return Ok(see_other(&state.root().join("admin/")));
    }
    // The form's POST must bring the session back: ask for the test cookie
    // too, which the session layer needs to load a session.
    session.set_test_cookie();
    let notice = (query.done == "logout").then(|| "You have logged out.".to_owned());
    Ok(login_page(
        &state,
        &csrf,
        StatusCode::OK,
        String::new(),
        None,
        notice,
    ))
}

fn login_page(
    state: &LtiState,
    csrf: &CsrfToken,
    status: StatusCode,
    email: String,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    html(
        status,
        &LoginPage {
            action: state.root().join("admin/login"),
            csrf_field: csrf.field().to_owned(),
            csrf_value: csrf.value().to_owned(),
            email,
            error,
            notice,
        },
    )
}

/// `POST /admin/login` (CSRF checked by the session layer).
pub(crate) async fn login(
    state: LtiState,
    session: Session,
    ClientAddress(address): ClientAddress,
    Extension(limiter): Extension<Arc<LoginLimiter>>,
    Form(form): Form<LoginForm>,
) -> Result<Response, LtiRejection> {
    let email = normalize_email(&form.email);
    let now = state.now();
    // Refused while limited, whatever the password: a guesser learns
    // nothing from the answers.
    if let Some(wait) = limiter.retry_after(&email, address, now) {
        tracing::warn!(?address, "admin login refused: too many failures");
        let minutes = (wait + 59) / 60;
        let csrf = current_token(&state, &session);
        let mut response = login_page(
            &state,
            &csrf,
            StatusCode::TOO_MANY_REQUESTS,
            email,
            Some(format!(
                "Too many failed logins for this account or from your network. Wait {minutes} \
                 minute{} and try again.",
                if minutes == 1 { "" } else { "s" }
            )),
            None,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(response);
    }
    if !session.cookies_work() {
        session.set_test_cookie();
        let csrf = current_token(&state, &session);
        return Ok(login_page(
            &state,
            &csrf,
            StatusCode::BAD_REQUEST,
            email,
            Some(
                "Your browser did not send back this site's cookies, which a login needs. \
                 Allow cookies for this site and try again."
                    .into(),
            ),
            None,
        ));
    }
    // PostgreSQL text cannot hold NUL (a query with one fails, a 500): no
    // account has such an address, so it is simply unknown.
    let owner = if email.contains('\0') {
        None
    } else {
        state.store().find_owner_by_email(&email).await?
    };
    let hash = owner.as_ref().map(|o| o.password.clone());
    // An unknown email is checked against a dummy hash: same cost, same
    // answer as a wrong password.
    let matched = verify_password(form.password, hash).await;
    let owner = match owner {
        Some(owner) if matched => owner,
        known => {
            limiter.record_failure(&email, address, now);
            tracing::warn!(
                known_account = known.is_some(),
                ?address,
                "admin login failed"
            );
            let csrf = current_token(&state, &session);
            return Ok(login_page(
                &state,
                &csrf,
                StatusCode::FORBIDDEN,
                email,
                Some("The email address or the password is wrong.".into()),
                None,
            ));
        }
    };
    limiter.record_success(&email);
    // Fixation defence: the signed-in session never has an id that existed
    // before this request.
    session.rotate(&state).await?;
    session.insert(
        SESSION_KEY,
        format!("{}.{}", owner.id.0, owner.session_epoch),
    );
    tracing::info!(owner = owner.id.0, "admin login");
    Ok(see_other(&state.root().join("admin/")))
}

/// The token for the session as it stands now (after a failed login the
/// form is shown again and must carry a token that matches the cookie).
fn current_token(state: &LtiState, session: &Session) -> CsrfToken {
    CsrfToken::for_session(state, session)
}

/// `POST /admin/logout` (CSRF checked by the session layer): ends every
/// session of the owner and clears this one's cookie (QN-2).
pub(crate) async fn logout(
    state: LtiState,
    session: Session,
    signed_in: SignedIn,
) -> Result<Response, LtiRejection> {
    state
        .store()
        .end_owner_sessions(signed_in.owner.id, state.now())
        .await?;
    session.end();
    tracing::info!(owner = signed_in.owner.id.0, "admin logout");
    Ok(see_other(&state.root().join("admin/login?done=logout")))
}

/// `/admin`: on to `/admin/`.
pub(crate) async fn to_console(state: LtiState) -> Response {
    see_other(&state.root().join("admin/"))
}

/// Any other path under `/admin/`: the login page for strangers (nothing
/// about what exists is revealed), 404 for a signed-in owner.
pub(crate) async fn unknown(_signed_in: SignedIn) -> Response {
    LtiRejection::NotFound.into_response()
}
