//! Attacks on the cookie test and the session cookie (spec §4.5.2, §4.6):
//! every one is a 400 that clears the session cookie, or a cookie that is
//! simply not believed.

mod common;

use axum_lti::core::MacPurpose;
use common::{assert_status, session_id};
use http::StatusCode;
use lti_testkit::{TestClient, TestResponse, TestTool, form_body};

/// Signs a cookie-test query the way the tool does (the message format of
/// `session/cookie_test.rs`), so a test can build a *validly signed* query
/// that carries something the tool must still refuse. Each test using it
/// first checks that an honest query signed here is accepted, so a change
/// of format shows up as that check failing, not as a vacuous pass.
fn sign_query(tool: &TestTool, s: &str, return_url: &str, user_agent: &str) -> String {
    let message = format!(
        "ctest:{}:{s}:{}:{return_url}:{}:{user_agent}",
        s.len(),
        return_url.len(),
        user_agent.len()
    );
    tool.state()
        .cipher()
        .sign(
            MacPurpose::SessionCookie,
            message.as_bytes(),
            tool.state().now(),
        )
        .to_string()
}

fn ctest_url(tool: &TestTool, return_url: &str, s: &str, sig: &str) -> String {
    format!(
        "{}?{}",
        tool.url("ctest"),
        form_body(&[("return", return_url), ("s", s), ("sig", sig)])
    )
}

/// Asserts a 400 whose response deletes the session cookie with the
/// attributes it was set with.
#[track_caller]
fn assert_refused_and_cleared(response: &TestResponse) {
    assert_status(response, StatusCode::BAD_REQUEST);
    let sid = response
        .cookie("sid")
        .unwrap_or_else(|| panic!("no sid cookie cleared: {:?}", response.set_cookies()));
    assert_eq!(sid.value, "");
    assert_eq!(sid.max_age, Some(0), "{}", sid.raw);
    assert_eq!(sid.path.as_deref(), Some("/"), "{}", sid.raw);
    assert!(sid.http_only, "{}", sid.raw);
    assert_eq!(response.location(), None);
}

/// A launch up to the cookie test: (browser, return URL, s, sig).
async fn started(tool: &TestTool) -> (TestClient, String, String, String) {
    let browser = tool.client();
    let launch = browser.launch(&tool.launch()).await;
    assert_status(&launch, StatusCode::SEE_OTHER);
    let param = |name| launch.location_param(name).expect("cookie-test parameter");
    (browser, param("return"), param("s"), param("sig"))
}

fn replace_char_at(text: &str, index: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn an_altered_s_is_refused() {
    let tool = common::tool().await;
    let (browser, target, s, sig) = started(&tool).await;
    let altered = replace_char_at(&s, 0);
    assert_ne!(altered, s);
    let response = browser
        .get(&ctest_url(&tool, &target, &altered, &sig))
        .await;
    assert_refused_and_cleared(&response);
    assert_eq!(browser.cookie("sid"), None, "the jar dropped the session");
}

#[tokio::test]
async fn an_altered_sig_is_refused() {
    let tool = common::tool().await;
    let (browser, target, s, sig) = started(&tool).await;
    let altered = replace_char_at(&sig, sig.len() - 1);
    let response = browser.get(&ctest_url(&tool, &target, &s, &altered)).await;
    assert_refused_and_cleared(&response);
    // The honest query no longer works either: the session cookie is gone.
    let response = browser.get(&ctest_url(&tool, &target, &s, &sig)).await;
    assert_refused_and_cleared(&response);
}

#[tokio::test]
async fn an_altered_return_is_refused() {
    let tool = common::tool().await;
    let (browser, target, s, sig) = started(&tool).await;
    let other = target.replace("/resource/", "/resource/0");
    let response = browser.get(&ctest_url(&tool, &other, &s, &sig)).await;
    assert_refused_and_cleared(&response);
}

#[tokio::test]
async fn another_user_agent_at_ctest_is_refused() {
    let tool = common::tool().await;
    let (browser, target, s, sig) = started(&tool).await;
    browser.set_user_agent(Some("Another Browser/2.0"));
    let response = browser.get(&ctest_url(&tool, &target, &s, &sig)).await;
    assert_refused_and_cleared(&response);
}

#[tokio::test]
async fn the_signing_helper_matches_the_tool() {
    // The positive control for `sign_query`: an honest query it signs is
    // accepted.
    let tool = common::tool().await;
    let (browser, target, s, _) = started(&tool).await;
    let ua = browser.user_agent().expect("a User-Agent");
    let sig = sign_query(&tool, &s, &target, &ua);
    let response = browser.get(&ctest_url(&tool, &target, &s, &sig)).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some(target.as_str()));
}

