//! # axum-lti
//!
//! A batteries-included framework for LTI 1.x tool providers on axum.
//!
//! An LMS (Moodle, Canvas, Blackboard…) launches a tool with an OAuth-signed
//! form POST. axum-lti verifies it (RFC 5849 signature, timestamp, nonce,
//! LTI message checks), records the consumer, context, resource, user and a
//! visit, sends the browser through a cookie test that works inside LMS
//! iframes, and hands the tool author's handlers a [`Visit`]: the user,
//! course, resource and permissions, and nothing else to worry about.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use axum_lti::{Settings, ToolProviderApp, Visit};
//!
//! async fn page(visit: Visit) -> String {
//!     format!("Hello {}, your permissions are {}", visit.display_name(), visit.permissions())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tool = ToolProviderApp::new(Settings::default())
//!     .with_app_secret("a long random application secret")
//!     .build()
//!     .await?;
//! let app = tool.router(Router::new().route("/resource/{id}/", get(page)));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! Most tools use the command line instead, which adds settings files, the
//! database, `--create-silo`, admin commands and graceful shutdown: see
//! [`cli`].

mod admin;
mod app;
mod body;
mod cartridge;
pub mod cli;
mod dev;
mod embed;
mod error;
mod launch;
mod pages;
mod proxy;
mod root;
mod session;
mod settings;
mod state;
mod visit;

#[cfg(test)]
mod testing;

pub use admin::{OwnerPasswordError, hash_owner_password};
pub use app::{APP_SECRET_ENV, StartError, ToolProvider, ToolProviderApp};
pub use cartridge::cartridge_xml;
pub use error::LtiRejection;
pub use launch::Launch;
pub use pages::{
    CookieFailurePage, CookieTestPage, DefaultPages, ErrorPage, Pages, ResourcePage, render,
};
pub use root::{AppRoot, RootError};
pub use session::{CSRF_HEADER, CsrfToken, Session, SessionLayer, SessionService};
pub use settings::{
    DatabaseSettings, KeySettings, LaunchSettings, MaintenanceSettings, ServerSettings,
    SessionSettings, Settings, SettingsError, SiloSettings,
};
pub use state::LtiState;
pub use visit::Visit;

/// Fuzzing entry point of the session-cookie parser (`fuzz/`): not part
/// of the API. Panics only on a bug, never on bad input.
#[doc(hidden)]
pub fn fuzz_session_cookie(data: &[u8]) {
    session::fuzz_cookie(data);
}

/// Test hook: how many launch signatures the current thread has verified
/// (HMAC computations, including the dummy one for unknown keys). Not part
/// of the API.
#[doc(hidden)]
pub fn launch_signature_checks_on_this_thread() -> u64 {
    launch::signature_checks_on_this_thread()
}

/// Benchmark hook (`benches/pages.rs`): the signed cookie of an established
/// session with `payload`, as the session layer writes it. Not part of the
/// API.
#[doc(hidden)]
pub fn bench_session_cookie(
    cipher: &lti_core::AppCipher,
    payload: &[(&str, &str)],
    now: i64,
) -> String {
    let mut data = session::SessionData::new(now);
    data.established = true;
    for (key, value) in payload {
        data.payload.insert((*key).to_owned(), (*value).to_owned());
    }
    data.to_cookie(cipher, now)
}

/// Benchmark hook (`benches/pages.rs`): verifies and parses a session
/// cookie value exactly as the session layer does on every request. Not
/// part of the API.
#[doc(hidden)]
pub fn bench_verify_session_cookie(value: &str, cipher: &lti_core::AppCipher) -> bool {
    session::SessionData::from_cookie(value, cipher).is_some()
}

/// The LTI vocabulary: launch parameters, roles, permissions, records.
pub use lti_core as core;

pub use askama;
pub use axum;
pub use lti_core::{
    Clock, ConsumerRecord, ContextRecord, FixedClock, LaunchParams, PermissionModel, Permissions,
    ResourceId, ResourceRecord, Role, RoleList, SystemClock, UserRecord,
};
