//! [`TestResponse`]: a response with its body read, and assertion helpers.

use axum::body::Bytes;
use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderMap, StatusCode};

use crate::cookies::SetCookie;
use crate::html;

/// A response received by a test client, body read into memory.
///
/// ```
/// use http::{HeaderMap, StatusCode, header};
/// use lti_testkit::TestResponse;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::LOCATION, "http://localhost:8080/ctest?return=x&s=y".parse().unwrap());
/// headers.append(header::SET_COOKIE, "ctest=0; Path=/; Max-Age=8640000".parse().unwrap());
/// let response = TestResponse::new(StatusCode::SEE_OTHER, headers, "");
/// assert_eq!(response.location_path(), Some("/ctest".to_owned()));
/// assert_eq!(response.location_param("s").as_deref(), Some("y"));
/// assert_eq!(response.cookie("ctest").and_then(|c| c.max_age), Some(8_640_000));
/// ```
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    /// A response from its parts.
    pub fn new(status: StatusCode, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers,
            body: body.into(),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of a header, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.header(LOCATION.as_str())
    }

    /// The path of the `Location` (scheme, host and query removed).
    pub fn location_path(&self) -> Option<String> {
        let (path, _) = crate::url::split_target(self.location()?);
        Some(
            path.split_once('?')
                .map_or(path.clone(), |(p, _)| p.to_owned()),
        )
    }

    /// The decoded query parameters of the `Location`, in order.
    pub fn location_query(&self) -> Vec<(String, String)> {
        let Some(location) = self.location() else {
            return Vec::new();
        };
        match location.split_once('?') {
            Some((_, query)) => {
                let query = query.split('#').next().unwrap_or_default();
                form_urlencoded::parse(query.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            }
            None => Vec::new(),
        }
    }

    /// The first decoded query parameter of this name in the `Location`.
    pub fn location_param(&self, name: &str) -> Option<String> {
        self.location_query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The raw `Set-Cookie` lines, in order.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The last `Set-Cookie` of this response for a cookie name, parsed.
    pub fn cookie(&self, name: &str) -> Option<SetCookie> {
        self.set_cookies()
            .iter()
            .filter_map(|line| SetCookie::parse(line))
            .rfind(|c| c.name == name)
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `href` of the element with this `id` in an HTML body, with
    /// character references decoded, e.g. the cookie test page's
    /// `wlaunch` link.
    pub fn link_by_id(&self, id: &str) -> Option<String> {
        html::attribute_of_id(&self.text(), id, "href")
    }

    /// Any attribute of the element with this `id` in an HTML body,
    /// decoded.
    pub fn attribute_by_id(&self, id: &str, attribute: &str) -> Option<String> {
        html::attribute_of_id(&self.text(), id, attribute)
    }

    /// The value of the first `<input>` whose `name` is `name`, decoded
    /// (for hidden form fields such as the CSRF token).
    pub fn input_value(&self, name: &str) -> Option<String> {
        html::input_value(&self.text(), name)
    }
}
