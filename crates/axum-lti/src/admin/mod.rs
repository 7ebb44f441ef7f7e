//! The admin console under `<root>admin/`: owners log in with an email and
//! a password and manage their silo's consumers (spec §10.4, Pyslet's
//! `MultiTenantTPApp`, with its bugs QN-2..QN-6 and QN-8 fixed).
//!
//! Mounted by [`ToolProviderApp::with_admin`](crate::ToolProviderApp::with_admin),
//! the `server.admin` setting or `--admin`. Owner accounts are made by the
//! `owners add` command; without one nobody can log in.
//!
//! | Path | What |
//! |---|---|
//! | `GET/POST admin/login` | the login form; 5 failures per account (20 per address) in 15 minutes → 429 |
//! | `POST admin/logout` | ends every admin session of the owner |
//! | `GET admin/` | the silo's consumers |
//! | `GET admin/consumers/new`, `POST admin/consumers` | add one; the secret is shown once |
//! | `GET admin/consumers/{id}/` | one consumer |
//! | `POST admin/consumers/{id}/handle`, `…/secret`, `…/enabled` | change it |
//! | `GET/POST admin/consumers/{id}/delete` | confirm, then delete (cascades) |
//! | `GET admin/consumers/{id}/config.xml` | the tool configuration to import |
//!
//! Every other page answers 303 to the login page without a login. Every
//! POST needs the CSRF token (the session layer checks it). Responses are
//! `Cache-Control: no-store` and may not be framed.

mod auth;
mod consumers;
mod forms;
mod limiter;
pub(crate) mod password;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::Extension;
use axum::response::Response;
use axum::routing::{any, get, post};
use http::{HeaderValue, header};

pub(crate) use limiter::LoginLimiter;
pub use password::{OwnerPasswordError, hash_owner_password};

/// The admin console's routes, relative to the application root.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(limiter: Arc<LoginLimiter>) -> Router<S> {
    Router::new()
        .route("/admin", get(auth::to_console))
        .route("/admin/", get(consumers::list))
        .route("/admin/login", get(auth::login_form).post(auth::login))
        .route("/admin/logout", post(auth::logout))
        .route("/admin/consumers", post(consumers::create))
        .route("/admin/consumers/new", get(consumers::new_form))
        .route("/admin/consumers/{id}/", get(consumers::show))
        .route("/admin/consumers/{id}/handle", post(consumers::set_handle))
        .route("/admin/consumers/{id}/secret", post(consumers::set_secret))
        .route(
            "/admin/consumers/{id}/enabled",
            post(consumers::set_enabled),
        )
        .route(
            "/admin/consumers/{id}/delete",
            get(consumers::confirm_delete).post(consumers::delete),
        )
        .route(
            "/admin/consumers/{id}/config.xml",
            get(consumers::config_xml),
        )
        .route("/admin/{*rest}", any(auth::unknown))
        .layer(Extension(limiter))
        .layer(axum::middleware::map_response(console_headers))
}

/// Admin pages hold keys and, once, secrets: never cached, never framed
/// (clickjacking), no scripts. A header a handler set is kept.
async fn console_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
