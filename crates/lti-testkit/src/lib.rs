//! # lti-testkit
//!
//! Test support for [axum-lti](axum_lti) tools, used by the framework's own
//! suites and offered to tool authors:
//!
//! * [`TestClient`] drives a `Router` in process; [`HttpClient`] does the
//!   same over real sockets. Both keep a [`CookieJar`], send a fixed
//!   User-Agent, **never follow redirects by themselves** (every hop's
//!   status, `Location` and `Set-Cookie` can be asserted, STYLE.md
//!   "Tests"), and can block cookies to exercise the cookie test's
//!   new-window path (spec §4.5).
//! * [`LaunchBuilder`] makes signed LTI launch forms.
//! * [`TestTool`] builds a complete tool on an in-memory database with a
//!   [`FixedClock`] and the consumer `12345` / `secret`.
//!
//! ```
//! use http::StatusCode;
//! use lti_testkit::TestTool;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let tool = TestTool::new().await;
//! let browser = tool.client();
//!
//! // The LMS posts the launch; the tool answers with the cookie test.
//! let launch = browser.launch(&tool.launch().roles("Instructor")).await;
//! assert_eq!(launch.status(), StatusCode::SEE_OTHER);
//! assert_eq!(launch.location_path().as_deref(), Some("/ctest"));
//! assert!(launch.cookie("sid").is_some_and(|c| c.http_only));
//!
//! // The cookies came back: on to the resource page.
//! let ctest = browser.follow(&launch).await;
//! assert_eq!(ctest.status(), StatusCode::SEE_OTHER);
//! let page = browser.follow(&ctest).await;
//! assert_eq!(page.status(), StatusCode::OK);
//! # });
//! ```

mod client;
mod cookies;
mod html;
mod launch;
mod response;
mod socket;
mod tool;
mod url;

pub use client::{DEFAULT_USER_AGENT, TestClient, form_body};
pub use cookies::{CookieJar, SetCookie};
pub use html::html_unescape;
pub use launch::{DEFAULT_LAUNCH_URL, LaunchBuilder, random_nonce};
pub use response::TestResponse;
pub use socket::{HttpClient, HttpClientError};
pub use tool::{TEST_APP_SECRET, TEST_START_TIME, TestTool, TestToolBuilder, TestToolError};

pub use lti_core::{Clock, FixedClock};
