//! CSRF protection of state-changing requests (DESIGN.md §3 "Sessions",
//! spec §4.4 with W-9 fixed): POST, PUT, PATCH and DELETE of session routes
//! need the session's token in the `csrftoken` field or the `X-CSRF-Token`
//! header; `/launch` is exempt (it is OAuth-signed).

mod common;

use axum::Router;
use axum::routing::{get, post};
use axum_lti::{CsrfToken, Session, Visit};
use common::{assert_status, field, info_page, session_id};
use http::{Method, StatusCode};
use lti_testkit::{TestClient, TestTool, form_body};

async fn form(visit: Visit, token: CsrfToken) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!DOCTYPE html><title>{}</title><form method=\"post\">{}<input name=\"note\"></form>",
        visit.title(),
        token.hidden_input()
    ))
}

async fn save(visit: Visit, method: Method) -> String {
    format!("{method} saved for {}", visit.resource().link_id)
}

async fn note(session: Session) -> String {
    session.insert("note", "kept");
    "noted".to_owned()
}

async fn read_note(session: Session) -> String {
    session.get("note").unwrap_or_default()
}

async fn tool() -> TestTool {
    TestTool::builder()
        .with_routes(
            Router::new()
                .route(
                    "/resource/{id}/form",
                    get(form).post(save).put(save).patch(save).delete(save),
                )
                .route("/notes", post(note).get(read_note))
                .merge(common::info_routes()),
        )
        .build()
        .await
}

/// Launches, opens the form and returns (form URL, token).
async fn open_form(tool: &TestTool, browser: &TestClient) -> (String, String) {
    let page = common::launch_and_open(browser, &tool.launch()).await;
    let url = format!("{page}form");
    let response = browser.get(&url).await;
    assert_status(&response, StatusCode::OK);
    let token = response
        .input_value("csrftoken")
        .expect("a csrftoken field");
    (url, token)
}

const STATE_CHANGING: [Method; 4] = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

