//! Reading request bodies within the configured limit.

use axum::body::{Body, Bytes};
use http::HeaderMap;
use http::header::CONTENT_LENGTH;

use crate::error::LtiRejection;

/// Reads a whole body of at most `limit` bytes: a larger declared or
/// actual length is 413, a body that breaks off is 400.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, LtiRejection> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(LtiRejection::PayloadTooLarge { limit });
    }
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let too_large = std::error::Error::source(&err)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>())
            || err.to_string().contains("length limit");
        if too_large {
            LtiRejection::PayloadTooLarge { limit }
        } else {
            LtiRejection::BadRequest("The request body could not be read completely.".into())
        }
    })
}
