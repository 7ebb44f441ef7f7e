//! The IMS test-consumer launch of spec §13.1, posted byte for byte to
//! `/launch` of a tool whose canonical root is `http://www.example.com`
//! and whose clock stands at 1420370306.

mod common;

use common::{assert_status, field, info_page};
use http::StatusCode;
use lti_testkit::{TestClient, TestTool};

const NOW: i64 = 1_420_370_306;

/// The decoded body parameters of spec §13.1, in the order listed there.
const VECTOR: &[(&str, &str)] = &[
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
    ("oauth_signature", "SKhxr+x4p9jVO6sFxKdpA5neDtg="),
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

/// The vector's body, percent-encoded as the IMS consumer sends it (`%20`
/// for spaces).
fn body() -> String {
    lti_oauth::form_encode(VECTOR)
}

async fn tool_with_consumer(key: &str) -> TestTool {
    TestTool::builder()
        .with_canonical_root("http://www.example.com")
        .with_time(NOW)
        .with_consumer(key, "secret")
        .with_routes(common::info_routes())
        .build()
        .await
}

#[test]
fn the_body_uses_percent_20_for_spaces() {
    let body = body();
    assert!(body.contains("context_title=Design%20of%20Personal%20Environments"));
    assert!(body.contains("oauth_signature=SKhxr%2Bx4p9jVO6sFxKdpA5neDtg%3D"));
}

#[tokio::test]
async fn the_ims_launch_is_accepted_and_grants_instructor_permissions() {
    let tool = tool_with_consumer("12345").await;
    let browser: TestClient = tool.client();
    let launch = browser.post_form("/launch", body()).await;
    assert_status(&launch, StatusCode::SEE_OTHER);
    let location = launch.location().expect("a Location");
    assert!(
        location.starts_with("http://www.example.com/ctest?"),
        "{location}"
    );
    let target = launch.location_param("return").expect("return");
    assert!(
        target.starts_with("http://www.example.com/resource/"),
        "{target}"
    );

    let ctest = browser.follow(&launch).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    assert_eq!(ctest.location(), Some(target.as_str()));

    let page = browser.follow(&ctest).await;
    assert_status(&page, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("Jane Q. Public"), "{text}");
    assert!(text.contains("Weekly Blog"), "{text}");
    assert!(text.contains("Design of Personal Environments"), "{text}");

    let info = info_page(&browser, &target).await;
    assert_status(&info, StatusCode::OK);
    assert_eq!(field(&info, "permissions"), "7");
    assert_eq!(field(&info, "user_id"), "292832126");
    assert_eq!(field(&info, "link_id"), "120988f929-274612");
    assert_eq!(field(&info, "context"), "456434513");
    assert_eq!(field(&info, "display_name"), "Jane Q. Public");
}

#[tokio::test]
async fn the_ims_launch_cannot_be_replayed() {
    let tool = tool_with_consumer("12345").await;
    let first = tool.client().post_form("/launch", body()).await;
    assert_status(&first, StatusCode::SEE_OTHER);
    let replay = tool.client().post_form("/launch", body()).await;
    assert_status(&replay, StatusCode::UNAUTHORIZED);
    assert!(
        replay.set_cookies().is_empty(),
        "{:?}",
        replay.set_cookies()
    );
    // Still refused 89 minutes later, when the timestamp is also stale.
    tool.clock().advance(89 * 60);
    let late = tool.client().post_form("/launch", body()).await;
    assert_status(&late, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_modified_ims_body_is_refused() {
    let tool = tool_with_consumer("12345").await;
    let response = tool
        .client()
        .post_form("/launch", format!("{}&custom_value=X", body()))
        .await;
    assert_status(&response, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_ims_launch_with_only_another_consumer_is_refused() {
    let tool = tool_with_consumer("54321").await;
    let response = tool.client().post_form("/launch", body()).await;
    assert_status(&response, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_ims_launch_is_refused_under_another_canonical_root() {
    // The signed URL is the canonical root's, never the Host header's.
    let tool = TestTool::builder()
        .with_canonical_root("https://www.example.com")
        .with_time(NOW)
        .build()
        .await;
    let response = tool
        .client()
        .request(
            http::Method::POST,
            "http://www.example.com/launch",
            &[("content-type", "application/x-www-form-urlencoded")],
            body(),
        )
        .await;
    assert_status(&response, StatusCode::UNAUTHORIZED);
}
