//! Session lifetimes with a fixed clock (DESIGN.md §3 "Sessions"):
//! unestablished sessions live 120 s, established ones end after 600 s
//! idle and 12 h in all; the resource page then answers 403, or sends the
//! browser through the cookie test when it lacks the test cookie.

mod common;

use axum_lti::Clock as _;
use common::{assert_status, established_flag, session_id};
use http::StatusCode;
use lti_testkit::TestClient;

const UNESTABLISHED: i64 = 120;
const IDLE: i64 = 600;
const ABSOLUTE: i64 = 12 * 3600;

/// The last-seen time inside a session cookie value.
fn last_seen(cookie: &str) -> i64 {
    cookie
        .split('-')
        .nth(3)
        .and_then(|t| t.parse().ok())
        .expect("a session cookie")
}

async fn sid(browser: &TestClient) -> String {
    browser.cookie("sid").expect("a session cookie")
}

#[tokio::test]
async fn established_sessions_slide_and_keep_their_id() {
    let tool = common::tool().await;
    let browser = tool.client();
    let page = common::launch_and_open(&browser, &tool.launch()).await;
    let first = sid(&browser).await;
    assert!(established_flag(&first));

    tool.clock().advance(300);
    let response = browser.get(&page).await;
    assert_status(&response, StatusCode::OK);
    let reissued = response.cookie("sid").expect("the cookie is re-issued");
    assert_eq!(session_id(&reissued.value), session_id(&first), "same id");
    assert_eq!(last_seen(&reissued.value), tool.clock().now());
    assert_eq!(last_seen(&reissued.value) - last_seen(&first), 300);
}

#[tokio::test]
async fn the_cookie_is_re_issued_only_once_its_last_seen_time_is_a_minute_old() {
    let tool = common::tool().await;
    let browser = tool.client();
    let page = common::launch_and_open(&browser, &tool.launch()).await;
    let first = sid(&browser).await;

    // A tenth of the 600 s idle timeout: within it, no new cookie.
    tool.clock().advance(59);
    let response = browser.get(&page).await;
    assert_status(&response, StatusCode::OK);
    assert!(
        response.cookie("sid").is_none(),
        "not re-issued after 59 s: {:?}",
        response.set_cookies()
    );
    tool.clock().advance(1);
    let response = browser.get(&page).await;
    assert_status(&response, StatusCode::OK);
    let reissued = response.cookie("sid").expect("re-issued after 60 s");
    assert_eq!(last_seen(&reissued.value) - last_seen(&first), 60);
}

