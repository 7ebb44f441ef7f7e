//! `SignedRequest` and `RequestSigner` through the public API: refused
//! methods and versions, missing and duplicated parameters, header-signed
//! requests, the Canvas retry, and 100 000 parameters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use lti_oauth::{
    AuthorizationHeader, ErrorClass, OAuthError, ParamSource, RequestSigner, SignatureMethod,
    SignedRequest, UrlError, body_hash, form_encode,
};

const URL: &str = "https://tool.example.com/launch";
const NONCE: &str = "nonce-1";
const TIMESTAMP: u64 = 1_700_000_000;

fn launch_params() -> Vec<(String, String)> {
    [
        ("lti_message_type", "basic-lti-launch-request"),
        ("lti_version", "LTI-1p0"),
        ("resource_link_id", "rl-1"),
        ("user_id", "u-42"),
        ("roles", "Instructor"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect()
}

fn signer() -> RequestSigner {
    RequestSigner::new("12345", "secret").with_oauth_param("oauth_callback", "about:blank")
}

fn signed_body(signer: &RequestSigner, url: &str) -> Vec<(String, String)> {
    signer
        .sign_params("POST", url, launch_params(), NONCE, TIMESTAMP)
        .unwrap()
}

fn parse(url: &str, params: &[(String, String)]) -> Result<SignedRequest, OAuthError> {
    SignedRequest::from_parts("POST", url, Some(form_encode(params).as_bytes()), None)
}

fn replace(params: &mut [(String, String)], name: &str, value: &str) {
    let slot = params.iter_mut().find(|(n, _)| n == name).unwrap();
    slot.1 = value.to_owned();
}

#[test]
fn a_signed_launch_round_trips() {
    let params = signed_body(&signer(), URL);
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[5..],
        [
            "oauth_consumer_key",
            "oauth_nonce",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_version",
            "oauth_callback",
            "oauth_signature",
        ]
    );
    let request = parse(URL, &params).unwrap();
    request.verify("secret").unwrap();
    assert_eq!(request.consumer_key(), "12345");
    assert_eq!(request.nonce(), NONCE);
    assert_eq!(request.timestamp(), "1700000000");
    assert_eq!(request.timestamp_secs(), Some(TIMESTAMP));
    assert_eq!(request.signature_method(), SignatureMethod::HmacSha1);
    assert_eq!(request.method(), "POST");
    assert_eq!(request.base_uri(), URL);
    assert_eq!(request.token(), None);
    assert_eq!(request.body_hash(), None);
    assert!(
        request
            .parameters()
            .iter()
            .all(|p| p.source() == ParamSource::Body)
    );
}

#[test]
fn hmac_sha256_round_trips_and_is_not_interchangeable() {
    let signer = signer().with_signature_method(SignatureMethod::HmacSha256);
    let mut params = signed_body(&signer, URL);
    let request = parse(URL, &params).unwrap();
    assert_eq!(request.signature_method(), SignatureMethod::HmacSha256);
    request.verify("secret").unwrap();
    replace(&mut params, "oauth_signature_method", "HMAC-SHA1");
    assert_eq!(
        parse(URL, &params).unwrap().verify("secret"),
        Err(OAuthError::InvalidSignature)
    );
}

#[test]
fn the_method_is_signed_and_upper_cased() {
    let params = signer()
        .sign_params("post", URL, launch_params(), NONCE, TIMESTAMP)
        .unwrap();
    let body = form_encode(&params);
    let request = SignedRequest::from_parts("Post", URL, Some(body.as_bytes()), None).unwrap();
    assert!(request.base_string().starts_with("POST&"));
    request.verify("secret").unwrap();
    let as_get = SignedRequest::from_parts("GET", URL, Some(body.as_bytes()), None).unwrap();
    assert_eq!(as_get.verify("secret"), Err(OAuthError::InvalidSignature));
}

#[test]
fn plaintext_rsa_and_unknown_methods_are_refused() {
    for method in [
        "PLAINTEXT",
        "RSA-SHA1",
        "RSA-SHA256",
        "HMAC-SHA512",
        "hmac-sha1",
        "x",
    ] {
        let mut params = signed_body(&signer(), URL);
        replace(&mut params, "oauth_signature_method", method);
        let err = parse(URL, &params).unwrap_err();
        assert_eq!(
            err,
            OAuthError::UnsupportedSignatureMethod {
                method: method.to_owned()
            }
        );
        assert_eq!(err.class(), ErrorClass::BadRequest);
    }
}

#[test]
fn oauth_version_must_be_1_0_when_present() {
    for version in ["1.1", "1", "1.0a", "2.0", ""] {
        let mut params = signed_body(&signer(), URL);
        replace(&mut params, "oauth_version", version);
        let err = parse(URL, &params).unwrap_err();
        assert_eq!(
            err,
            OAuthError::UnsupportedVersion {
                version: version.to_owned()
            }
        );
        assert_eq!(err.class(), ErrorClass::BadRequest);
    }
    // Absent is fine (RFC 5849 §3.1: OPTIONAL).
    let params = signed_body(&signer().without_version(), URL);
    assert!(params.iter().all(|(n, _)| n != "oauth_version"));
    parse(URL, &params).unwrap().verify("secret").unwrap();
}

#[test]
fn missing_or_empty_required_parameters_are_named() {
    for name in [
        "oauth_consumer_key",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_nonce",
        "oauth_timestamp",
    ] {
        let mut params = signed_body(&signer(), URL);
        replace(&mut params, name, "");
        let err = parse(URL, &params).unwrap_err();
        assert_eq!(err, OAuthError::MissingParameter { name });
        assert_eq!(err.class(), ErrorClass::BadRequest);
        assert!(err.to_string().contains(name));

        let mut params = signed_body(&signer(), URL);
        params.retain(|(n, _)| n != name);
        assert_eq!(
            parse(URL, &params).unwrap_err(),
            OAuthError::MissingParameter { name }
        );
    }
    assert_eq!(
        SignedRequest::from_parts("POST", URL, None, None).unwrap_err(),
        OAuthError::MissingParameter {
            name: "oauth_consumer_key"
        }
    );
}

#[test]
fn duplicated_protocol_parameters_are_rejected() {
    // Twice in the body.
    let mut params = signed_body(&signer(), URL);
    params.push(("oauth_nonce".into(), NONCE.into()));
    let err = parse(URL, &params).unwrap_err();
    assert_eq!(
        err,
        OAuthError::DuplicateProtocolParameter {
            name: "oauth_nonce".into()
        }
    );
    assert_eq!(err.class(), ErrorClass::BadRequest);

    // In the query and in the body.
    let params = signed_body(&signer(), URL);
    let err = parse(&format!("{URL}?oauth_consumer_key=12345"), &params).unwrap_err();
    assert_eq!(
        err,
        OAuthError::DuplicateProtocolParameter {
            name: "oauth_consumer_key".into()
        }
    );

    // In the header and in the body.
    let header = r#"OAuth oauth_timestamp="1700000000""#;
    let body = form_encode(&params);
    let err =
        SignedRequest::from_parts("POST", URL, Some(body.as_bytes()), Some(header)).unwrap_err();
    assert_eq!(
        err,
        OAuthError::DuplicateProtocolParameter {
            name: "oauth_timestamp".into()
        }
    );

    // The signer refuses to produce such requests.
    let mut with_signature = launch_params();
    with_signature.push(("oauth_signature".into(), "x".into()));
    assert!(matches!(
        signer().sign_params("POST", URL, with_signature, NONCE, TIMESTAMP),
        Err(OAuthError::DuplicateProtocolParameter { name }) if name == "oauth_signature"
    ));
    assert!(matches!(
        signer().sign_params("POST", &format!("{URL}?oauth_nonce=1"), launch_params(), NONCE, 1),
        Err(OAuthError::DuplicateProtocolParameter { name }) if name == "oauth_nonce"
    ));
}

#[test]
fn query_parameters_are_signed() {
    let url = "https://tool.example.com/launch?course=7&b=x+y";
    let params = signed_body(&signer(), url);
    let request = parse(url, &params).unwrap();
    request.verify("secret").unwrap();
    let sources: Vec<_> = request.parameters().iter().map(|p| p.source()).collect();
    assert_eq!(sources[..2], [ParamSource::Query, ParamSource::Query]);
    assert_eq!(request.parameters()[1].value(), "x y");
    assert_eq!(request.base_uri(), URL);
    // Dropping the query breaks the signature.
    assert_eq!(
        parse(URL, &params).unwrap().verify("secret"),
        Err(OAuthError::InvalidSignature)
    );
    // So does changing it.
    assert_eq!(
        parse("https://tool.example.com/launch?course=8&b=x+y", &params)
            .unwrap()
            .verify("secret"),
        Err(OAuthError::InvalidSignature)
    );
}

#[test]
fn a_get_launch_signed_in_the_query_verifies() {
    let params = signer()
        .sign_params("GET", URL, launch_params(), NONCE, TIMESTAMP)
        .unwrap();
    let url = format!("{URL}?{}", form_encode(&params));
    let request = SignedRequest::from_parts("GET", &url, None, None).unwrap();
    request.verify("secret").unwrap();
    assert_eq!(request.base_uri(), URL);
}

#[test]
fn canvas_query_copies_verify_only_through_the_helper() {
    // Canvas signs the body, which holds a copy of the launch URL's query,
    // counting those parameters once; the tool sees them twice.
    let mut with_query_copy = launch_params();
    with_query_copy.push(("course".into(), "7".into()));
    let params = signer()
        .sign_params("POST", URL, with_query_copy, NONCE, TIMESTAMP)
        .unwrap();
    let launch_url = format!("{URL}?course=7");
    let request = parse(&launch_url, &params).unwrap();
    assert_eq!(request.verify("secret"), Err(OAuthError::InvalidSignature));

    let retry = request.without_canvas_query_duplicates().unwrap();
    retry.verify("secret").unwrap();
    assert_eq!(retry.parameters().len(), request.parameters().len() - 1);
    assert!(
        retry
            .parameters()
            .iter()
            .all(|p| p.source() == ParamSource::Body)
    );
    assert_eq!(retry.consumer_key(), "12345");

    // A query value that differs from the body's is kept, so the retry
    // still fails rather than accepting an unsigned value.
    let request = parse(&format!("{URL}?course=8"), &params).unwrap();
    assert!(request.without_canvas_query_duplicates().is_none());
    // And a plain request has nothing to retry.
    let request = parse(URL, &signed_body(&signer(), URL)).unwrap();
    assert!(request.without_canvas_query_duplicates().is_none());
}

#[test]
fn header_signed_requests_round_trip_with_body_hash_and_query() {
    let url = "https://lms.example.edu/outcomes?x=1&y=a+b";
    let body = b"<?xml version=\"1.0\"?><imsx_POXEnvelopeRequest/>";
    let header = RequestSigner::new("key with space", "s&e=c r%t+/")
        .with_realm("https://lms.example.edu/")
        .authorization_header("POST", url, Some(&body_hash(body)), "n-1", 1_700_000_100)
        .unwrap();
    assert!(header.starts_with("OAuth realm=\"https://lms.example.edu/\", "));
    let parsed = AuthorizationHeader::parse(&header).unwrap();
    assert_eq!(parsed.realm(), Some("https://lms.example.edu/"));

    let request = SignedRequest::from_parts("POST", url, None, Some(&header)).unwrap();
    assert_eq!(request.consumer_key(), "key with space");
    request.verify("s&e=c r%t+/").unwrap();
    request.verify_body_hash(body).unwrap();
    assert_eq!(
        request.verify_body_hash(b"<other/>"),
        Err(OAuthError::BodyHashMismatch)
    );
    assert!(request.base_string().contains("x%3D1%26y%3Da%2520b"));
    assert!(!request.base_string().contains("realm"));
    let sources: Vec<_> = request.parameters().iter().map(|p| p.source()).collect();
    assert_eq!(
        sources[..3],
        [ParamSource::Query, ParamSource::Query, ParamSource::Header]
    );

    // Without a body hash, verifying one is a missing parameter.
    let header = RequestSigner::new("k", "s")
        .authorization_header("GET", url, None, "n-2", 1)
        .unwrap();
    let request = SignedRequest::from_parts("GET", url, None, Some(&header)).unwrap();
    request.verify("s").unwrap();
    assert_eq!(
        request.verify_body_hash(b""),
        Err(OAuthError::MissingParameter {
            name: "oauth_body_hash"
        })
    );
}

#[test]
fn other_authorization_schemes_are_ignored() {
    let params = signed_body(&signer(), URL);
    let body = form_encode(&params);
    let request = SignedRequest::from_parts(
        "POST",
        URL,
        Some(body.as_bytes()),
        Some("Basic dXNlcjpwYXNz"),
    )
    .unwrap();
    request.verify("secret").unwrap();
}

#[test]
fn token_secret_is_part_of_the_key() {
    let params = signed_body(&signer(), URL);
    let request = parse(URL, &params).unwrap();
    request.verify_with_token_secret("secret", "").unwrap();
    assert_eq!(
        request.verify_with_token_secret("secret", "t"),
        Err(OAuthError::InvalidSignature)
    );
}

#[test]
fn unusable_urls_are_bad_requests() {
    let params = signed_body(&signer(), URL);
    for (url, expected) in [
        ("/launch", UrlError::MissingScheme),
        ("https:///launch", UrlError::MissingHost),
        ("https://u:p@tool.example.com/launch", UrlError::UserInfo),
        (
            "https://tool.example.com:99999/launch",
            UrlError::InvalidPort,
        ),
    ] {
        let err = parse(url, &params).unwrap_err();
        assert_eq!(err, OAuthError::InvalidUrl(expected), "{url}");
        assert_eq!(err.class(), ErrorClass::BadRequest);
        assert!(
            signer()
                .sign_params("POST", url, launch_params(), NONCE, 1)
                .is_err()
        );
    }
}

#[test]
fn malformed_bodies_are_bad_requests() {
    for body in [&b"a=%zz"[..], b"a=%C3%28", b"\xff=1", b"a=%"] {
        let err = SignedRequest::from_parts("POST", URL, Some(body), None).unwrap_err();
        assert!(
            matches!(
                err,
                OAuthError::MalformedParameters {
                    origin: ParamSource::Body,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.class(), ErrorClass::BadRequest);
    }
}

#[test]
fn errors_echo_at_most_a_short_prefix_of_request_text() {
    let mut params = signed_body(&signer(), URL);
    replace(&mut params, "oauth_signature_method", &"A".repeat(100_000));
    let err = parse(URL, &params).unwrap_err();
    assert!(err.to_string().len() < 200, "{}", err.to_string().len());
}

#[test]
fn debug_output_hides_signature_and_secret() {
    let params = signed_body(&signer(), URL);
    let signature = params.last().unwrap().1.clone();
    let request = parse(URL, &params).unwrap();
    let shown = format!("{request:?}");
    assert!(!shown.contains(&signature), "{shown}");
    assert!(shown.contains("12345"));
    let shown = format!("{:?}", RequestSigner::new("key", "TOPSECRET"));
    assert!(!shown.contains("TOPSECRET"), "{shown}");
}

#[test]
fn timestamp_secs_accepts_only_digits() {
    for (timestamp, expected) in [
        ("1700000000", Some(1_700_000_000)),
        ("+1700000000", None),
        ("-1", None),
        ("17e8", None),
        ("99999999999999999999999", None),
    ] {
        let mut params = signed_body(&signer(), URL);
        replace(&mut params, "oauth_timestamp", timestamp);
        assert_eq!(
            parse(URL, &params).unwrap().timestamp_secs(),
            expected,
            "{timestamp}"
        );
    }
}

/// Builds a signed body with `count` parameters (plus the protocol ones).
fn many_params_body(count: usize) -> String {
    let params: Vec<(String, String)> = (0..count)
        .map(|i| {
            (
                format!("custom_p{}", (i * 7919) % count),
                format!("v{i} é&=+"),
            )
        })
        .collect();
    let signed = signer()
        .sign_params("POST", URL, params, NONCE, TIMESTAMP)
        .unwrap();
    form_encode(&signed)
}

#[test]
fn one_hundred_thousand_parameters_verify_quickly() {
    let body = many_params_body(100_000);
    let started = Instant::now();
    let request = SignedRequest::from_parts("POST", URL, Some(body.as_bytes()), None).unwrap();
    request.verify("secret").unwrap();
    let elapsed = started.elapsed();
    assert_eq!(request.parameters().len(), 100_000 + 7);
    // O(n log n) takes well under a second even unoptimised; a quadratic
    // step would take minutes.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn one_hundred_thousand_hostile_parameters_fail_fast() {
    // Distinct `oauth_*` names (the duplicate check must not be quadratic).
    let body: String = (0..100_000).map(|i| format!("oauth_x{i}=1&")).collect();
    let started = Instant::now();
    let err = SignedRequest::from_parts("POST", URL, Some(body.as_bytes()), None).unwrap_err();
    assert_eq!(
        err,
        OAuthError::MissingParameter {
            name: "oauth_consumer_key"
        }
    );
    // The same name 100 000 times, and empty pairs.
    let body = "oauth_nonce=1&".repeat(100_000) + &"&".repeat(100_000);
    let err = SignedRequest::from_parts("POST", URL, Some(body.as_bytes()), None).unwrap_err();
    assert!(matches!(err, OAuthError::DuplicateProtocolParameter { .. }));
    // Names without `=`.
    let body = "x&".repeat(100_000);
    assert!(SignedRequest::from_parts("POST", URL, Some(body.as_bytes()), None).is_err());
    assert!(started.elapsed() < Duration::from_secs(10));
}
