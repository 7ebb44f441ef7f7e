//! The cookie test end to end: spec §4.5.4 scenarios S-A to S-D, driven
//! through a launch, with every hop's status, `Location` and cookies
//! asserted, and the cookie attributes of DESIGN.md §3 "Sessions".

mod common;

use common::{assert_status, established_flag, field, info_page, session_id};
use http::StatusCode;
use lti_testkit::{SetCookie, TestResponse, TestTool};

const ROOT: &str = "http://localhost:8080/";

#[track_caller]
fn cookie(response: &TestResponse, name: &str) -> SetCookie {
    response
        .cookie(name)
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", response.set_cookies()))
}

/// The attributes every cookie gets on `http://localhost` (a secure
/// context): `Path=/; Secure; SameSite=None; Partitioned`.
#[track_caller]
fn assert_localhost_attributes(c: &SetCookie) {
    assert_eq!(c.path.as_deref(), Some("/"), "{}", c.raw);
    assert!(c.secure, "{}", c.raw);
    assert!(c.same_site_none(), "{}", c.raw);
    assert!(c.partitioned, "{}", c.raw);
    assert_eq!(c.domain, None, "host-only: {}", c.raw);
}

/// The sid cookie: HttpOnly, a browser-session cookie.
#[track_caller]
fn assert_session_cookie(c: &SetCookie) {
    assert!(c.http_only, "{}", c.raw);
    assert_eq!(c.max_age, None, "{}", c.raw);
    assert_eq!(c.expires, None, "{}", c.raw);
    assert_localhost_attributes(c);
}

/// The ctest cookie: value 0, 100 days, readable by scripts.
#[track_caller]
fn assert_test_cookie(c: &SetCookie) {
    assert_eq!(c.value, "0");
    assert!(!c.http_only, "{}", c.raw);
    assert_eq!(c.max_age, Some(8_640_000), "{}", c.raw);
    assert_localhost_attributes(c);
}

/// The first hop every scenario shares: the launch answers 303 to
/// `<root>ctest?return=<resource page>&s=…&sig=…` with both cookies.
#[track_caller]
fn assert_launch_starts_cookie_test(launch: &TestResponse) -> (String, String) {
    assert_status(launch, StatusCode::SEE_OTHER);
    let location = launch.location().expect("a Location");
    assert!(location.starts_with(&format!("{ROOT}ctest?")), "{location}");
    let names: Vec<String> = launch
        .location_query()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["return", "s", "sig"]);
    let target = launch.location_param("return").expect("return");
    assert!(target.starts_with(&format!("{ROOT}resource/")), "{target}");
    assert!(target.ends_with('/'), "{target}");
    let s = launch.location_param("s").expect("s");
    assert!(!established_flag(&s), "the URL session is unestablished");
    assert!(!launch.location_param("sig").expect("sig").is_empty());
    let sid = cookie(launch, "sid");
    assert_session_cookie(&sid);
    assert_eq!(
        session_id(&sid.value),
        session_id(&s),
        "cookie and URL carry one session"
    );
    assert!(!established_flag(&sid.value));
    assert_test_cookie(&cookie(launch, "ctest"));
    (target, s)
}

#[tokio::test]
async fn s_a_cookies_allowed_establish_a_new_session_id() {
    let tool = common::tool().await;
    let browser = tool.client();

    let launch = browser
        .launch(&tool.launch().person_name("Ada Lovelace"))
        .await;
    let (target, s) = assert_launch_starts_cookie_test(&launch);

    let ctest = browser.follow(&launch).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    assert_eq!(ctest.location(), Some(target.as_str()));
    let sid = cookie(&ctest, "sid");
    assert_session_cookie(&sid);
    assert!(
        established_flag(&sid.value),
        "the session is now established"
    );
    assert_ne!(
        session_id(&sid.value),
        session_id(&s),
        "establishing rotates the session id"
    );
    assert!(
        ctest.cookie("ctest").is_none(),
        "the test cookie is not set again"
    );

    let page = browser.follow(&ctest).await;
    assert_status(&page, StatusCode::OK);
    assert_eq!(page.location(), None);
    assert!(page.text().contains("Ada Lovelace"), "{}", page.text());
    // The visit moved to the new id: the page is reached under it.
    let info = info_page(&browser, &target).await;
    assert_status(&info, StatusCode::OK);
    assert_eq!(field(&info, "session"), session_id(&sid.value));
    assert_eq!(field(&info, "established"), "true");
}

