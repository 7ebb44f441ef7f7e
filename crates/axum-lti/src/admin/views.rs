//! The admin console's pages: askama templates `templates/admin_*.html`
//! (extending `layout.html`) and the data they show.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use lti_core::{ConsumerRecord, ConsumerUsage, OwnerRecord, SiloRecord};

use super::auth::SignedIn;
use super::forms::{ConsumerForm, FieldErrors};
use crate::pages::render;
use crate::session::CsrfToken;
use crate::state::LtiState;

/// The bar at the top of every page of a signed-in owner: who, which silo,
/// the way back to the list and the log-out button.
pub(crate) struct Nav {
    pub(crate) email: String,
    pub(crate) silo: String,
    pub(crate) home_url: String,
    pub(crate) logout_url: String,
    pub(crate) csrf_field: String,
    pub(crate) csrf_value: String,
}

impl Nav {
    pub(crate) fn new(
        state: &LtiState,
        owner: &OwnerRecord,
        silo: &SiloRecord,
        csrf: &CsrfToken,
    ) -> Self {
        Self {
            email: owner.email.clone(),
            silo: silo.slug.clone(),
            home_url: state.root().join("admin/"),
            logout_url: state.root().join("admin/logout"),
            csrf_field: csrf.field().to_owned(),
            csrf_value: csrf.value().to_owned(),
        }
    }
}

/// A consumer as the pages show it (never its secret).
pub(crate) struct ConsumerView {
    pub(crate) url: String,
    pub(crate) key: String,
    pub(crate) handle: String,
    pub(crate) enabled: bool,
    pub(crate) created: String,
}

impl ConsumerView {
    pub(crate) fn new(state: &LtiState, consumer: &ConsumerRecord) -> Self {
        Self {
            url: consumer_url(state, consumer, ""),
            key: consumer.key.clone(),
            handle: consumer.handle.clone(),
            enabled: consumer.enabled,
            created: utc_time(consumer.created),
        }
    }
}

/// `<root>admin/consumers/<id>/<rest>`.
pub(crate) fn consumer_url(state: &LtiState, consumer: &ConsumerRecord, rest: &str) -> String {
    state
        .root()
        .join(&format!("admin/consumers/{}/{rest}", consumer.id.0))
}

#[derive(Template)]
#[template(path = "admin_login.html")]
pub(crate) struct LoginPage {
    pub(crate) action: String,
    pub(crate) csrf_field: String,
    pub(crate) csrf_value: String,
    pub(crate) email: String,
    pub(crate) error: Option<String>,
    pub(crate) notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_consumers.html")]
pub(crate) struct ListPage {
    pub(crate) nav: Nav,
    pub(crate) consumers: Vec<ConsumerView>,
    pub(crate) add_url: String,
    pub(crate) notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_consumer_new.html")]
pub(crate) struct NewConsumerPage {
    pub(crate) nav: Nav,
    pub(crate) action: String,
    pub(crate) handle: String,
    pub(crate) key: String,
    pub(crate) errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "admin_consumer.html")]
pub(crate) struct ConsumerPage {
    pub(crate) nav: Nav,
    pub(crate) consumer: ConsumerView,
    pub(crate) launch_url: String,
    pub(crate) handle_value: String,
    pub(crate) errors: FieldErrors,
    pub(crate) notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_secret.html")]
pub(crate) struct SecretPage {
    pub(crate) nav: Nav,
    pub(crate) heading: String,
    pub(crate) consumer: ConsumerView,
    pub(crate) secret: String,
    pub(crate) launch_url: String,
}

#[derive(Template)]
#[template(path = "admin_delete.html")]
pub(crate) struct DeletePage {
    pub(crate) nav: Nav,
    pub(crate) consumer: ConsumerView,
    pub(crate) usage: ConsumerUsage,
}

/// The bar of a signed-in owner's page.
pub(crate) fn nav(state: &LtiState, signed_in: &SignedIn, csrf: &CsrfToken) -> Nav {
    Nav::new(state, &signed_in.owner, &signed_in.silo, csrf)
}

/// The add form, empty or with errors.
pub(crate) fn new_consumer_page(
    state: &LtiState,
    signed_in: &SignedIn,
    csrf: &CsrfToken,
    status: StatusCode,
    form: &ConsumerForm,
    errors: FieldErrors,
) -> Response {
    html(
        status,
        &NewConsumerPage {
            nav: nav(state, signed_in, csrf),
            action: state.root().join("admin/consumers"),
            handle: form.handle.clone(),
            key: form.key.clone(),
            errors,
        },
    )
}

/// The page that shows a new secret, the only time it is ever shown.
pub(crate) fn secret_page(
    state: &LtiState,
    signed_in: &SignedIn,
    csrf: &CsrfToken,
    heading: &str,
    consumer: &ConsumerRecord,
    secret: String,
) -> Response {
    html(
        StatusCode::OK,
        &SecretPage {
            nav: nav(state, signed_in, csrf),
            heading: heading.to_owned(),
            consumer: ConsumerView::new(state, consumer),
            secret,
            launch_url: state.root().join("launch"),
        },
    )
}

/// What the consumer page shows besides the consumer: the handle field's
/// value, errors of a refused form, a notice after a change.
pub(crate) struct ConsumerPageExtras {
    pub(crate) handle_value: String,
    pub(crate) errors: FieldErrors,
    pub(crate) notice: Option<String>,
}

impl ConsumerPageExtras {
    /// Nothing extra: the stored handle, no errors, no notice.
    pub(crate) fn new(consumer: &ConsumerRecord) -> Self {
        Self {
            handle_value: consumer.handle.clone(),
            errors: FieldErrors::default(),
            notice: None,
        }
    }
}

/// One consumer's page (never its secret).
pub(crate) fn consumer_page(
    state: &LtiState,
    signed_in: &SignedIn,
    csrf: &CsrfToken,
    status: StatusCode,
    consumer: &ConsumerRecord,
    extras: ConsumerPageExtras,
) -> Response {
    html(
        status,
        &ConsumerPage {
            nav: nav(state, signed_in, csrf),
            consumer: ConsumerView::new(state, consumer),
            launch_url: state.root().join("launch"),
            handle_value: extras.handle_value,
            errors: extras.errors,
            notice: extras.notice,
        },
    )
}

/// An HTML response with this status.
pub(crate) fn html(status: StatusCode, template: &impl Template) -> Response {
    (status, Html(render(template))).into_response()
}

/// `YYYY-MM-DD HH:MM UTC` for unix seconds (proleptic Gregorian calendar).
pub(crate) fn utc_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let minutes = secs.rem_euclid(86_400) / 60;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_time(1_704_067_200), "2024-01-01 00:00 UTC");
        assert_eq!(utc_time(1_709_209_800), "2024-02-29 12:30 UTC");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_time(-60), "1969-12-31 23:59 UTC");
    }
}
