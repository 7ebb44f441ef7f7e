//! The stylesheet, served by the tool itself: no external assets.
//!
//! Pages link `static/noticeboard.css?v=<hash of its content>`; that URL
//! changes with the content, so it may be cached for a year. Any other URL
//! of it is revalidated with its `ETag`.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};

/// The stylesheet.
const STYLESHEET: &str = include_str!("../static/noticeboard.css");

/// FNV-1a (64 bits) of the stylesheet: its version in URLs and its ETag.
const VERSION: u64 = fnv1a(STYLESHEET.as_bytes());

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The path of the stylesheet within the app, with its version.
pub(crate) fn stylesheet_path() -> String {
    format!("static/noticeboard.css?v={VERSION:016x}")
}

/// `GET /static/noticeboard.css`: `text/css`, cached for a year under its
/// versioned URL, revalidated (`304`) otherwise.
pub(crate) async fn stylesheet(uri: Uri, request_headers: HeaderMap) -> Response {
    let etag = format!("\"{VERSION:016x}\"");
    let versioned = uri.query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes())
            .any(|(name, value)| name == "v" && value == format!("{VERSION:016x}"))
    });
    // The same for everyone: this handler never touches the session, so
    // the session layer adds no cookie and shared caches may keep it.
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, no-cache"
    };
    let matches = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        STYLESHEET.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