#[tokio::test]
async fn s_b_blocked_frame_continues_in_a_new_window() {
    let tool = common::tool().await;
    let frame = tool.client().with_cookies_blocked();

    let launch = frame.launch(&tool.launch()).await;
    let (target, s) = assert_launch_starts_cookie_test(&launch);
    assert!(frame.jar().is_empty(), "the frame keeps no cookies");

    // Inside the frame the cookies do not come back: the new-window page.
    let ctest = frame.follow(&launch).await;
    assert_status(&ctest, StatusCode::OK);
    assert_eq!(ctest.location(), None);
    assert!(ctest.set_cookies().is_empty(), "{:?}", ctest.set_cookies());
    assert_eq!(
        ctest.attribute_by_id("wlaunch", "target").as_deref(),
        Some("_blank")
    );
    let wlaunch = ctest.link_by_id("wlaunch").expect("a wlaunch link");
    assert!(wlaunch.starts_with(&format!("{ROOT}wlaunch?")), "{wlaunch}");
    let query = launch
        .location()
        .and_then(|l| l.split_once('?'))
        .map(|(_, q)| q);
    assert_eq!(
        wlaunch.split_once('?').map(|(_, q)| q),
        query,
        "same return, s and sig"
    );

    // The new window is first-party: it adopts the URL session and tests
    // the cookies once more, marked as framed.
    let window = frame.new_browser();
    let adopt = window.get(&wlaunch).await;
    assert_status(&adopt, StatusCode::SEE_OTHER);
    let location = adopt.location().expect("a Location");
    assert!(location.starts_with(&format!("{ROOT}ctest?")), "{location}");
    assert_eq!(
        adopt.location_param("return").as_deref(),
        Some(target.as_str())
    );
    assert_eq!(adopt.location_param("s").as_deref(), Some(s.as_str()));
    assert_eq!(adopt.location_param("framed").as_deref(), Some("1"));
    let sid = cookie(&adopt, "sid");
    assert_session_cookie(&sid);
    assert_eq!(
        session_id(&sid.value),
        session_id(&s),
        "the URL session is adopted"
    );
    assert_test_cookie(&cookie(&adopt, "ctest"));

    let ctest = window.follow(&adopt).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    assert_eq!(ctest.location(), Some(target.as_str()));
    let established = cookie(&ctest, "sid");
    assert!(established_flag(&established.value));
    assert_ne!(session_id(&established.value), session_id(&s));

    let page = window.follow(&ctest).await;
    assert_status(&page, StatusCode::OK);
    // The frame itself still has no session.
    let framed_page = frame.get(&target).await;
    assert_status(&framed_page, StatusCode::SEE_OTHER);
    assert_eq!(framed_page.location_path().as_deref(), Some("/ctest"));
}

#[tokio::test]
async fn s_c_new_window_with_a_session_merges_the_framed_visits() {
    let tool = common::tool().await;
    // The window already uses the tool first-party, for resource A.
    let window = tool.client();
    let a = common::launch_and_open(&window, &tool.launch().resource_link_id("A")).await;
    let window_sid = session_id(&window.cookie("sid").expect("a session"));

    // The same user launches resource B in a blocked frame.
    let frame = window.new_browser().with_cookies_blocked();
    let launch = frame.launch(&tool.launch().resource_link_id("B")).await;
    let (b, s) = assert_launch_starts_cookie_test(&launch);
    assert_ne!(a, b);
    let ctest = frame.follow(&launch).await;
    let wlaunch = ctest.link_by_id("wlaunch").expect("a wlaunch link");

    let merge = window.get(&wlaunch).await;
    assert_status(&merge, StatusCode::SEE_OTHER);
    assert_eq!(
        merge.location(),
        Some(b.as_str()),
        "straight back, no second test"
    );
    assert!(merge.cookie("ctest").is_none());
    let kept = window.cookie("sid").expect("still a session");
    assert_eq!(
        session_id(&kept),
        window_sid,
        "the window keeps its own session"
    );
    assert_ne!(
        session_id(&kept),
        session_id(&s),
        "the framed id never becomes the cookie"
    );

    let page_b = window.follow(&merge).await;
    assert_status(&page_b, StatusCode::OK);
    let page_a = window.get(&a).await;
    assert_status(&page_a, StatusCode::OK);
    assert_eq!(
        field(&info_page(&window, &b).await, "session"),
        window_sid,
        "B's visit moved into the window's session"
    );
}

