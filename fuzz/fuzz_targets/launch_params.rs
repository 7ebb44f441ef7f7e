//! The launch parameter parser (lti-core `LaunchParams` and
//! `check_basic_launch`, spec §5.4): a form body decoded as the launch
//! route does, then every accessor and check. Nothing may panic, and a
//! return URL is only ever an absolute http(s) URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lti_core::{LaunchParams, is_absolute_http_url};

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = lti_oauth::form_decode(data) else {
        return;
    };
    let params = LaunchParams::new(pairs).without_signature();
    let _ = params.check_basic_launch();
    let _ = params.looks_like_lti13();
    let _ = params.roles();
    let _ = params.context_type();
    let _ = params.role_scope_mentor();
    let _ = params.display_name();
    let _ = params.launch_presentation_width();
    let _ = params.launch_presentation_height();
    if let Some(url) = params.launch_presentation_return_url() {
        assert!(is_absolute_http_url(url), "{url:?}");
        assert!(!url.contains(['\r', '\n', '\0']), "{url:?}");
    }
    // Prefixes are matched ignoring ASCII case (Moodle keeps the case).
    let has_prefix = |name: &str, prefix: &str| {
        name.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    for (name, _) in params.custom_params() {
        assert!(has_prefix(name, "custom_"), "{name}");
    }
    for (name, _) in params.ext_params() {
        assert!(has_prefix(name, "ext_"), "{name}");
    }
    let _ = params.custom_and_ext_params().count();
    let _ = (
        params.resource_link_id(),
        params.user_id(),
        params.context_id(),
    );
    assert!(params.get("oauth_signature").is_none());
});
