//! Sessions in a signed cookie, the cookie test and CSRF protection
//! (spec §4; DESIGN.md §3 "Sessions").

mod cookie_test;
mod cookies;
mod csrf;
mod data;
mod handle;
mod layer;

pub(crate) use cookie_test::{ctest, redirect_via_cookie_test, see_other, wlaunch};
pub(crate) use cookies::CookiePolicy;
pub use csrf::{CSRF_HEADER, CsrfToken};
pub(crate) use data::{SessionData, fuzz_cookie};
pub(crate) use handle::RawSession;
pub use handle::Session;
pub use layer::{SessionLayer, SessionService};