#[tokio::test]
async fn an_idle_session_ends_after_600_seconds() {
    let tool = common::tool().await;
    let browser = tool.client();
    let page = common::launch_and_open(&browser, &tool.launch()).await;

    tool.clock().advance(IDLE);
    assert_status(&browser.get(&page).await, StatusCode::OK);

    tool.clock().advance(IDLE + 1);
    let response = browser.get(&page).await;
    assert_status(&response, StatusCode::FORBIDDEN);
    assert_eq!(response.location(), None);
    assert!(
        response.cookie("sid").is_none(),
        "no session is revived: {:?}",
        response.set_cookies()
    );
    // A new launch gets a working session again.
    let page = common::launch_through(&browser, &tool.launch()).await;
    assert_status(&browser.get(&page).await, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_session_without_the_test_cookie_goes_through_the_cookie_test() {
    let tool = common::tool().await;
    let browser = tool.client();
    let page = common::launch_and_open(&browser, &tool.launch()).await;
    browser.remove_cookie("ctest");
    tool.clock().advance(IDLE + 1);
    let response = browser.get(&page).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(response.location_path().as_deref(), Some("/ctest"));
    assert_eq!(
        response.location_param("return").as_deref(),
        Some(page.as_str())
    );
    // Through the test and back, the old visit is still out of reach.
    let ctest = browser.follow(&response).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    assert_status(&browser.follow(&ctest).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_cookie_test_must_finish_within_120_seconds() {
    let tool = common::tool().await;

    let browser = tool.client();
    let launch = browser.launch(&tool.launch()).await;
    tool.clock().advance(UNESTABLISHED);
    let ctest = browser.follow(&launch).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);

    let slow = tool.client();
    let launch = slow.launch(&tool.launch()).await;
    tool.clock().advance(UNESTABLISHED + 1);
    let ctest = slow.follow(&launch).await;
    assert_status(&ctest, StatusCode::BAD_REQUEST);
    let cleared = ctest.cookie("sid").expect("the session cookie is cleared");
    assert_eq!(cleared.max_age, Some(0));
    assert!(ctest.text().contains("expired"), "{}", ctest.text());
}

#[tokio::test]
async fn the_new_window_link_expires_after_120_seconds() {
    let tool = common::tool().await;
    let frame = tool.client().with_cookies_blocked();
    let launch = frame.launch(&tool.launch()).await;
    let page = frame.follow(&launch).await;
    let wlaunch = page.link_by_id("wlaunch").expect("a wlaunch link");
    assert!(page.text().contains("2 minutes"), "{}", page.text());

    tool.clock().advance(UNESTABLISHED + 1);
    let window = frame.new_browser();
    let response = window.get(&wlaunch).await;
    assert_status(&response, StatusCode::BAD_REQUEST);
    assert!(window.jar().is_empty(), "nothing adopted");
}

#[tokio::test]
async fn an_unestablished_session_expires_after_120_seconds() {
    // A browser that passed the cookie test before (it has the test
    // cookie) goes straight to the resource; its new session must come
    // back within 120 s to be established.
    let tool = common::tool().await;
    for (delay, expected) in [
        (UNESTABLISHED, StatusCode::OK),
        (UNESTABLISHED + 1, StatusCode::FORBIDDEN),
    ] {
        let browser = tool.client();
        browser.set_cookie("ctest", "0");
        let launch = browser.launch(&tool.launch().fresh_nonce()).await;
        assert_status(&launch, StatusCode::SEE_OTHER);
        let page = launch.location().expect("a Location").to_owned();
        assert!(page.contains("/resource/"), "no cookie test needed: {page}");
        let fresh = launch.cookie("sid").expect("a new session");
        assert!(!established_flag(&fresh.value));

        tool.clock().advance(delay);
        let response = browser.get(&page).await;
        assert_status(&response, expected);
        if expected == StatusCode::OK {
            let established = response.cookie("sid").expect("re-issued");
            assert!(established_flag(&established.value));
            assert_ne!(session_id(&established.value), session_id(&fresh.value));
        }
    }
}

#[tokio::test]
async fn any_session_ends_after_12_hours() {
    let tool = common::tool().await;
    let browser = tool.client();
    let start = tool.clock().now();
    let page = common::launch_and_open(&browser, &tool.launch()).await;
    let id = session_id(&sid(&browser).await);

    // Busy all day: never idle for more than 590 s.
    while tool.clock().now() + 590 <= start + ABSOLUTE {
        tool.clock().advance(590);
        assert_status(&browser.get(&page).await, StatusCode::OK);
    }
    tool.clock().set(start + ABSOLUTE);
    assert_status(&browser.get(&page).await, StatusCode::OK);
    assert_eq!(
        session_id(&sid(&browser).await),
        id,
        "one session all along"
    );

    tool.clock().advance(1);
    assert_status(&browser.get(&page).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn timeouts_follow_the_settings() {
    let tool = lti_testkit::TestTool::builder()
        .with_routes(common::info_routes())
        .configure(|s| s.session.idle_timeout_secs = 60)
        .build()
        .await;
    let browser = tool.client();
    let page = common::launch_and_open(&browser, &tool.launch()).await;
    tool.clock().advance(60);
    assert_status(&browser.get(&page).await, StatusCode::OK);
    tool.clock().advance(61);
    assert_status(&browser.get(&page).await, StatusCode::FORBIDDEN);
}
