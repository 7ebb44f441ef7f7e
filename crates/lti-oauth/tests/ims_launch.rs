//! The IMS LTI 1.1 sample launch of spec §13.1 (Pyslet's `test_launch`,
//! signature recomputed independently).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lti_oauth::{ErrorClass, OAuthError, SignedRequest, form_encode};

const URL: &str = "http://www.example.com/launch";
const SIGNATURE: &str = "SKhxr+x4p9jVO6sFxKdpA5neDtg=";

/// The decoded body parameters listed in spec §13.1, in that order.
const PARAMS: &[(&str, &str)] = &[
    ("context_id", "456434513"),
    ("context_label", "SI182"),
    ("context_title", "Design of Personal Environments"),
    (
        "launch_presentation_css_url",
        "http://www.imsglobal.org/developers/LTI/test/v1p1/lms.css",
    ),
    ("launch_presentation_document_target", "frame"),
    ("launch_presentation_locale", "en-US"),
    (
        "launch_presentation_return_url",
        "http://www.imsglobal.org/developers/LTI/test/v1p1/lms_return.php",
    ),
    (
        "lis_outcome_service_url",
        "http://www.imsglobal.org/developers/LTI/test/v1p1/common/tool_consumer_outcome.php?b64=MTIzNDU6OjpzZWNyZXQ=",
    ),
    ("lis_person_contact_email_primary", "user@school.edu"),
    ("lis_person_name_family", "Public"),
    ("lis_person_name_full", "Jane Q. Public"),
    ("lis_person_name_given", "Given"),
    ("lis_person_sourcedid", "school.edu:user"),
    ("lis_result_sourcedid", "feb-123-456-2929::28883"),
    ("lti_message_type", "basic-lti-launch-request"),
    ("lti_version", "LTI-1p0"),
    ("oauth_callback", "about:blank"),
    ("oauth_consumer_key", "12345"),
    ("oauth_nonce", "45f32b44e314244a222d0e070fa55384"),
    ("oauth_signature", SIGNATURE),
    ("oauth_signature_method", "HMAC-SHA1"),
    ("oauth_timestamp", "1420370306"),
    ("oauth_version", "1.0"),
    ("resource_link_description", "A weekly blog."),
    ("resource_link_id", "120988f929-274612"),
    ("resource_link_title", "Weekly Blog"),
    ("roles", "Instructor"),
    ("tool_consumer_info_product_family_code", "ims"),
    ("tool_consumer_info_version", "1.1"),
    (
        "tool_consumer_instance_description",
        "University of School (LMSng)",
    ),
    ("tool_consumer_instance_guid", "lmsng.school.edu"),
    ("user_id", "292832126"),
];

/// The body as the consumer sends it: form-encoded with `%20` for spaces.
fn body_of(params: &[(&str, &str)]) -> String {
    form_encode(params)
}

fn launch(url: &str, params: &[(&str, &str)]) -> Result<SignedRequest, OAuthError> {
    SignedRequest::from_parts("POST", url, Some(body_of(params).as_bytes()), None)
}

fn verify(url: &str, params: &[(&str, &str)], secret: &str) -> Result<(), OAuthError> {
    launch(url, params)?.verify(secret)
}

#[test]
fn the_sample_launch_verifies_with_the_known_signature() {
    let body = body_of(PARAMS);
    assert!(body.contains("context_title=Design%20of%20Personal%20Environments"));
    let request = launch(URL, PARAMS).unwrap();
    request.verify("secret").unwrap();
    assert_eq!(
        lti_oauth::sign(
            request.signature_method(),
            request.base_string(),
            "secret",
            ""
        ),
        SIGNATURE
    );
    assert_eq!(request.consumer_key(), "12345");
    assert_eq!(request.nonce(), "45f32b44e314244a222d0e070fa55384");
    assert_eq!(request.timestamp_secs(), Some(1_420_370_306));
    assert_eq!(request.parameters().len(), PARAMS.len());
}

