//! Rejections and their HTTP responses, in one place.
//!
//! Every refusal the framework makes is an [`LtiRejection`] variant with a
//! deliberate status and a page that says what was wrong. The response
//! carries the [`ErrorPage`] in its extensions so the session layer can
//! render it with the tool's own [`Pages`](crate::Pages) and log it:
//! warn for client and security failures, error for server faults.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use lti_core::StoreError;

use crate::pages::{DefaultPages, ErrorPage, Pages};

/// Seconds a client is told to wait when the database is unavailable.
pub(crate) const RETRY_AFTER_SECS: u32 = 5;

/// Why the framework refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LtiRejection {
    /// The URL names no page (also: a malformed resource id, spec §6.3).
    #[error("not found")]
    NotFound,
    /// This browser session has no visit for the resource (spec §6.3).
    #[error("no visit for this resource in this session")]
    NoVisit,
    /// The visit lacks a permission the page needs.
    #[error("permission denied")]
    NoPermission,
    /// Not an error: the request must first go elsewhere (the cookie test,
    /// or the consumer's return URL with an `lti_errormsg`).
    #[error("redirect")]
    Redirect(Box<Response>),
    /// A state-changing request without the right CSRF token.
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// The method is not allowed here.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The methods that are.
        allow: &'static str,
    },
    /// The body is larger than `server.body_limit`.
    #[error("request body over {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body has the wrong media type.
    #[error("unsupported media type: {found}")]
    UnsupportedMediaType {
        /// What was expected.
        expected: &'static str,
        /// What came.
        found: String,
    },
    /// A malformed request, with what was wrong.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A launch refused (RFC 5849 §3.2 statuses: 400 or 401).
    #[error("launch refused ({status}): {message}")]
    Launch {
        /// 400 or 401.
        status: StatusCode,
        /// What was wrong.
        message: String,
        /// The launch doctor's findings, when shown.
        doctor: Option<Vec<(String, String)>>,
    },
    /// The database is unavailable; try again shortly.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The session layer is not installed in front of this route.
    #[error("the axum-lti session layer is missing: mount routes through ToolProviderApp")]
    MissingLayer,
    /// A fault on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for LtiRejection {
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() {
            Self::Unavailable(err.to_string())
        } else {
            Self::Internal(err.to_string())
        }
    }
}

impl LtiRejection {
    /// The HTTP status of this rejection.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::NoVisit | Self::NoPermission | Self::Csrf => StatusCode::FORBIDDEN,
            Self::Redirect(response) => response.status(),
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Launch { status, .. } => *status,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::MissingLayer | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The page shown to the person. Server faults never show their cause.
    pub fn page(&self) -> ErrorPage {
        let (title, message): (&str, String) = match self {
            Self::NotFound => ("Page not found", "There is no page at this address.".into()),
            Self::NoVisit => (
                "Not allowed",
                "This browser session has not launched this resource, or the session has \
                 ended. Launch the tool again from your course."
                    .into(),
            ),
            Self::NoPermission => (
                "Not allowed",
                "Your role in this course does not allow this.".into(),
            ),
            Self::Redirect(_) => ("Redirect", "Continue to the next page.".into()),
            Self::Csrf => (
                "Form expired",
                "This form could not be accepted: its security token is missing or does not \
                 match your session. Reload the page and try again."
                    .into(),
            ),
            Self::MethodNotAllowed { allow } => (
                "Method not allowed",
                format!("This address only accepts {allow} requests."),
            ),
            Self::PayloadTooLarge { limit } => (
                "Request too large",
                format!("The request body is larger than the {limit} bytes this tool accepts."),
            ),
            Self::UnsupportedMediaType { expected, found } => (
                "Unsupported content type",
                format!("Expected a body of type {expected}, got {found}."),
            ),
            Self::BadRequest(message) => ("Bad request", message.clone()),
            Self::Launch { message, .. } => ("Launch refused", message.clone()),
            Self::Unavailable(_) => (
                "Temporarily unavailable",
                "The tool cannot reach its database right now. Please try again in a few \
                 seconds."
                    .into(),
            ),
            Self::MissingLayer | Self::Internal(_) => (
                "Something went wrong",
                "The tool failed to handle this request. The problem has been logged.".into(),
            ),
        };
        let doctor = match self {
            Self::Launch { doctor, .. } => doctor.clone(),
            _ => None,
        };
        ErrorPage {
            status: self.status().as_u16(),
            title: title.into(),
            message,
            doctor,
        }
    }
}

impl IntoResponse for LtiRejection {
    fn into_response(self) -> Response {
        if let Self::Redirect(response) = self {
            return *response;
        }
        let page = self.page();
        let mut response = error_response(&DefaultPages, &page);
        match &self {
            Self::MethodNotAllowed { allow } => {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            Self::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            _ => {}
        }
        response.extensions_mut().insert(RejectionLog {
            status: page.status,
            reason: self.to_string(),
        });
        response.extensions_mut().insert(page);
        response
    }
}

/// What the logging step of the session layer records about a rejection.
#[derive(Debug, Clone)]
pub(crate) struct RejectionLog {
    pub(crate) status: u16,
    pub(crate) reason: String,
}

/// An HTML error response for a page, rendered with `pages`.
pub(crate) fn error_response(pages: &dyn Pages, page: &ErrorPage) -> Response {
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, pages.error(page)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Re-renders a rejection's page with the tool's own pages and logs it.
pub(crate) fn finish_rejection(pages: &dyn Pages, path: &str, response: Response) -> Response {
    let Some(log) = response.extensions().get::<RejectionLog>().cloned() else {
        return response;
    };
    if log.status >= 500 {
        tracing::error!(status = log.status, path, reason = %log.reason, "request failed");
    } else {
        tracing::warn!(status = log.status, path, reason = %log.reason, "request refused");
    }
    let Some(page) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    let body = pages.error(&page);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// An error response the framework did not render — axum's own 405 for a
/// method a route does not serve, the plain-text refusal of an axum
/// extractor (`Form`, `Path`, `Query`, `Json`) in a handler, a bare
/// `StatusCode` — becomes the error page of its status, with the refusal's
/// text (when short) as the message; a server error's text is logged, never
/// shown. So no refusal reaches a person as an empty or plain-text page.
pub(crate) async fn page_for_bare_error(
    pages: &dyn Pages,
    path: &str,
    response: Response,
) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<RejectionLog>().is_some()
    {
        return response;
    }
    let empty = axum::body::HttpBody::size_hint(response.body()).exact() == Some(0);
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("text/plain"));
    if !(empty || plain) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = if empty {
        String::new()
    } else {
        axum::body::to_bytes(body, 2048)
            .await
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
            .unwrap_or_default()
    };
    let title = status.canonical_reason().unwrap_or("Error");
    let message = if status.is_server_error() {
        tracing::error!(status = status.as_u16(), path, reason = %text, "request failed");
        "The tool failed to handle this request. The problem has been logged.".to_owned()
    } else {
        tracing::warn!(status = status.as_u16(), path, reason = %text, "request refused");
        match status {
            _ if !text.is_empty() => text,
            StatusCode::METHOD_NOT_ALLOWED => {
                "This address does not accept this kind of request.".to_owned()
            }
            StatusCode::NOT_FOUND => "There is no page at this address.".to_owned(),
            _ => format!(
                "The request could not be served ({} {title}).",
                status.as_u16()
            ),
        }
    };
    let page = ErrorPage {
        status: status.as_u16(),
        title: title.to_owned(),
        message,
        doctor: None,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, axum::body::Body::from(pages.error(&page)))
}
