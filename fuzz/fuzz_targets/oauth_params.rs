//! The OAuth parameter parsers of lti-oauth (RFC 5849 §3.4.1.3, §3.5.1):
//! `form_decode`, `percent_decode`, `AuthorizationHeader::parse`,
//! `collect_parameters` and `SignedRequest::from_parts` on anything.
//!
//! The input is split at `0xFF` bytes (never part of UTF-8 text) into the
//! URL query, the `Authorization` header and the body. Whatever decodes must
//! encode and decode back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lti_oauth::{
    AuthorizationHeader, SignedRequest, collect_parameters, form_decode, form_encode,
    percent_decode, percent_encode,
};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xff);
    let query = parts.next().unwrap_or_default();
    let header = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    if let Ok(pairs) = form_decode(data) {
        let encoded = form_encode(&pairs);
        let again = form_decode(encoded.as_bytes()).expect("form_encode output decodes");
        assert_eq!(again, pairs, "form pairs round-trip");
    }

    let header = std::str::from_utf8(header).ok();
    if let Some(text) = header {
        if let Ok(decoded) = percent_decode(text) {
            assert_eq!(
                percent_decode(&percent_encode(&decoded)).ok(),
                Some(decoded)
            );
        }
        assert_eq!(
            percent_decode(&percent_encode(text)).ok().as_deref(),
            Some(text)
        );
        if let Ok(parsed) = AuthorizationHeader::parse(text) {
            let printed = parsed.to_string();
            let again = AuthorizationHeader::parse(&printed).expect("a printed header parses");
            assert_eq!(again.params(), parsed.params(), "header params round-trip");
        }
    }

    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let url = format!("https://tool.example/launch?{query}");
    let _ = collect_parameters(&url, Some(body), header);
    if let Ok(request) = SignedRequest::from_parts("POST", &url, Some(body), header) {
        let _ = request.timestamp_secs();
        let _ = request.verify("secret");
        if let Some(retry) = request.without_canvas_query_duplicates() {
            let _ = retry.verify("secret");
        }
    }
});
