//! Response headers for a tool that lives inside LMS iframes.
//!
//! * `Content-Security-Policy: frame-ancestors …` from
//!   `server.frame_ancestors`: which sites may frame the tool. The default
//!   `*` allows any LMS (what browsers do without the header), so a tool
//!   works the moment an administrator adds it; production sites should
//!   list their LMS origins. Never `X-Frame-Options: DENY`: a tool that
//!   cannot be framed cannot be launched inside a course page.
//! * `X-Content-Type-Options: nosniff`.
//! * `Referrer-Policy` from `server.referrer_policy`
//!   (`strict-origin-when-cross-origin` by default: the LMS sees the tool's
//!   origin, never its resource URLs).
//!
//! A header the tool's handler set itself is left alone, so one page can
//! have a policy of its own.

use axum::response::Response;
use http::{HeaderName, HeaderValue, header};

use crate::settings::{ServerSettings, SettingsError};

/// The `Referrer-Policy` tokens browsers know (W3C Referrer Policy §3).
const REFERRER_POLICIES: &[&str] = &[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];

/// Checks `server.frame_ancestors` and `server.referrer_policy`.
pub(crate) fn check_settings(server: &ServerSettings) -> Result<(), SettingsError> {
    for source in &server.frame_ancestors {
        let ok = !source.is_empty()
            && source
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"'));
        if !ok {
            return Err(SettingsError::Invalid {
                key: "server.frame_ancestors",
                reason: format!(
                    "{source:?} is not a CSP source such as https://lms.example.edu, *.example.edu, \
                     'self' or *"
                ),
            });
        }
    }
    let policy = server.referrer_policy.as_str();
    if !policy.is_empty() && !REFERRER_POLICIES.contains(&policy) {
        return Err(SettingsError::Invalid {
            key: "server.referrer_policy",
            reason: format!(
                "{policy:?} is not a referrer policy; use one of {} or \"\"",
                REFERRER_POLICIES.join(", ")
            ),
        });
    }
    Ok(())
}

/// The headers every response gets unless the handler set them.
#[derive(Debug, Clone)]
pub(crate) struct EmbedHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl EmbedHeaders {
    /// From checked settings (values that cannot be headers are left out).
    pub(crate) fn new(server: &ServerSettings) -> Self {
        let mut headers = vec![(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        )];
        if !server.frame_ancestors.is_empty() {
            let csp = format!("frame-ancestors {}", server.frame_ancestors.join(" "));
            if let Ok(value) = HeaderValue::from_str(&csp) {
                headers.push((header::CONTENT_SECURITY_POLICY, value));
            }
        }
        if let Ok(value) = HeaderValue::from_str(&server.referrer_policy)
            && !server.referrer_policy.is_empty()
        {
            headers.push((header::REFERRER_POLICY, value));
        }
        Self { headers }
    }

    /// Adds the headers the response does not have yet.
    pub(crate) fn apply(&self, mut response: Response) -> Response {
        let target = response.headers_mut();
        for (name, value) in &self.headers {
            if !target.contains_key(name) {
                target.insert(name.clone(), value.clone());
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn defaults_allow_any_lms_to_frame() {
        let headers = EmbedHeaders::new(&Settings::default().server);
        let response = headers.apply(Response::new(axum::body::Body::empty()));
        let h = response.headers();
        assert_eq!(h["content-security-policy"], "frame-ancestors *");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(!h.contains_key("x-frame-options"));
    }

    #[test]
    fn configured_origins_and_handler_headers() {
        let s = Settings::from_json(
            r#"{"server": {"frame_ancestors": ["'self'", "https://canvas.example.edu"],
                           "referrer_policy": ""}}"#,
        )
        .expect("valid");
        let headers = EmbedHeaders::new(&s.server);
        let mut own = Response::new(axum::body::Body::empty());
        own.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("custom"),
        );
        let response = headers.apply(own);
        let h = response.headers();
        assert_eq!(
            h["content-security-policy"],
            "frame-ancestors 'self' https://canvas.example.edu"
        );
        assert_eq!(h["x-content-type-options"], "custom");
        assert!(!h.contains_key("referrer-policy"));

        let s = Settings::from_json(r#"{"server": {"frame_ancestors": []}}"#).expect("valid");
        let response = EmbedHeaders::new(&s.server).apply(Response::new(axum::body::Body::empty()));
        assert!(!response.headers().contains_key("content-security-policy"));
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            r#"{"server": {"frame_ancestors": ["https://a.edu; script-src *"]}}"#,
            r#"{"server": {"frame_ancestors": ["https://a.edu https://b.edu"]}}"#,
            r#"{"server": {"frame_ancestors": [""]}}"#,
            r#"{"server": {"referrer_policy": "always"}}"#,
            r#"{"server": {"trusted_proxies": ["proxy.local"]}}"#,
        ] {
            assert!(Settings::from_json(bad).is_err(), "{bad} accepted");
        }
    }
}
