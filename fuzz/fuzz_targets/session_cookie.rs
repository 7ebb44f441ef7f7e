//! The session cookie parser of axum-lti (`SessionData::from_cookie` and
//! `decode`, session/data.rs): anything as a cookie value, as a session
//! string, and as a properly signed session string, so the parser behind
//! the MAC check is reached. What parses must re-encode to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    axum_lti::fuzz_session_cookie(data);
});
