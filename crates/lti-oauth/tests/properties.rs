//! Property tests: signing and verifying agree on arbitrary Unicode, any
//! change breaks verification, and no parser panics on any input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lti_oauth::{
    AuthorizationHeader, OAuthError, RequestSigner, SignatureMethod, SignedRequest,
    base_string_uri, collect_parameters, form_decode, form_encode, percent_decode, percent_encode,
};
use proptest::prelude::*;
use proptest::sample::Index;

const URL: &str = "https://tool.example.com/launch";

/// Non-protocol parameters with arbitrary Unicode names and values.
fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            any::<String>().prop_filter("not a protocol name", |n| !n.starts_with("oauth_")),
            any::<String>(),
        ),
        0..12,
    )
}

fn method() -> impl Strategy<Value = SignatureMethod> {
    prop_oneof![
        Just(SignatureMethod::HmacSha1),
        Just(SignatureMethod::HmacSha256)
    ]
}

/// Text made of the characters parsers care about, to reach their corners.
fn tricky_text() -> impl Strategy<Value = String> {
    "[%&=+;,\" \\\\a-fA-F0-9oauth_:/?#@\\[\\]é☃\u{0}\t]{0,40}"
}

fn sign(
    method: SignatureMethod,
    url: &str,
    secret: &str,
    params: &[(String, String)],
) -> Vec<(String, String)> {
    RequestSigner::new("key", secret)
        .with_signature_method(method)
        .sign_params("POST", url, params.to_vec(), "nonce", 1_700_000_000)
        .unwrap()
}

fn verify(url: &str, secret: &str, params: &[(String, String)]) -> Result<(), OAuthError> {
    let body = form_encode(params);
    SignedRequest::from_parts("POST", url, Some(body.as_bytes()), None)?.verify(secret)
}

proptest! {
    #[test]
    fn form_signing_round_trips(
        params in params(),
        secret in any::<String>(),
        method in method(),
    ) {
        let signed = sign(method, URL, &secret, &params);
        prop_assert_eq!(verify(URL, &secret, &signed), Ok(()));
        // The decoded parameters are exactly what was signed.
        let body = form_encode(&signed);
        let request = SignedRequest::from_parts("POST", URL, Some(body.as_bytes()), None).unwrap();
        let got: Vec<(String, String)> = request
            .parameters()
            .iter()
            .map(|p| (p.name().to_owned(), p.value().to_owned()))
            .collect();
        prop_assert_eq!(got, signed);
    }

    #[test]
    fn header_signing_round_trips_with_query(
        query in params(),
        secret in any::<String>(),
        key in any::<String>().prop_filter("non-empty", |k| !k.is_empty()),
        body in any::<Vec<u8>>(),
    ) {
        let url = if query.is_empty() {
            URL.to_owned()
        } else {
            format!("{URL}?{}", form_encode(&query))
        };
        let hash = lti_oauth::body_hash(&body);
        let header = RequestSigner::new(key.clone(), secret.clone())
            .authorization_header("PUT", &url, Some(&hash), "n", 42)
            .unwrap();
        let request = SignedRequest::from_parts("PUT", &url, None, Some(&header)).unwrap();
        prop_assert_eq!(request.consumer_key(), key.as_str());
        prop_assert_eq!(request.verify(&secret), Ok(()));
        prop_assert_eq!(request.verify_body_hash(&body), Ok(()));
    }

    #[test]
    fn changing_one_value_fails(
        params in params().prop_filter("at least one", |p| !p.is_empty()),
        which in any::<Index>(),
        new_value in any::<String>(),
        method in method(),
    ) {
        let mut signed = sign(method, URL, "secret", &params);
        let index = which.index(params.len());
        prop_assume!(signed[index].1 != new_value);
        signed[index].1 = new_value;
        prop_assert_eq!(verify(URL, "secret", &signed), Err(OAuthError::InvalidSignature));
    }

    #[test]
    fn changing_the_url_fails(
        params in params(),
        path in "[a-zA-Z0-9._~%/-]{0,20}",
        method in method(),
    ) {
        let other = format!("{URL}/{path}");
        let signed = sign(method, URL, "secret", &params);
        prop_assert_eq!(verify(&other, "secret", &signed), Err(OAuthError::InvalidSignature));
        let signed = sign(method, &other, "secret", &params);
        prop_assert_eq!(verify(&other, "secret", &signed), Ok(()));
    }

    #[test]
    fn changing_the_secret_fails(
        params in params(),
        secret in any::<String>(),
        other in any::<String>(),
        method in method(),
    ) {
        prop_assume!(secret != other);
        let signed = sign(method, URL, &secret, &params);
        prop_assert_eq!(verify(URL, &other, &signed), Err(OAuthError::InvalidSignature));
    }

    #[test]
    fn percent_encoding_round_trips(text in any::<String>()) {
        let encoded = percent_encode(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        prop_assert_eq!(percent_decode(&encoded), Ok(text));
    }

    #[test]
    fn form_decode_never_panics(bytes in any::<Vec<u8>>()) {
        let _ = form_decode(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_tricky_text(text in tricky_text()) {
        let _ = form_decode(text.as_bytes());
        let _ = percent_decode(&text);
        let _ = base_string_uri(&text);
        let _ = AuthorizationHeader::parse(&text);
        let _ = AuthorizationHeader::parse(&format!("OAuth {text}"));
        let _ = collect_parameters(&format!("http://h/?{text}"), Some(text.as_bytes()), None);
        let _ = SignedRequest::from_parts("POST", &format!("http://{text}"), None, None);
    }

    #[test]
    fn from_parts_never_panics(
        method in any::<String>(),
        url in any::<String>(),
        body in prop::option::of(any::<Vec<u8>>()),
        header in prop::option::of(any::<String>()),
    ) {
        let _ = SignedRequest::from_parts(&method, &url, body.as_deref(), header.as_deref());
        if let Some(header) = header {
            let _ = AuthorizationHeader::parse(&header);
            let _ = AuthorizationHeader::parse(&format!("OAuth {header}"));
        }
        let _ = base_string_uri(&url);
    }
}
