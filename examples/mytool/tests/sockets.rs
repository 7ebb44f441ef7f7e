//! The real `mytool` binary on a free loopback port, driven over real HTTP
//! with a cookie jar: launch → cookie test → resource page → CSRF-protected
//! form post, on a SQLite file and on PostgreSQL.

use std::net::SocketAddr;

use http::StatusCode;
use lti_e2e::RunningTool;
use lti_store::testing::{DATABASE_URL_VAR, PgSchema, SKIP_POSTGRES_VAR, TempDir};
use lti_testkit::{HttpClient, LaunchBuilder};

const SECRET: &str = "application secret for the socket tests";

fn start(database_url: &str) -> RunningTool {
    RunningTool::start(
        env!("CARGO_BIN_EXE_mytool"),
        &["--database-url", database_url, "--create-silo"],
        &[("LTI_APP_SECRET", SECRET)],
    )
    .expect("mytool starts")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// One browser's whole visit; returns the resource page URL.
async fn launch_and_open(
    tool: &RunningTool,
    browser: &HttpClient,
    user: &str,
    roles: &str,
) -> String {
    let port = tool.address.rsplit(':').next().expect("a port");
    let launch = LaunchBuilder::new()
        .url(format!("http://localhost:{port}/launch"))
        .timestamp(now())
        .fresh_nonce()
        .resource_link_id("week-1")
        .param("resource_link_title", "Week 1")
        .context_id("course-7")
        .param("context_title", "Physics 101")
        .user_id(user)
        .person_name(format!("User {user}"))
        .roles(roles);
    let response = browser.launch(&launch).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text()
    );
    assert_eq!(response.location_path().as_deref(), Some("/ctest"));
    let sid = response.cookie("sid").expect("a session cookie");
    assert!(sid.http_only);
    let ctest = browser.follow(&response).await;
    assert_eq!(ctest.status(), StatusCode::SEE_OTHER, "{}", ctest.text());
    let page_url = ctest.location().expect("back to the resource").to_owned();
    assert!(page_url.contains("/resource/"), "{page_url}");
    assert_ne!(
        browser.cookie("sid"),
        Some(sid.value.clone()),
        "the session id changes when the session is established"
    );
    page_url
}

async fn whole_flow(tool: &RunningTool) {
    let addr: SocketAddr = tool.address.parse().expect("an address");
    let port = addr.port();
    let teacher = HttpClient::new(addr).with_host(format!("localhost:{port}"));
    let page_url = launch_and_open(tool, &teacher, "t-1", "Instructor").await;

    let page = teacher.get(&page_url).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Hello User t-1!"), "{html}");
    assert!(html.contains("Physics 101"));
    assert!(html.contains("READ|WRITE|CONFIGURE (7)"));
    let token = page
        .input_value("csrftoken")
        .expect("the form has a CSRF token");

    // Without the token the post is refused and nothing is stored.
    let refused = teacher.post_form(&page_url, "note=sneaky").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let wrong = teacher
        .post_form(&page_url, "csrftoken=1.AAAA&note=sneaky")
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);

    let body = lti_testkit::form_body(&[("csrftoken", &token), ("note", "Read chapter <2>")]);
    let posted = teacher.post_form(&page_url, &body).await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER, "{}", posted.text());
    let page = teacher.get(&page_url).await;
    let html = page.text();
    assert!(
        html.contains("Read chapter &#60;2&#62;") || html.contains("Read chapter &lt;2&gt;"),
        "{html}"
    );
    assert!(!html.contains("sneaky"));

    // A learner in another browser sees the note and gets no form.
    let learner = teacher.new_browser();
    let learner_url = launch_and_open(tool, &learner, "s-1", "Learner").await;
    assert_eq!(learner_url, page_url, "the same resource");
    let page = learner.get(&learner_url).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text();
    assert!(html.contains("READ (1)"), "{html}");
    assert!(html.contains("Read chapter"));
    assert!(page.input_value("csrftoken").is_none());

    // The teacher's session is not the learner's: a fresh browser gets 403
    // (after the cookie test) for the same page.
    let stranger = teacher.new_browser();
    let first = stranger.get(&page_url).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let ctest = stranger.follow(&first).await;
    let back = stranger.follow(&ctest).await;
    assert_eq!(back.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn mytool_serves_the_whole_flow_on_a_sqlite_file() {
    let dir = TempDir::new("mytool-sockets").expect("a temp dir");
    let url = format!("sqlite:{}", dir.path().join("tool.sqlite3").display());
    let tool = start(&url);
    whole_flow(&tool).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mytool_serves_the_whole_flow_on_postgres() {
    let Ok(base) = std::env::var(DATABASE_URL_VAR) else {
        if std::env::var(SKIP_POSTGRES_VAR).as_deref() == Ok("1") {
            eprintln!("SKIPPED: {DATABASE_URL_VAR} is not set and {SKIP_POSTGRES_VAR}=1");
            return;
        }
        panic!(
            "this test needs PostgreSQL: set {DATABASE_URL_VAR}=postgres://postgres@127.0.0.1:5432/test \
             (or {SKIP_POSTGRES_VAR}=1 to skip it)"
        );
    };
    let schema = PgSchema::create(&base).await.expect("a test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!(
        "{base}{separator}options=-c%20search_path%3D{}",
        schema.name()
    );
    let tool = start(&url);
    whole_flow(&tool).await;
    drop(tool);
    drop(schema);
}

/// The hidden inputs of the test consumer's form with id `launch`.
fn launch_form_params(html: &str) -> Vec<(String, String)> {
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
            (
                lti_testkit::html_unescape(name),
                lti_testkit::html_unescape(value),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_test_consumer_of_memory_mode_launches_over_real_http() {
    // The README's command: in memory, with the test consumer at /dev/.
    let tool = RunningTool::start(env!("CARGO_BIN_EXE_mytool"), &["--create-silo", "-m"], &[])
        .expect("mytool starts");
    let addr: SocketAddr = tool.address.parse().expect("an address");
    let browser = HttpClient::new(addr).with_host(format!("localhost:{}", addr.port()));
    let form = browser.get("/dev/").await;
    assert_eq!(form.status(), StatusCode::OK);
    let token = form.input_value("csrftoken").expect("a CSRF token");
    let body = lti_testkit::form_body(&[
        ("csrftoken", &token),
        ("consumer", "12345"),
        ("user_id", "dev-1"),
        ("given", "Ada"),
        ("family", "Lovelace"),
        ("roles", "Instructor"),
        ("context_id", "c-1"),
        ("context_title", "Analytical Engines"),
        ("resource_link_id", "r-1"),
        ("target", "iframe"),
    ]);
    let signed = browser.post_form("/dev/launch", &body).await;
    assert_eq!(signed.status(), StatusCode::OK, "{}", signed.text());
    let params = launch_form_params(&signed.text());
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let launch = browser
        .post_form("/launch", &lti_testkit::form_body(&pairs))
        .await;
    assert_eq!(launch.status(), StatusCode::SEE_OTHER, "{}", launch.text());
    let ctest = browser.follow(&launch).await;
    assert_eq!(ctest.status(), StatusCode::SEE_OTHER);
    let page = browser.follow(&ctest).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Hello Ada Lovelace!"), "{html}");
    assert!(html.contains("Analytical Engines"));
}
