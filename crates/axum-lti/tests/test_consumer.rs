//! The built-in test consumer (`/dev/`): its form, the signed launch page
//! it makes, and that the launch goes through the normal `/launch` to the
//! resource page.

mod common;

use common::assert_status;
use http::StatusCode;
use lti_testkit::{TestClient, TestResponse, TestTool, form_body, html_unescape};

async fn dev_tool() -> TestTool {
    TestTool::builder()
        .configure(|settings| settings.server.dev = true)
        .build()
        .await
}

/// The hidden inputs of the form with id `launch`, in order.
fn launch_form_params(page: &TestResponse) -> Vec<(String, String)> {
    let html = page.text();
    let start = html.find(r#"<form id="launch""#).expect("a launch form");
    let end = start + html[start..].find("</form>").expect("the form ends");
    html[start..end]
        .split(r#"<input type="hidden" name=""#)
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once('"').expect("a name");
            let value = rest
                .split_once(r#"value=""#)
                .and_then(|(_, v)| v.split_once('"'))
                .map(|(v, _)| v)
                .expect("a value");
            (html_unescape(name), html_unescape(value))
        })
        .collect()
}

async fn signed_launch(browser: &TestClient, fields: &[(&str, &str)]) -> TestResponse {
    let form = browser.get("/dev/").await;
    assert_status(&form, StatusCode::OK);
    let token = form
        .input_value("csrftoken")
        .expect("the form has a CSRF token");
    let mut pairs = vec![("csrftoken", token.as_str())];
    pairs.extend_from_slice(fields);
    let page = browser.post_form("/dev/launch", &form_body(&pairs)).await;
    assert_status(&page, StatusCode::OK);
    page
}

#[tokio::test]
async fn the_test_consumer_is_not_mounted_by_default() {
    let tool = TestTool::new().await;
    let response = tool.client().get("/dev/").await;
    assert_status(&response, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_form_lists_the_enabled_consumers() {
    let tool = dev_tool().await;
    tool.add_consumer("disabled-key", "a disabled secret")
        .await
        .expect("a second consumer");
    tool.set_consumer_enabled("disabled-key", false)
        .await
        .expect("disabled");
    let page = tool.client().get("/dev/").await;
    assert_status(&page, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(r#"<option value="12345">"#), "{html}");
    assert!(
        !html.contains("disabled-key"),
        "disabled consumers are not offered"
    );
}

#[tokio::test]
async fn a_launch_from_the_test_consumer_reaches_the_resource_page() {
    let tool = dev_tool().await;
    let browser = tool.client();
    let page = signed_launch(
        &browser,
        &[
            ("consumer", "12345"),
            ("user_id", "u-9"),
            ("given", "Grace"),
            ("family", "Hopper"),
            ("roles", "Instructor"),
            ("context_id", "c-1"),
            ("context_title", "Compilers"),
            ("resource_link_id", "r-1"),
            ("resource_link_title", "Lecture 1"),
            ("custom", "Chapter = 3\nmode=edit"),
            ("target", "iframe"),
        ],
    )
    .await;
    let html = page.text();
    assert!(html.contains(r#"target="tool""#), "iframe target");
    assert!(
        html.contains(
            r#"<pre id="base-string">POST&amp;http%3A%2F%2Flocalhost%3A8080%2Flaunch&amp;"#
        ) || html.contains(
            r#"<pre id="base-string">POST&#38;http%3A%2F%2Flocalhost%3A8080%2Flaunch&#38;"#
        ),
        "the base string is shown"
    );
    assert!(
        !html.contains(">secret<"),
        "the consumer secret is never shown"
    );

    let params = launch_form_params(&page);
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "lti_message_type",
        "resource_link_id",
        "user_id",
        "roles",
        "custom_chapter",
        "custom_mode",
        "oauth_signature",
        "oauth_nonce",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    // The browser submits the form to the tool's normal /launch.
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let launch = browser.post_form("/launch", &form_body(&pairs)).await;
    assert_status(&launch, StatusCode::SEE_OTHER);
    let ctest = browser.follow(&launch).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    let resource = browser.follow(&ctest).await;
    assert_status(&resource, StatusCode::OK);
    let text = resource.text();
    assert!(text.contains("Grace Hopper"), "{text}");
    assert!(text.contains("Compilers"), "{text}");
    assert!(text.contains("READ|WRITE|CONFIGURE (7)"), "{text}");

    // Submitting the same signed form again is a replay.
    let replay = browser.post_form("/launch", &form_body(&pairs)).await;
    assert_status(&replay, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_learner_launch_in_a_new_window_gets_read_only() {
    let tool = dev_tool().await;
    let browser = tool.client();
    let page = signed_launch(
        &browser,
        &[
            ("consumer", "12345"),
            ("user_id", "s-1"),
            ("roles", "Learner"),
            ("resource_link_id", "r-2"),
            ("target", "window"),
        ],
    )
    .await;
    assert!(page.text().contains(r#"target="_blank""#));
    let params = launch_form_params(&page);
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let launch = browser.post_form("/launch", &form_body(&pairs)).await;
    let ctest = browser.follow(&launch).await;
    let resource = browser.follow(&ctest).await;
    assert_status(&resource, StatusCode::OK);
    assert!(resource.text().contains("READ (1)"));
}

#[tokio::test]
async fn the_test_consumer_refuses_unknown_consumers_and_needs_csrf() {
    let tool = dev_tool().await;
    let browser = tool.client();
    let form = browser.get("/dev/").await;
    let token = form.input_value("csrftoken").expect("a CSRF token");
    let unknown = browser
        .post_form(
            "/dev/launch",
            &form_body(&[("csrftoken", &token), ("consumer", "nope")]),
        )
        .await;
    assert_status(&unknown, StatusCode::BAD_REQUEST);
    assert!(unknown.text().contains("No consumer has the key"));
    let no_token = browser
        .post_form("/dev/launch", &form_body(&[("consumer", "12345")]))
        .await;
    assert_status(&no_token, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_return_page_shows_the_tools_messages() {
    let tool = dev_tool().await;
    let page = tool
        .client()
        .get("/dev/return?lti_errormsg=Something%20failed&lti_log=log&other=x")
        .await;
    assert_status(&page, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Something failed"));
    assert!(html.contains("lti_log"));
    assert!(!html.contains("other"));
}
