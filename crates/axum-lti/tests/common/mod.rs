//! Helpers shared by the end-to-end suites: a tool route that reports the
//! visit, and the launch → cookie test → resource page walk.
#![allow(dead_code)]

use axum::Router;
use axum::routing::get;
use axum_lti::{CsrfToken, Session, Visit};
use http::{Method, StatusCode};
use lti_testkit::{LaunchBuilder, TestClient, TestResponse, TestTool};

/// A tool route under the resource that reports what the `Visit` holds,
/// one `name=value` per line.
pub(crate) async fn info(visit: Visit, session: Session, token: CsrfToken) -> String {
    let user = visit.user();
    format!(
        "resource={}\nlink_id={}\npermissions={}\nuser_id={}\ndisplay_name={}\nsession={}\n\
         established={}\ncsrf={}\ncontext={}\nroles={}\ncustom={}\n",
        visit.resource_id(),
        visit.resource().link_id,
        visit.permissions().bits(),
        user.map(|u| u.user_id.as_str()).unwrap_or_default(),
        visit.display_name(),
        session.id(),
        session.is_established(),
        token.value(),
        visit
            .context()
            .map(|c| c.context_id.as_str())
            .unwrap_or_default(),
        visit.roles().len(),
        visit
            .launch()
            .custom_params()
            .map(|(name, value)| format!("{name}:{value}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The routes the suites add to the tool: `/resource/{id}/info`.
pub(crate) fn info_routes() -> Router {
    Router::new().route("/resource/{id}/info", get(info))
}

/// A test tool with the info route and the default settings.
pub(crate) async fn tool() -> TestTool {
    TestTool::builder().with_routes(info_routes()).build().await
}

/// A value from an `info` page.
#[track_caller]
pub(crate) fn field(page: &TestResponse, name: &str) -> String {
    let text = page.text();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in page:\n{text}"))
        .to_owned()
}

/// The session id inside a session cookie value or a cookie-test `s`
/// (`<sid>-<flag>-<created>-<last seen>-<payload>[~<tag>]`).
#[track_caller]
pub(crate) fn session_id(value: &str) -> String {
    let id = value.split('-').next().unwrap_or_default();
    assert_eq!(id.len(), 39, "not a session value: {value:?}");
    id.to_owned()
}

/// The established flag of a session cookie value or `s`.
#[track_caller]
pub(crate) fn established_flag(value: &str) -> bool {
    match value.split('-').nth(1) {
        Some("1") => true,
        Some("0") => false,
        other => panic!("not a session value: {value:?} ({other:?})"),
    }
}

/// Asserts a status, showing the body when it differs.
#[track_caller]
pub(crate) fn assert_status(response: &TestResponse, expected: StatusCode) {
    assert_eq!(
        response.status(),
        expected,
        "unexpected status; Location: {:?}; body:\n{}",
        response.location(),
        response.text()
    );
}

/// Walks a launch with cookies allowed: launch (303 to the cookie test, or
/// straight to the resource when the browser already passed it), then the
/// cookie test (303 back), and returns the resource page URL, asserting
/// each hop.
pub(crate) async fn launch_through(client: &TestClient, launch: &LaunchBuilder) -> String {
    let response = client.launch(launch).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let location = response.location().expect("launch redirects").to_owned();
    if response.location_path().as_deref() == Some("/ctest") {
        let target = response
            .location_param("return")
            .expect("the cookie test carries the return URL");
        let ctest = client.follow(&response).await;
        assert_status(&ctest, StatusCode::SEE_OTHER);
        assert_eq!(ctest.location(), Some(target.as_str()));
        target
    } else {
        location
    }
}

/// Launches and loads the resource page (must be 200); returns its URL.
pub(crate) async fn launch_and_open(client: &TestClient, launch: &LaunchBuilder) -> String {
    let url = launch_through(client, launch).await;
    let page = client.get(&url).await;
    assert_status(&page, StatusCode::OK);
    url
}

/// The `info` page of a resource page URL.
pub(crate) async fn info_page(client: &TestClient, resource_url: &str) -> TestResponse {
    client.get(&format!("{resource_url}info")).await
}

/// Sends a request with a method and no body.
pub(crate) async fn send(client: &TestClient, method: Method, target: &str) -> TestResponse {
    client.request(method, target, &[], "").await
}