#[test]
fn the_sample_launch_also_verifies_with_plus_for_spaces() {
    // What a browser form posts: the same parameters, `+` for spaces.
    let body = body_of(PARAMS).replace("%20", "+");
    let request = SignedRequest::from_parts("POST", URL, Some(body.as_bytes()), None).unwrap();
    request.verify("secret").unwrap();
}

#[test]
fn changing_any_single_parameter_fails() {
    for (index, &(name, value)) in PARAMS.iter().enumerate() {
        let changed_value = format!("{value}x");
        let mut params = PARAMS.to_vec();
        params[index] = (name, &changed_value);
        let result = verify(URL, &params, "secret");
        assert!(result.is_err(), "changing {name} must fail");
        match name {
            "oauth_signature_method" => assert!(matches!(
                result,
                Err(OAuthError::UnsupportedSignatureMethod { .. })
            )),
            "oauth_version" => {
                assert!(matches!(result, Err(OAuthError::UnsupportedVersion { .. })))
            }
            _ => assert_eq!(result, Err(OAuthError::InvalidSignature), "{name}"),
        }
    }
}

#[test]
fn changing_a_value_by_one_character_or_case_fails() {
    let mut params = PARAMS.to_vec();
    let position = params.iter().position(|(n, _)| *n == "roles").unwrap();
    params[position] = ("roles", "instructor");
    assert_eq!(
        verify(URL, &params, "secret"),
        Err(OAuthError::InvalidSignature)
    );
}

#[test]
fn adding_a_parameter_fails() {
    let mut params = PARAMS.to_vec();
    params.push(("custom_value", "X"));
    assert_eq!(
        verify(URL, &params, "secret"),
        Err(OAuthError::InvalidSignature)
    );
    // Even an empty one: it adds `custom_value=` to the base string.
    let mut params = PARAMS.to_vec();
    params.insert(3, ("custom_value", ""));
    assert_eq!(
        verify(URL, &params, "secret"),
        Err(OAuthError::InvalidSignature)
    );
    // And a repeated ordinary parameter.
    let mut params = PARAMS.to_vec();
    params.push(("roles", "Instructor"));
    assert_eq!(
        verify(URL, &params, "secret"),
        Err(OAuthError::InvalidSignature)
    );
}

#[test]
fn removing_any_single_parameter_fails() {
    for (index, &(name, _)) in PARAMS.iter().enumerate() {
        let mut params = PARAMS.to_vec();
        params.remove(index);
        let result = verify(URL, &params, "secret");
        match name {
            "oauth_consumer_key"
            | "oauth_signature"
            | "oauth_signature_method"
            | "oauth_nonce"
            | "oauth_timestamp" => {
                assert_eq!(result, Err(OAuthError::MissingParameter { name }));
                assert_eq!(result.unwrap_err().class(), ErrorClass::BadRequest);
            }
            _ => assert_eq!(result, Err(OAuthError::InvalidSignature), "removing {name}"),
        }
    }
}

#[test]
fn another_secret_fails() {
    for secret in ["", "Secret", "secret ", "secret&", "12345"] {
        let err = verify(URL, PARAMS, secret).unwrap_err();
        assert_eq!(err, OAuthError::InvalidSignature, "{secret:?}");
        assert_eq!(err.class(), ErrorClass::Unauthorized);
    }
}

#[test]
fn another_url_fails() {
    for url in [
        "https://www.example.com/launch",
        "http://www.example.com:8080/launch",
        "http://example.com/launch",
        "http://www.example.com/launch/",
        "http://www.example.com/Launch",
        "http://www.example.com/launch?x=1",
    ] {
        assert_eq!(
            verify(url, PARAMS, "secret"),
            Err(OAuthError::InvalidSignature),
            "{url}"
        );
    }
    // Equivalent spellings of the signed URL still verify (RFC 5849 §3.4.1.2).
    for url in [
        "HTTP://WWW.EXAMPLE.COM/launch",
        "http://www.example.com:80/launch",
        "http://www.example.com/launch#fragment",
    ] {
        verify(url, PARAMS, "secret").unwrap();
    }
}
