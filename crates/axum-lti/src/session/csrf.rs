//! CSRF protection (DESIGN.md §3 "Sessions", fixing W-9: the token is an
//! HMAC of the session id under a key derived for CSRF, never the id).
//!
//! Every POST, PUT, PATCH and DELETE through the session layer (except
//! `/launch`, which is OAuth-signed) must carry the token of the session in
//! its signed cookie, in the form field `csrftoken` (configurable) or the
//! `X-CSRF-Token` header. Forms get the token from the [`CsrfToken`]
//! extractor.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::FromRequestParts;
use http::request::Parts;
use http::{Request, header};
use lti_core::MacPurpose;

use super::Session;
use crate::error::LtiRejection;
use crate::state::LtiState;

/// The header that may carry the CSRF token instead of a form field.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The token for a session id.
pub(crate) fn token_for(state: &LtiState, session_id: &str) -> String {
    state
        .cipher()
        .sign(MacPurpose::Csrf, session_id.as_bytes(), state.now())
        .to_string()
}

/// The CSRF token of the current session, for hidden form fields.
///
/// The token is computed when first asked for ([`value`](Self::value),
/// [`hidden_input`](Self::hidden_input)), so a page that shows no form
/// this time pays nothing for it. Asking creates a session when there is
/// none, so a form shown to a new visitor carries a token that matches the
/// cookie the response sets.
///
/// ```no_run
/// use axum_lti::CsrfToken;
/// async fn form(token: CsrfToken) -> String {
///     format!(r#"<form method="post"><input type="hidden" name="{}" value="{}"></form>"#,
///         token.field(), token.value())
/// }
/// ```
#[derive(Clone)]
pub struct CsrfToken {
    state: LtiState,
    session: Session,
    value: OnceLock<String>,
}

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfToken")
            .field("field", &self.field())
            .finish_non_exhaustive()
    }
}

impl CsrfToken {
    /// The form field name (`csrftoken` unless configured otherwise).
    pub fn field(&self) -> &str {
        &self.state.settings().session.csrf_field
    }

    /// The token of the session (created if there is none).
    pub fn value(&self) -> &str {
        self.value
            .get_or_init(|| token_for(&self.state, &self.session.id()))
    }

    /// The token of `session`, for a handler that already holds the
    /// session.
    pub(crate) fn for_session(state: &LtiState, session: &Session) -> Self {
        Self {
            state: state.clone(),
            session: session.clone(),
            value: OnceLock::new(),
        }
    }

    /// A hidden input element carrying the token.
    pub fn hidden_input(&self) -> String {
        format!(
            r#"<input type="hidden" name="{}" value="{}">"#,
            self.field(),
            self.value()
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let lti = LtiState::from_extensions(&parts.extensions)?;
        Ok(Self::for_session(&lti, &session))
    }
}

/// Checks the token of a state-changing request against the session in its
/// signed cookie (signature checked, age not: spec §4.4). Returns the
/// request, its body restored, when the token matches.
pub(crate) async fn check_csrf(
    state: &LtiState,
    session: &Session,
    request: Request<Body>,
) -> Result<Request<Body>, LtiRejection> {
    let Some(cookie_session) = session.incoming() else {
        return Err(LtiRejection::Csrf);
    };
    let (parts, body) = request.into_parts();
    let header_token = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    let (token, body) = match header_token {
        Some(token) => (Some(token), body),
        None if is_form => {
            let limit = state.settings().server.body_limit;
            let bytes = crate::body::read_limited(&parts.headers, body, limit).await?;
            let field = &state.settings().session.csrf_field;
            let token = form_urlencoded::parse(&bytes)
                .find(|(name, _)| name == field.as_str())
                .map(|(_, value)| value.into_owned());
            (token, Body::from(bytes))
        }
        None => (None, body),
    };
    let valid = token.is_some_and(|token| {
        state
            .cipher()
            .verify_text(MacPurpose::Csrf, cookie_session.id.as_bytes(), token.trim())
    });
    if valid {
        Ok(Request::from_parts(parts, body))
    } else {
        tracing::warn!(path = parts.uri.path(), "CSRF token missing or wrong");
        Err(LtiRejection::Csrf)
    }
}