#[tokio::test]
async fn an_off_site_return_is_refused_even_when_signed() {
    let tool = common::tool().await;
    let (browser, _, s, _) = started(&tool).await;
    let ua = browser.user_agent().expect("a User-Agent");
    for evil in [
        "http://evil.example/",
        "https://localhost:8080/resource/00000001/",
        "http://localhost:8081/",
        "//evil.example/",
        "/resource/00000001/",
    ] {
        let sig = sign_query(&tool, &s, evil, &ua);
        let response = browser.get(&ctest_url(&tool, evil, &s, &sig)).await;
        assert_refused_and_cleared(&response);
        // Put the session back for the next attempt.
        browser.set_cookie("sid", &format!("{s}~{}", session_tag(&tool, &s)));
    }
}

fn session_tag(tool: &TestTool, s: &str) -> String {
    tool.state()
        .cipher()
        .sign(MacPurpose::SessionCookie, s.as_bytes(), tool.state().now())
        .to_string()
}

#[tokio::test]
async fn a_return_outside_the_app_root_is_refused_even_when_signed() {
    let tool = TestTool::builder()
        .with_canonical_root("http://localhost:8080/tool/")
        .build()
        .await;
    let (browser, target, s, _) = started(&tool).await;
    assert!(target.starts_with("http://localhost:8080/tool/resource/"));
    let ua = browser.user_agent().expect("a User-Agent");

    let outside = "http://localhost:8080/other/";
    let sig = sign_query(&tool, &s, outside, &ua);
    let response = browser.get(&ctest_url(&tool, outside, &s, &sig)).await;
    assert_status(&response, StatusCode::BAD_REQUEST);
    let sid = response
        .cookie("sid")
        .expect("the session cookie is cleared");
    assert_eq!((sid.value.as_str(), sid.max_age), ("", Some(0)));
    assert_eq!(sid.path.as_deref(), Some("/tool/"));

    // Control: inside the root the same forgery goes through.
    browser.set_cookie("sid", &format!("{s}~{}", session_tag(&tool, &s)));
    let sig = sign_query(&tool, &s, &target, &ua);
    let response = browser.get(&ctest_url(&tool, &target, &s, &sig)).await;
    assert_status(&response, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_established_session_in_the_query_is_refused() {
    let tool = common::tool().await;
    let (browser, target, s, _) = started(&tool).await;
    let ua = browser.user_agent().expect("a User-Agent");
    let mut fields: Vec<&str> = s.split('-').collect();
    assert_eq!(fields[1], "0");
    fields[1] = "1";
    let established = fields.join("-");
    let sig = sign_query(&tool, &established, &target, &ua);
    let response = browser
        .get(&ctest_url(&tool, &target, &established, &sig))
        .await;
    assert_refused_and_cleared(&response);

    // The same holds at /wlaunch, in a new window.
    let window = browser.new_browser();
    let wlaunch = ctest_url(&tool, &target, &established, &sig).replace("/ctest?", "/wlaunch?");
    let response = window.get(&wlaunch).await;
    assert_refused_and_cleared(&response);
}

#[tokio::test]
async fn an_established_cookie_at_ctest_is_refused() {
    // Replaying the cookie-test link after the session was established.
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = browser.launch(&tool.launch()).await;
    let ctest = browser.follow(&launch).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    let replay = browser.follow(&launch).await;
    assert_refused_and_cleared(&replay);
}

#[tokio::test]
async fn a_missing_session_cookie_at_ctest_is_refused() {
    // Pyslet answered 500 here (spec §4.5.2 step 3.2); the intent is 400.
    let tool = common::tool().await;
    let (browser, target, s, sig) = started(&tool).await;
    browser.remove_cookie("sid");
    assert!(browser.cookie("ctest").is_some());
    let response = browser.get(&ctest_url(&tool, &target, &s, &sig)).await;
    assert_refused_and_cleared(&response);
}

#[tokio::test]
async fn another_browsers_cookie_test_link_is_refused() {
    // Fixation: the attacker's link, opened by a victim with a session of
    // their own.
    let tool = common::tool().await;
    let attacker = tool.client();
    let attack = attacker.launch(&tool.launch().user_id("mallory")).await;
    let victim = tool.client();
    let own = victim.launch(&tool.launch().user_id("victim")).await;
    assert_status(&own, StatusCode::SEE_OTHER);
    let response = victim.follow(&attack).await;
    assert_refused_and_cleared(&response);
}

#[tokio::test]
async fn wlaunch_refuses_tampering_and_off_site_returns() {
    let tool = common::tool().await;
    let (browser, target, s, sig) = started(&tool).await;
    let window = browser.new_browser();
    let bad_sig = replace_char_at(&sig, sig.len() - 1);
    let url = ctest_url(&tool, &target, &s, &bad_sig).replace("/ctest?", "/wlaunch?");
    assert_refused_and_cleared(&window.get(&url).await);

    let ua = window.user_agent().expect("a User-Agent");
    let evil = "http://evil.example/";
    let sig = sign_query(&tool, &s, evil, &ua);
    let url = ctest_url(&tool, evil, &s, &sig).replace("/ctest?", "/wlaunch?");
    let response = window.get(&url).await;
    assert_status(&response, StatusCode::BAD_REQUEST);
    assert_eq!(response.location(), None);
    assert!(window.jar().is_empty(), "nothing adopted");
}

#[tokio::test]
async fn forged_and_truncated_session_cookies_are_ignored() {
    let tool = common::tool().await;
    let browser = tool.client();
    let page = common::launch_and_open(&browser, &tool.launch()).await;
    let good = browser.cookie("sid").expect("a session");

    let (message, tag) = good.rsplit_once('~').expect("a signed cookie");
    let mut fields: Vec<String> = message.split('-').map(str::to_owned).collect();
    fields[3] = (fields[3].parse::<i64>().expect("last seen") + 1).to_string();
    let forged = format!("{}~{tag}", fields.join("-"));
    let other_key = {
        let other = TestTool::builder()
            .with_app_secret("another application secret, also long")
            .build()
            .await;
        format!(
            "{message}~{}",
            other.state().cipher().sign(
                MacPurpose::SessionCookie,
                message.as_bytes(),
                other.state().now()
            )
        )
    };
    for bad in [
        good[..good.len() - 4].to_owned(),
        message.to_owned(),
        forged,
        other_key,
        "garbage".to_owned(),
    ] {
        browser.set_cookie("sid", &bad);
        let response = browser.get(&page).await;
        assert_status(&response, StatusCode::FORBIDDEN);
        assert!(
            response
                .cookie("sid")
                .is_none_or(|c| c.value.is_empty() || session_id(&c.value) != session_id(&good)),
            "the session was not re-issued: {:?}",
            response.set_cookies()
        );
    }
    // The genuine cookie still works: it was the forgeries that failed.
    browser.set_cookie("sid", &good);
    assert_status(&browser.get(&page).await, StatusCode::OK);
}
