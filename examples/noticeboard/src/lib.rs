//! # noticeboard
//!
//! The port of Pyslet's noticeboard sample (spec §10) to axum-lti: every
//! course (LTI context) that adds the tool gets a board of notices.
//!
//! ```text
//! cargo run -p noticeboard -- --create-silo -m
//! ```
//!
//! * Everyone launched with READ sees the course's notices, most recently
//!   changed first, with the author's name and the time.
//! * Anyone with READ who launched as a named user posts notices (a title of
//!   up to 64 characters, a description of up to 256), checked before
//!   anything is stored (spec QN-9).
//! * Authors edit their own notices; authors and anyone with WRITE
//!   (instructors) delete them, after a confirmation page.
//! * A launch with no READ (no role) sees nothing: 403 (spec QN-1, where
//!   Pyslet let any visit read and post).
//! * A link launched outside a course says that notices need one.
//!
//! Routes, all below `/resource/{id}/` except the first two: `/` (about),
//! `/static/noticeboard.css`, `/resource/{id}/` (the board and the form),
//! `add` (`GET` form, `POST`), `edit?id=` and `delete?id=` (`GET` form or
//! confirmation, `POST`). Every form carries the session's CSRF token, and
//! every successful `POST` answers `303 See Other` back to the board.
//!
//! The notices live in a table of the tool's own, `notices`, referencing
//! the framework's `contexts` and `users` (deleting a consumer deletes its
//! courses, users and so their notices). Its migrations
//! ([`MIGRATIONS`], `migrations/sqlite` and `migrations/postgres`) are
//! numbered from [`lti_store::TOOL_MIGRATIONS_START`] and run after the
//! framework's at start-up; the queries use the pools of the framework's
//! database ([`axum_lti::LtiState::db`]).
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     axum_lti::cli::run_with(noticeboard::configure, |_tool| noticeboard::routes()).await
//! }
//! ```

mod assets;
mod form;
mod handlers;
mod notices;
mod pages;

use axum::Router;
use axum::routing::get;
use axum_lti::ToolProviderApp;
use lti_store::ToolMigrations;
use sqlx::migrate::Migrator;

pub use form::{CheckedNotice, DESCRIPTION_MAX, FieldErrors, IdParam, NoticeInput, TITLE_MAX};
pub use notices::{NewNotice, Notice, NoticeId, Notices, display_name};

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The noticeboard's own migrations (the `notices` table), for both
/// backends.
pub static MIGRATIONS: ToolMigrations = ToolMigrations::new(&SQLITE_MIGRATOR, &POSTGRES_MIGRATOR);

/// Configures the framework for the noticeboard: its migrations run after
/// the framework's when the database is opened, and the admin console
/// (`/admin/`) manages consumers — the part of Pyslet's multi-tenant
/// noticeboard (spec §10.4) that this port leaves to the framework. Create
/// an owner with `noticeboard owners add --silo testing --email …`.
pub fn configure(app: ToolProviderApp) -> ToolProviderApp {
    app.with_migrations(MIGRATIONS).with_admin()
}

/// The noticeboard's routes, for [`axum_lti::ToolProvider::router`]. They
/// need the framework's database ([`axum_lti::ToolProvider::db`]): build
/// the tool with [`configure`] and let it open the database (or give it one
/// with `ToolProviderApp::with_db`).
pub fn routes() -> Router {
    use handlers::{
        add, add_form, delete, delete_page, edit, edit_form_page, home, index, method_not_allowed,
        not_found,
    };
    Router::new()
        .route("/", get(home).fallback(method_not_allowed("GET")))
        .route(
            "/static/noticeboard.css",
            get(assets::stylesheet).fallback(method_not_allowed("GET")),
        )
        .route(
            "/resource/{id}/",
            get(index).fallback(method_not_allowed("GET")),
        )
        .route(
            "/resource/{id}/add",
            get(add_form)
                .post(add)
                .fallback(method_not_allowed("GET, POST")),
        )
        .route(
            "/resource/{id}/edit",
            get(edit_form_page)
                .post(edit)
                .fallback(method_not_allowed("GET, POST")),
        )
        .route(
            "/resource/{id}/delete",
            get(delete_page)
                .post(delete)
                .fallback(method_not_allowed("GET, POST")),
        )
        .route("/resource/{id}/{*rest}", axum::routing::any(not_found))
}
