//! The pages (askama templates in `templates/`, extending `layout.html`)
//! and what they show.

use askama::Template;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::form::{FieldErrors, NoticeInput};
use crate::notices::Notice;

/// The board's heading: resource, course and who is looking.
pub(crate) struct Board {
    pub(crate) title: String,
    pub(crate) context: String,
    pub(crate) user: String,
}

/// A notice as the pages show it.
pub(crate) struct NoticeView {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) author: String,
    pub(crate) created_iso: String,
    pub(crate) created_text: String,
    pub(crate) edited: bool,
    pub(crate) updated_iso: String,
    pub(crate) updated_text: String,
    pub(crate) edit_url: Option<String>,
    pub(crate) delete_url: Option<String>,
}

impl NoticeView {
    pub(crate) fn new(notice: &Notice) -> Self {
        Self {
            id: notice.id.to_string(),
            title: notice.title.clone(),
            description: notice.description.clone(),
            author: notice.author_name.clone(),
            created_iso: iso_time(notice.created),
            created_text: human_time(notice.created),
            edited: notice.updated != notice.created,
            updated_iso: iso_time(notice.updated),
            updated_text: human_time(notice.updated),
            edit_url: None,
            delete_url: None,
        }
    }
}

/// The add or edit form: where it posts, the values to show, the errors.
pub(crate) struct FormView {
    pub(crate) action: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) title_error: Option<String>,
    pub(crate) description_error: Option<String>,
    pub(crate) submit: &'static str,
    pub(crate) cancel_url: Option<String>,
    pub(crate) csrf_field: String,
    pub(crate) csrf_value: String,
}

impl FormView {
    /// A form showing `input` (as submitted) and `errors`.
    pub(crate) fn with_input(mut self, input: &NoticeInput, errors: FieldErrors) -> Self {
        self.title.clone_from(&input.title);
        self.description.clone_from(&input.description);
        self.title_error = errors.title;
        self.description_error = errors.description;
        self
    }
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub(crate) css_url: String,
    pub(crate) launch_url: String,
}

#[derive(Template)]
#[template(path = "index.html")]
pub(crate) struct IndexPage {
    pub(crate) css_url: String,
    pub(crate) board: Board,
    pub(crate) form: Option<FormView>,
    pub(crate) notices: Vec<NoticeView>,
    pub(crate) title_max: usize,
    pub(crate) description_max: usize,
}

#[derive(Template)]
#[template(path = "add.html")]
pub(crate) struct AddPage {
    pub(crate) css_url: String,
    pub(crate) board: Board,
    pub(crate) form: FormView,
    pub(crate) title_max: usize,
    pub(crate) description_max: usize,
}

#[derive(Template)]
#[template(path = "edit.html")]
pub(crate) struct EditPage {
    pub(crate) css_url: String,
    pub(crate) board: Board,
    pub(crate) form: FormView,
    pub(crate) title_max: usize,
    pub(crate) description_max: usize,
}

#[derive(Template)]
#[template(path = "delete.html")]
pub(crate) struct DeletePage {
    pub(crate) css_url: String,
    pub(crate) board: Board,
    pub(crate) notice: NoticeView,
    pub(crate) own: bool,
    pub(crate) action: String,
    pub(crate) cancel_url: String,
    pub(crate) csrf_field: String,
    pub(crate) csrf_value: String,
}

#[derive(Template)]
#[template(path = "no_context.html")]
pub(crate) struct NoContextPage {
    pub(crate) css_url: String,
}

/// An HTML response: the page, its status, and `Cache-Control: no-store`
/// (the pages are personal and carry the session's CSRF token).
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    let mut response = (status, axum_lti::render(page)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Unix seconds as RFC 3339 UTC, for `<time datetime>`:
/// `2024-01-01T00:00:00Z`.
pub(crate) fn iso_time(secs: i64) -> String {
    let (date, (h, m, s)) = split(secs);
    format!(
        "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}Z",
        date.0, date.1, date.2
    )
}

/// Unix seconds for people: `1 Jan 2024, 00:00 UTC`.
pub(crate) fn human_time(secs: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let ((year, month, day), (h, m, _)) = split(secs);
    let month = MONTHS[(month as usize).saturating_sub(1) % 12];
    format!("{day} {month} {year}, {h:02}:{m:02} UTC")
}

type Date = (i64, u32, u32);

fn split(secs: i64) -> (Date, (i64, i64, i64)) {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    (
        civil_from_days(days),
        (rest / 3600, rest % 3600 / 60, rest % 60),
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_in_utc() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_time(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(human_time(1_704_067_200), "1 Jan 2024, 00:00 UTC");
        // A leap day and the end of a year.
        assert_eq!(iso_time(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(human_time(1_735_689_599), "31 Dec 2024, 23:59 UTC");
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_time(-1), "1969-12-31T23:59:59Z");
    }
}