#[tokio::test]
async fn s_c_merge_by_another_user_detaches_the_windows_visits() {
    let tool = common::tool().await;
    let window = tool.client();
    let a = common::launch_and_open(
        &window,
        &tool.launch().resource_link_id("A").user_id("alice"),
    )
    .await;

    let frame = window.new_browser().with_cookies_blocked();
    let launch = frame
        .launch(&tool.launch().resource_link_id("B").user_id("bob"))
        .await;
    let (b, _) = assert_launch_starts_cookie_test(&launch);
    let wlaunch = frame
        .follow(&launch)
        .await
        .link_by_id("wlaunch")
        .expect("a wlaunch link");
    let merge = window.get(&wlaunch).await;
    assert_status(&merge, StatusCode::SEE_OTHER);

    assert_status(&window.get(&b).await, StatusCode::OK);
    assert_status(&window.get(&a).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_new_window_whose_session_expired_starts_a_fresh_one() {
    // The window passed the cookie test long ago (it has the test cookie)
    // but holds no session now: the framed session's visits move into a
    // new session, which the next request establishes.
    let tool = common::tool().await;
    let frame = tool.client().with_cookies_blocked();
    let launch = frame.launch(&tool.launch()).await;
    let (target, s) = assert_launch_starts_cookie_test(&launch);
    let wlaunch = frame
        .follow(&launch)
        .await
        .link_by_id("wlaunch")
        .expect("a wlaunch link");

    let window = frame.new_browser();
    window.set_cookie("ctest", "0");
    let merge = window.get(&wlaunch).await;
    assert_status(&merge, StatusCode::SEE_OTHER);
    assert_eq!(merge.location(), Some(target.as_str()));
    let fresh = cookie(&merge, "sid");
    assert_ne!(session_id(&fresh.value), session_id(&s));
    let page = window.follow(&merge).await;
    assert_status(&page, StatusCode::OK);
    let established = cookie(&page, "sid");
    assert!(established_flag(&established.value));
}

#[tokio::test]
async fn s_d_cookies_blocked_everywhere_ends_on_the_failure_page() {
    let tool = common::tool().await;
    let frame = tool.client().with_cookies_blocked();
    let launch = frame.launch(&tool.launch()).await;
    assert_launch_starts_cookie_test(&launch);
    let wlaunch = frame
        .follow(&launch)
        .await
        .link_by_id("wlaunch")
        .expect("a wlaunch link");

    let window = frame.new_browser().with_cookies_blocked();
    let adopt = window.get(&wlaunch).await;
    assert_status(&adopt, StatusCode::SEE_OTHER);
    assert_eq!(adopt.location_param("framed").as_deref(), Some("1"));
    assert!(adopt.cookie("sid").is_some() && adopt.cookie("ctest").is_some());

    let failed = window.follow(&adopt).await;
    assert_status(&failed, StatusCode::OK);
    assert_eq!(failed.location(), None);
    assert!(
        failed.set_cookies().is_empty(),
        "{:?}",
        failed.set_cookies()
    );
    assert!(
        failed.text().contains("Page load failed: blocked cookies"),
        "{}",
        failed.text()
    );
    assert!(
        failed.text().contains("localhost"),
        "names the host to allow"
    );
    assert!(failed.link_by_id("wlaunch").is_none());
}

#[tokio::test]
async fn a_second_launch_with_cookies_skips_the_cookie_test_and_rotates_the_id() {
    let tool = common::tool().await;
    let browser = tool.client();
    common::launch_and_open(&browser, &tool.launch().resource_link_id("A")).await;
    let before = session_id(&browser.cookie("sid").expect("a session"));

    let launch = browser.launch(&tool.launch().resource_link_id("B")).await;
    assert_status(&launch, StatusCode::SEE_OTHER);
    let location = launch.location().expect("a Location");
    assert!(
        location.starts_with(&format!("{ROOT}resource/")),
        "{location}"
    );
    let sid = cookie(&launch, "sid");
    assert!(established_flag(&sid.value));
    assert_ne!(
        session_id(&sid.value),
        before,
        "a launch rotates an established id"
    );
    assert_status(&browser.follow(&launch).await, StatusCode::OK);
}

/// The cookies of a launch response for a tool with this root.
async fn launch_cookies(tool: &TestTool) -> (SetCookie, SetCookie) {
    let launch = tool.client().launch(&tool.launch()).await;
    assert_status(&launch, StatusCode::SEE_OTHER);
    (cookie(&launch, "sid"), cookie(&launch, "ctest"))
}

#[tokio::test]
async fn plain_http_hosts_get_lax_cookies_without_secure() {
    let tool = TestTool::builder()
        .with_canonical_root("http://tool.example.com")
        .build()
        .await;
    let (sid, ctest) = launch_cookies(&tool).await;
    for c in [&sid, &ctest] {
        assert_eq!(c.same_site.as_deref(), Some("Lax"), "{}", c.raw);
        assert!(!c.secure, "{}", c.raw);
        assert!(!c.partitioned, "{}", c.raw);
        assert_eq!(c.path.as_deref(), Some("/"), "{}", c.raw);
    }
    assert!(sid.http_only && !ctest.http_only);
}

#[tokio::test]
async fn https_hosts_get_secure_cross_site_partitioned_cookies() {
    let tool = TestTool::builder()
        .with_canonical_root("https://tool.example.com/lti/")
        .build()
        .await;
    let (sid, ctest) = launch_cookies(&tool).await;
    for c in [&sid, &ctest] {
        assert!(c.secure, "{}", c.raw);
        assert!(c.same_site_none(), "{}", c.raw);
        assert!(c.partitioned, "{}", c.raw);
        assert_eq!(
            c.path.as_deref(),
            Some("/lti/"),
            "the root's path: {}",
            c.raw
        );
    }
    assert!(sid.http_only && !ctest.http_only);
}

#[tokio::test]
async fn partitioning_can_be_turned_off() {
    let tool = TestTool::builder()
        .with_canonical_root("https://tool.example.com")
        .configure(|s| s.session.partitioned = false)
        .build()
        .await;
    let (sid, ctest) = launch_cookies(&tool).await;
    for c in [&sid, &ctest] {
        assert!(c.secure && c.same_site_none(), "{}", c.raw);
        assert!(!c.partitioned, "{}", c.raw);
    }
}

#[tokio::test]
async fn cookie_names_follow_the_settings() {
    let tool = TestTool::builder()
        .configure(|s| {
            s.session.cookie = "lti_session".into();
            s.session.test_cookie = "lti_test".into();
        })
        .build()
        .await;
    let browser = tool.client();
    let launch = browser.launch(&tool.launch()).await;
    assert!(launch.cookie("lti_session").is_some_and(|c| c.http_only));
    assert!(launch.cookie("lti_test").is_some_and(|c| !c.http_only));
    assert!(launch.cookie("sid").is_none() && launch.cookie("ctest").is_none());
    let ctest = browser.follow(&launch).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    assert_status(&browser.follow(&ctest).await, StatusCode::OK);
}

#[tokio::test]
async fn the_cookie_test_under_a_path_prefix() {
    let tool = TestTool::builder()
        .with_canonical_root("http://localhost:8080/tool/")
        .build()
        .await;
    let browser = tool.client();
    let launch = browser.launch(&tool.launch()).await;
    assert_status(&launch, StatusCode::SEE_OTHER);
    assert_eq!(launch.location_path().as_deref(), Some("/tool/ctest"));
    let target = launch.location_param("return").expect("return");
    assert!(
        target.starts_with("http://localhost:8080/tool/resource/"),
        "{target}"
    );
    assert_eq!(cookie(&launch, "sid").path.as_deref(), Some("/tool/"));
    let ctest = browser.follow(&launch).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    assert_eq!(ctest.location(), Some(target.as_str()));
    assert_status(&browser.follow(&ctest).await, StatusCode::OK);
}

#[tokio::test]
async fn ctest_without_its_parameters_is_a_bad_request() {
    let tool = common::tool().await;
    let browser = tool.client();
    for query in ["", "?return=x", "?return=x&s=y", "?s=y&sig=z"] {
        let response = browser.get(&format!("/ctest{query}")).await;
        assert_status(&response, StatusCode::BAD_REQUEST);
        let response = browser.get(&format!("/wlaunch{query}")).await;
        assert_status(&response, StatusCode::BAD_REQUEST);
    }
}
