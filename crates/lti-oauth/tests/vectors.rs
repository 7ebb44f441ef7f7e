//! Known-answer tests against `vectors/oauth1.json`, produced by an
//! independent implementation (oauthlib 4.0.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;

use lti_oauth::{
    ErrorClass, OAuthError, SignatureMethod, SignedRequest, body_hash, sign, verify_body_hash,
};
use serde::Deserialize;

/// The copy kept in this crate, so a clean checkout without `../shared`
/// still runs every vector.
const VECTORS: &str = include_str!("vectors/oauth1.json");

#[derive(Deserialize)]
struct Vectors {
    launch: Vec<LaunchVector>,
    body_hash: Vec<BodyHashVector>,
}

#[derive(Deserialize)]
struct LaunchVector {
    name: String,
    method: String,
    url: String,
    content_type: String,
    body: String,
    consumer_key: String,
    consumer_secret: String,
    signature_method: String,
    expected_base_string: Option<String>,
    expected_signature: Option<String>,
    valid: bool,
    why_invalid: Option<String>,
}

#[derive(Deserialize)]
struct BodyHashVector {
    name: String,
    method: String,
    url: String,
    content_type: String,
    body: String,
    authorization: String,
    consumer_key: String,
    consumer_secret: String,
    expected_body_hash: String,
    expected_base_string: String,
    expected_signature: String,
    valid: bool,
}

fn vectors() -> Vectors {
    serde_json::from_str(VECTORS).expect("the vector file is valid JSON of the known shape")
}

fn form_body<'a>(content_type: &str, body: &'a str) -> Option<&'a [u8]> {
    content_type
        .starts_with("application/x-www-form-urlencoded")
        .then_some(body.as_bytes())
}

#[test]
fn vector_copy_is_identical_to_shared() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/oauth1.json");
    match std::fs::read(&shared) {
        Ok(bytes) => assert!(
            bytes == VECTORS.as_bytes(),
            "crates/lti-oauth/tests/vectors/oauth1.json differs from {}: copy it again",
            shared.display()
        ),
        Err(err) => {
            // Written straight to stderr so the test harness does not
            // swallow it: a skipped comparison must be visible.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! lti-oauth: {} not readable ({err}).\n\
                 !!! The local copy of the OAuth vectors was NOT compared with the shared one.\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
                shared.display()
            );
        }
    }
}

#[test]
fn the_vector_file_has_what_these_tests_expect() {
    let vectors = vectors();
    assert!(vectors.launch.iter().filter(|v| v.valid).count() >= 11);
    assert!(vectors.launch.iter().filter(|v| !v.valid).count() >= 4);
    assert!(!vectors.body_hash.is_empty());
}

#[test]
fn valid_launch_vectors_verify_with_the_expected_base_string_and_signature() {
    for v in vectors().launch.iter().filter(|v| v.valid) {
        let name = &v.name;
        let request =
            SignedRequest::from_parts(&v.method, &v.url, form_body(&v.content_type, &v.body), None)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected_base = v.expected_base_string.as_deref().unwrap();
        assert_eq!(request.base_string(), expected_base, "{name}: base string");
        assert_eq!(request.consumer_key(), v.consumer_key, "{name}");
        assert_eq!(
            request.signature_method(),
            v.signature_method.parse::<SignatureMethod>().unwrap(),
            "{name}"
        );
        let signature = sign(
            request.signature_method(),
            expected_base,
            &v.consumer_secret,
            "",
        );
        assert_eq!(
            Some(signature.as_str()),
            v.expected_signature.as_deref(),
            "{name}: signature"
        );
        request
            .verify(&v.consumer_secret)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Some vectors carry the signature percent-encoded in the body; the
        // parameter list holds it decoded.
        let sent = request
            .parameters()
            .iter()
            .find(|p| p.name() == "oauth_signature")
            .map(|p| p.value());
        assert_eq!(sent, v.expected_signature.as_deref(), "{name}");
    }
}

