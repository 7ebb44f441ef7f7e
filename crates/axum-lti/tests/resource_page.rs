//! The default resource page (spec §6.4) and resource URLs (spec §6.3):
//! malformed paths are 404, resources this session did not launch are 403
//! whether they exist or not.

mod common;

use common::{assert_status, launch_and_open};
use http::StatusCode;
use lti_testkit::{TestTool, html_unescape};

#[tokio::test]
async fn the_default_page_greets_by_display_name_and_shows_permissions() {
    let tool = TestTool::new().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .person_name("Jane Q. Public")
        .param("lis_person_name_given", "Given")
        .roles("Instructor")
        .param("resource_link_title", "Weekly Blog")
        .context_id("c-1")
        .param("context_title", "Design of Personal Environments");
    let page = launch_and_open(&browser, &launch).await;
    let response = browser.get(&page).await;
    assert_status(&response, StatusCode::OK);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        response.header("content-type")
    );
    let text = html_unescape(&response.text());
    assert!(text.starts_with("<!DOCTYPE html>"), "{text}");
    assert!(text.contains("Congratulations Jane Q. Public,"), "{text}");
    assert!(text.contains("<title>Weekly Blog"), "{text}");
    assert!(text.contains("Design of Personal Environments"), "{text}");
    assert!(text.contains("(7)"), "permissions bits: {text}");
    assert!(text.contains("resource-1"), "the link id: {text}");
}

#[tokio::test]
async fn display_names_fall_back_in_order() {
    let tool = TestTool::new().await;
    for (index, (launch, expected)) in [
        (
            tool.launch()
                .param("lis_person_name_given", "Ada")
                .param("lis_person_name_family", "Lovelace"),
            "Congratulations Ada Lovelace,",
        ),
        (
            tool.launch().param("lis_person_name_given", "Ada"),
            "Congratulations Ada,",
        ),
        (
            tool.launch()
                .param("lis_person_contact_email_primary", "ada@example.edu"),
            "Congratulations ada@example.edu,",
        ),
        (tool.launch(), "Congratulations, you"),
        (tool.launch().remove("user_id"), "Congratulations, you"),
    ]
    .into_iter()
    .enumerate()
    {
        // One user per case, so names stored by earlier cases stay out.
        let launch = if launch.unsigned_params().iter().any(|(n, _)| n == "user_id") {
            launch.user_id(format!("user-{index}"))
        } else {
            launch
        };
        let browser = tool.client();
        let page = launch_and_open(&browser, &launch).await;
        let text = html_unescape(&browser.get(&page).await.text());
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

#[tokio::test]
async fn a_resource_without_title_is_named_by_its_link_id() {
    let tool = TestTool::new().await;
    let browser = tool.client();
    let page = launch_and_open(&browser, &tool.launch().resource_link_id("rl-77")).await;
    let text = browser.get(&page).await.text();
    assert!(text.contains("Resource: rl-77"), "{text}");
}

#[tokio::test]
async fn resource_urls_use_upper_case_hex_ids_of_at_least_8_digits() {
    let tool = TestTool::new().await;
    let browser = tool.client();
    let page = launch_and_open(&browser, &tool.launch()).await;
    let id = page
        .strip_prefix("http://localhost:8080/resource/")
        .and_then(|rest| rest.strip_suffix('/'))
        .expect("a resource URL");
    assert!(id.len() >= 8, "{id}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
        "{id}"
    );
    // The id is case-insensitive in URLs.
    let lower = page.replace(id, &id.to_ascii_lowercase());
    if lower != page {
        assert_status(&browser.get(&lower).await, StatusCode::OK);
    }
}

#[tokio::test]
async fn malformed_resource_paths_are_not_found() {
    let tool = TestTool::new().await;
    let browser = tool.client();
    launch_and_open(&browser, &tool.launch()).await;
    for path in [
        "/resource/XYZ/",
        "/resource/0000ABCD",
        "/resource/",
        "/resource",
        "/resource//",
        "/resource/-1/",
        "/resource/0x10/",
        "/resource/00000000000000000000000000ABCD/",
        "/nothing/here",
    ] {
        let response = browser.get(path).await;
        assert_status(&response, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_well_formed_unknown_id_is_forbidden() {
    let tool = TestTool::new().await;
    let browser = tool.client();
    let page = launch_and_open(&browser, &tool.launch()).await;
    let response = browser.get("/resource/0000ABCD/").await;
    assert_status(&response, StatusCode::FORBIDDEN);
    assert!(
        response.text().contains("Not allowed"),
        "{}",
        response.text()
    );
    assert_status(
        &browser.get("/resource/0000ABCD/deeper/page").await,
        StatusCode::FORBIDDEN,
    );
    // An existing resource launched by another browser: the same answer.
    let other = tool.client();
    let response = other.get(&page).await;
    // Without the test cookie the browser is first sent through the test.
    assert_status(&response, StatusCode::SEE_OTHER);
    let ctest = other.follow(&response).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    assert_eq!(ctest.location(), Some(page.as_str()));
    assert_status(&other.follow(&ctest).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_resource_page_without_cookies_goes_through_the_cookie_test() {
    let tool = TestTool::new().await;
    let browser = tool.client();
    let response = browser.get("/resource/0000ABCD/notes?x=1").await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(response.location_path().as_deref(), Some("/ctest"));
    assert_eq!(
        response.location_param("return").as_deref(),
        Some("http://localhost:8080/resource/0000ABCD/notes?x=1")
    );
    // POST without the test cookie is refused outright (no redirect of a
    // form submission), after the CSRF check.
    let response = browser.post_form("/resource/0000ABCD/", "a=1").await;
    assert_status(&response, StatusCode::FORBIDDEN);
}