#[tokio::test]
async fn requests_without_a_token_are_forbidden() {
    let tool = tool().await;
    let browser = tool.client();
    let (url, _) = open_form(&tool, &browser).await;
    for method in STATE_CHANGING {
        let response = browser
            .request(
                method.clone(),
                &url,
                &[("content-type", "application/x-www-form-urlencoded")],
                "note=hello",
            )
            .await;
        assert_status(&response, StatusCode::FORBIDDEN);
        assert!(
            !response.text().contains("saved"),
            "{method}: handler must not run"
        );
        let response = browser.request(method.clone(), &url, &[], "").await;
        assert_status(&response, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn requests_with_a_wrong_token_are_forbidden() {
    let tool = tool().await;
    let browser = tool.client();
    let (url, token) = open_form(&tool, &browser).await;
    // Another session's genuine token.
    let other = tool.client();
    let (_, other_token) = open_form(&tool, &other).await;
    assert_ne!(token, other_token);
    // The raw session id is not the token (W-9).
    let sid = session_id(&browser.cookie("sid").expect("a session"));
    assert_ne!(token, sid);
    let truncated = token[..token.len() - 2].to_owned();
    for wrong in [
        other_token.as_str(),
        sid.as_str(),
        truncated.as_str(),
        "0-00",
        " ",
    ] {
        for method in STATE_CHANGING {
            let body = form_body(&[("csrftoken", wrong), ("note", "x")]);
            let response = browser
                .request(
                    method.clone(),
                    &url,
                    &[("content-type", "application/x-www-form-urlencoded")],
                    body,
                )
                .await;
            assert_status(&response, StatusCode::FORBIDDEN);
            let response = browser
                .request(method.clone(), &url, &[("x-csrf-token", wrong)], "")
                .await;
            assert_status(&response, StatusCode::FORBIDDEN);
        }
    }
}

#[tokio::test]
async fn the_right_token_in_a_field_or_header_is_accepted() {
    let tool = tool().await;
    let browser = tool.client();
    let (url, token) = open_form(&tool, &browser).await;
    for method in STATE_CHANGING {
        let body = form_body(&[("note", "hello"), ("csrftoken", &token)]);
        let response = browser
            .request(
                method.clone(),
                &url,
                &[("content-type", "application/x-www-form-urlencoded")],
                body,
            )
            .await;
        assert_status(&response, StatusCode::OK);
        assert_eq!(response.text(), format!("{method} saved for resource-1"));

        let response = browser
            .request(method.clone(), &url, &[("X-CSRF-Token", &token)], "")
            .await;
        assert_status(&response, StatusCode::OK);
        assert_eq!(response.text(), format!("{method} saved for resource-1"));
    }
    // The token stays good for the whole session.
    let again = browser
        .post_form(&url, form_body(&[("csrftoken", &token)]))
        .await;
    assert_status(&again, StatusCode::OK);
    // The info page shows the same token as the form.
    let info = info_page(&browser, &url.replace("form", "")).await;
    assert_eq!(field(&info, "csrf"), token);
}

#[tokio::test]
async fn the_token_is_checked_on_routes_outside_resources() {
    let tool = tool().await;
    let browser = tool.client();
    let (_, token) = open_form(&tool, &browser).await;
    let refused = browser.post_form("/notes", "note=1").await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let accepted = browser
        .post_form("/notes", form_body(&[("csrftoken", &token)]))
        .await;
    assert_status(&accepted, StatusCode::OK);
    assert_eq!(accepted.text(), "noted");
    // The session's payload travels in its cookie to the next request.
    assert_eq!(browser.get("/notes").await.text(), "kept");
    assert_eq!(tool.client().get("/notes").await.text(), "");
}

#[tokio::test]
async fn a_token_without_the_session_cookie_is_forbidden() {
    let tool = tool().await;
    let browser = tool.client();
    let (url, token) = open_form(&tool, &browser).await;
    let stranger = tool.client();
    let response = stranger
        .post_form(&url, form_body(&[("csrftoken", &token)]))
        .await;
    assert_status(&response, StatusCode::FORBIDDEN);
    let response = stranger
        .request(Method::DELETE, &url, &[("x-csrf-token", &token)], "")
        .await;
    assert_status(&response, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_new_launch_retires_old_tokens() {
    let tool = tool().await;
    let browser = tool.client();
    let (url, old_token) = open_form(&tool, &browser).await;
    // A second launch rotates the established session id.
    let launch = browser.launch(&tool.launch()).await;
    assert_status(&launch, StatusCode::SEE_OTHER);
    let refused = browser
        .post_form(&url, form_body(&[("csrftoken", &old_token)]))
        .await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let fresh = browser.get(&url).await;
    let new_token = fresh.input_value("csrftoken").expect("a token");
    assert_ne!(new_token, old_token);
    let accepted = browser
        .post_form(&url, form_body(&[("csrftoken", &new_token)]))
        .await;
    assert_status(&accepted, StatusCode::OK);
}

#[tokio::test]
async fn launch_is_exempt() {
    let tool = tool().await;
    let browser = tool.client();
    common::launch_and_open(&browser, &tool.launch()).await;
    assert!(browser.cookie("sid").is_some(), "the browser has a session");
    // No token, session cookie present: the OAuth signature is what counts.
    let response = browser
        .launch(&tool.launch().resource_link_id("another"))
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_status(&browser.follow(&response).await, StatusCode::OK);
}

#[tokio::test]
async fn safe_methods_need_no_token() {
    let tool = tool().await;
    let browser = tool.client();
    let (url, _) = open_form(&tool, &browser).await;
    assert_status(&browser.get(&url).await, StatusCode::OK);
    let head = browser.request(Method::HEAD, &url, &[], "").await;
    assert_status(&head, StatusCode::OK);
}