#[test]
fn invalid_launch_vectors_are_rejected_for_their_stated_reason() {
    let vectors = vectors();
    for v in vectors.launch.iter().filter(|v| !v.valid) {
        let name = v.name.as_str();
        let request =
            SignedRequest::from_parts(&v.method, &v.url, form_body(&v.content_type, &v.body), None)
                .unwrap_or_else(|e| panic!("{name}: well formed, so it parses: {e}"));
        let err = request.verify(&v.consumer_secret).unwrap_err();
        assert_eq!(err, OAuthError::InvalidSignature, "{name}");
        assert_eq!(err.class(), ErrorClass::Unauthorized, "{name}");
        assert!(v.why_invalid.is_some(), "{name} says why it is invalid");

        match name {
            // The signature in the body is honest over the original
            // request; the request we got is not that request.
            "tampered-param-value" | "tampered-added-param" => {
                let original = v.expected_base_string.as_deref().unwrap();
                assert_ne!(request.base_string(), original, "{name}");
                assert_eq!(
                    Some(
                        sign(SignatureMethod::HmacSha1, original, &v.consumer_secret, "").as_str()
                    ),
                    v.expected_signature.as_deref(),
                    "{name}"
                );
            }
            // The request is intact; only the secret differs.
            "wrong-secret" => {
                assert_eq!(
                    Some(request.base_string()),
                    v.expected_base_string.as_deref(),
                    "{name}"
                );
            }
            // The same body verifies at the URL it was signed for.
            "signed-for-other-url" => {
                let signed_url = v.url.replace("/launch2", "/launch");
                let at_signed_url = SignedRequest::from_parts(
                    &v.method,
                    &signed_url,
                    form_body(&v.content_type, &v.body),
                    None,
                )
                .unwrap();
                at_signed_url.verify(&v.consumer_secret).unwrap();
                assert_eq!(
                    Some(
                        sign(
                            SignatureMethod::HmacSha1,
                            at_signed_url.base_string(),
                            &v.consumer_secret,
                            ""
                        )
                        .as_str()
                    ),
                    v.expected_signature.as_deref()
                );
            }
            // A vector added later: rejection (above) is all we can check.
            _ => {}
        }
    }
}

#[test]
fn body_hash_vectors_reproduce_hash_base_string_and_signature() {
    for v in vectors().body_hash {
        let name = &v.name;
        assert!(v.valid, "{name}");
        assert!(!v.content_type.contains("x-www-form-urlencoded"), "{name}");
        assert_eq!(body_hash(v.body.as_bytes()), v.expected_body_hash, "{name}");

        // Not a form body: only the URL query and the header are signed.
        let request = SignedRequest::from_parts(&v.method, &v.url, None, Some(&v.authorization))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(request.base_string(), v.expected_base_string, "{name}");
        assert_eq!(request.consumer_key(), v.consumer_key, "{name}");
        assert_eq!(
            request.body_hash(),
            Some(v.expected_body_hash.as_str()),
            "{name}"
        );
        assert_eq!(
            sign(
                request.signature_method(),
                &v.expected_base_string,
                &v.consumer_secret,
                ""
            ),
            v.expected_signature,
            "{name}"
        );
        request.verify(&v.consumer_secret).unwrap();
        request.verify_body_hash(v.body.as_bytes()).unwrap();
        verify_body_hash(v.body.as_bytes(), &v.expected_body_hash).unwrap();

        // A changed body no longer matches its hash (the signature still
        // does: it covers the hash, not the body).
        let changed = v.body.replace("0.92", "0.99");
        assert_ne!(changed, v.body, "{name}: the edit must change something");
        assert_eq!(
            request.verify_body_hash(changed.as_bytes()),
            Err(OAuthError::BodyHashMismatch),
            "{name}"
        );
        assert!(request.verify("other").is_err(), "{name}");
    }
}
