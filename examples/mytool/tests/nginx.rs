//! The real `mytool` binary behind a real nginx that terminates TLS with a
//! certificate made at test time (DESIGN.md §4, §5):
//!
//! * nginx strips the prefix / passes the full path: signed launches pass,
//!   redirects and cookies carry the prefix and `Secure`;
//! * no canonical root, `server.trusted_proxies`: the root comes from
//!   nginx's `X-Forwarded-*` headers;
//! * a canonical root with the wrong scheme: the launch doctor says so;
//! * two instances on one PostgreSQL behind round robin: a launch on one,
//!   pages on the other, a replay refused by the other, and one instance
//!   stopped while the other keeps serving.
//!
//! Fails loudly when nginx or openssl is missing, unless `LTI_SKIP_NGINX=1`.

use std::net::SocketAddr;

use http::StatusCode;
use lti_e2e::nginx::{Nginx, PROXY_HEADERS, dir_with_cert, free_port, nginx_or_skip};
use lti_e2e::tls::{SelfSignedCert, TlsTunnel};
use lti_e2e::{RunningTool, TempDir};
use lti_store::testing::{DATABASE_URL_VAR, PgSchema, SKIP_POSTGRES_VAR};
use lti_testkit::{HttpClient, LaunchBuilder, TestResponse};

const SECRET: &str = "application secret shared by the nginx tests' instances";
const PREFIX: &str = "/tools/mytool";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// How nginx hands the path to the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `proxy_pass http://up/;`: `/tools/mytool/launch` arrives as
    /// `/launch` (with `X-Forwarded-Prefix: /tools/mytool`).
    Strip,
    /// `proxy_pass http://up;`: the path arrives unchanged.
    Full,
}

fn location(style: Style) -> String {
    match style {
        Style::Strip => format!(
            "    location {PREFIX}/ {{\n      proxy_pass http://mytool/;\n{PROXY_HEADERS}      \
             proxy_set_header X-Forwarded-Prefix {PREFIX};\n    }}\n"
        ),
        Style::Full => format!(
            "    location {PREFIX}/ {{\n      proxy_pass http://mytool;\n{PROXY_HEADERS}    }}\n"
        ),
    }
}

/// nginx on `port` (TLS) in front of `tools`, round robin; every response
/// names the upstream(s) tried in `X-Upstream`.
fn start_nginx(
    dir: TempDir,
    cert: &SelfSignedCert,
    port: u16,
    tools: &[&RunningTool],
    style: Style,
) -> Nginx {
    let servers: String = tools
        .iter()
        .map(|t| format!("    server {} max_fails=1 fail_timeout=60s;\n", t.address))
        .collect();
    let body = format!(
        "  upstream mytool {{\n{servers}  }}\n\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port} ssl;\n\
         \x20   server_name localhost;\n\
         \x20   ssl_certificate {};\n\
         \x20   ssl_certificate_key {};\n\
         \x20   add_header X-Upstream $upstream_addr always;\n\
         {}\
         \x20 }}\n",
        cert.cert_pem.display(),
        cert.key_pem.display(),
        location(style),
    );
    Nginx::start(
        &nginx_or_skip().expect("checked by the test"),
        dir,
        &body,
        &[port],
    )
    .expect("nginx starts")
}

/// A browser-like client that reaches `https://localhost:<port>/` through
/// a TLS tunnel.
fn client(tunnel: &TlsTunnel, port: u16) -> HttpClient {
    HttpClient::new(tunnel.addr).with_host(format!("localhost:{port}"))
}

fn root(port: u16) -> String {
    format!("https://localhost:{port}{PREFIX}")
}

fn launch(port: u16, user: &str) -> LaunchBuilder {
    LaunchBuilder::new()
        .url(format!("{}/launch", root(port)))
        .timestamp(now())
        .fresh_nonce()
        .resource_link_id("week-1")
        .param("resource_link_title", "Week 1")
        .context_id("course-7")
        .param("context_title", "Physics 101")
        .user_id(user)
        .person_name(format!("User {user}"))
        .roles("Instructor")
}

#[track_caller]
fn assert_status(response: &TestResponse, expected: StatusCode) {
    assert_eq!(
        response.status(),
        expected,
        "Location: {:?}, X-Upstream: {:?}\n{}",
        response.location(),
        response.header("x-upstream"),
        response.text()
    );
}

/// The last upstream nginx tried for a response (`a:1, b:2` → `b:2`).
fn upstream(response: &TestResponse) -> String {
    let value = response
        .header("x-upstream")
        .expect("nginx adds X-Upstream");
    value.rsplit(',').next().unwrap_or(value).trim().to_owned()
}

/// Launch → cookie test → resource page, asserting every hop's status,
/// `Location`, cookie attributes and embedding headers. Returns the page
/// URL.
async fn launch_and_open(browser: &HttpClient, port: u16, user: &str) -> String {
    let root = root(port);
    let response = browser.launch(&launch(port, user)).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let ctest = response.location().expect("a Location").to_owned();
    assert!(ctest.starts_with(&format!("{root}/ctest?")), "{ctest}");
    let sid = response.cookie("sid").expect("a session cookie");
    assert_eq!(sid.path.as_deref(), Some("/tools/mytool/"), "{}", sid.raw);
    assert!(
        sid.secure && sid.http_only && sid.partitioned,
        "{}",
        sid.raw
    );
    assert_eq!(sid.same_site.as_deref(), Some("None"), "{}", sid.raw);
    let test_cookie = response.cookie("ctest").expect("the test cookie");
    assert_eq!(test_cookie.path.as_deref(), Some("/tools/mytool/"));
    assert!(test_cookie.secure);
    assert_eq!(
        response.header("content-security-policy"),
        Some("frame-ancestors *")
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(response.header("x-frame-options"), None);

    let back = browser.follow(&response).await;
    assert_status(&back, StatusCode::SEE_OTHER);
    let page_url = back.location().expect("back to the page").to_owned();
    assert!(
        page_url.starts_with(&format!("{root}/resource/")) && page_url.ends_with('/'),
        "{page_url}"
    );
    let established = back.cookie("sid").expect("the session is re-issued");
    assert_ne!(established.value, sid.value, "a new id once established");
    assert_eq!(established.path.as_deref(), Some("/tools/mytool/"));
    page_url
}

/// One instance behind nginx: the whole flow, and a CSRF-protected post.
async fn single_instance(style: Style, extra_args: &[&str], canonical: bool) {
    if nginx_or_skip().is_none() {
        return;
    }
    let port = free_port().expect("a free port");
    let (dir, cert) = dir_with_cert("mytool-nginx").expect("a certificate");
    let root_arg = root(port);
    let mut args = vec!["-m", "--create-silo"];
    if canonical {
        args.extend(["--canonical-root", &root_arg]);
    }
    args.extend(extra_args);
    let tool = RunningTool::start(env!("CARGO_BIN_EXE_mytool"), &args, &[]).expect("mytool starts");
    let nginx = start_nginx(dir, &cert, port, &[&tool], style);
    let tunnel = TlsTunnel::start(SocketAddr::from(([127, 0, 0, 1], port)), &cert)
        .await
        .expect("the tunnel starts");
    let teacher = client(&tunnel, port);

    let page_url = launch_and_open(&teacher, port, "t-1").await;
    let page = teacher.get(&page_url).await;
    assert_status(&page, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Hello User t-1!"), "{html}");
    assert_eq!(upstream(&page), tool.address);
    let token = page.input_value("csrftoken").expect("a CSRF token");
    let body = lti_testkit::form_body(&[("csrftoken", &token), ("note", "Behind nginx")]);
    let posted = teacher.post_form(&page_url, &body).await;
    assert_status(&posted, StatusCode::SEE_OTHER);
    let page = teacher.get(&page_url).await;
    assert!(page.text().contains("Behind nginx"), "{}", page.text());

    // The path within the app, both ways nginx can pass it: a page outside
    // the prefix is not the tool's.
    let outside = teacher
        .get(&format!("https://localhost:{port}/launch"))
        .await;
    assert_status(&outside, StatusCode::NOT_FOUND);
    let log = nginx.access_log();
    assert!(log.contains("/tools/mytool/ctest?"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nginx_strips_the_prefix() {
    single_instance(Style::Strip, &[], true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nginx_passes_the_full_path() {
    single_instance(Style::Full, &[], true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_canonical_root_a_trusted_proxy_names_the_root() {
    let dir = TempDir::new("mytool-nginx-settings").expect("a temp dir");
    let settings = dir.path().join("settings.json");
    std::fs::write(
        &settings,
        r#"{"server": {"trusted_proxies": ["127.0.0.1", "::1"]}}"#,
    )
    .expect("settings written");
    let settings = settings.display().to_string();
    single_instance(Style::Strip, &["--settings", &settings], false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_scheme_in_canonical_root_is_explained_by_the_doctor() {
    if nginx_or_skip().is_none() {
        return;
    }
    let port = free_port().expect("a free port");
    let (dir, cert) = dir_with_cert("mytool-nginx").expect("a certificate");
    // http where nginx serves https: the LMS signs https://…, the tool
    // verifies http://… (field survey §2.1, the most reported failure).
    let wrong = format!("http://localhost:{port}{PREFIX}");
    let tool = RunningTool::start(
        env!("CARGO_BIN_EXE_mytool"),
        &["-m", "--create-silo", "--canonical-root", &wrong],
        &[],
    )
    .expect("mytool starts");
    let _nginx = start_nginx(dir, &cert, port, &[&tool], Style::Full);
    let tunnel = TlsTunnel::start(SocketAddr::from(([127, 0, 0, 1], port)), &cert)
        .await
        .expect("the tunnel starts");
    let browser = client(&tunnel, port);
    let response = browser.launch(&launch(port, "t-1")).await;
    assert_status(&response, StatusCode::UNAUTHORIZED);
    assert!(response.cookie("sid").is_none_or(|c| c.is_removal()));
    let text = lti_testkit::html_unescape(&response.text());
    for expected in [
        "The launch signature does not verify".to_owned(),
        format!("canonical_root is http://localhost:{port}/tools/mytool/"),
        "X-Forwarded-Proto: https".to_owned(),
        format!(
            "Set server.canonical_root (or --canonical-root) to https://localhost:{port}/tools/mytool/"
        ),
        format!("http://localhost:{port}/tools/mytool/launch"),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("secret\n"), "no secret on the page");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_postgres_behind_round_robin() {
    if nginx_or_skip().is_none() {
        return;
    }
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
    let port = free_port().expect("a free port");
    let (dir, cert) = dir_with_cert("mytool-nginx").expect("a certificate");
    let root_arg = root(port);
    let start = |create: bool| {
        let mut args = vec!["--database-url", &url, "--canonical-root", &root_arg];
        if create {
            args.push("--create-silo");
        }
        RunningTool::start(
            env!("CARGO_BIN_EXE_mytool"),
            &args,
            &[("LTI_APP_SECRET", SECRET)],
        )
        .expect("mytool starts")
    };
    // One after the other: the first creates the schema and the consumer.
    let first = start(true);
    let second = start(false);
    let nginx = start_nginx(dir, &cert, port, &[&first, &second], Style::Full);
    let tunnel = TlsTunnel::start(SocketAddr::from(([127, 0, 0, 1], port)), &cert)
        .await
        .expect("the tunnel starts");
    let browser = client(&tunnel, port);
    let addresses = [first.address.clone(), second.address.clone()];

    // The launch lands on one instance…
    let signed = launch(port, "t-1");
    let response = browser.launch(&signed).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let launched_on = upstream(&response);
    assert!(addresses.contains(&launched_on), "{launched_on}");
    let other = addresses
        .iter()
        .find(|a| **a != launched_on)
        .expect("two instances")
        .clone();
    let back = browser.follow(&response).await;
    assert_status(&back, StatusCode::SEE_OTHER);
    let page_url = back.location().expect("the page").to_owned();

    // …and the page is served by the other one: sessions are signed
    // cookies, visits are rows in the shared database.
    let mut served_by_other = false;
    for _ in 0..4 {
        let page = browser.get(&page_url).await;
        assert_status(&page, StatusCode::OK);
        assert!(page.text().contains("Hello User t-1!"), "{}", page.text());
        served_by_other |= upstream(&page) == other;
    }
    assert!(served_by_other, "no page came from {other}");

    // A replay is refused, also by the instance that did not see the
    // launch: the nonce is a shared row.
    let mut replayed_on_other = false;
    for _ in 0..4 {
        let replay = browser.launch(&signed).await;
        assert_status(&replay, StatusCode::UNAUTHORIZED);
        assert!(replay.text().contains("already used"), "{}", replay.text());
        replayed_on_other |= upstream(&replay) == other;
    }
    assert!(replayed_on_other, "no replay reached {other}");

    // Stop the instance the launch did not land on: nginx marks it failed
    // and the survivor serves everything.
    let (survivor, stopped) = if first.address == launched_on {
        (first, second)
    } else {
        (second, first)
    };
    drop(stopped);
    let fresh = browser.new_browser();
    let page_url = launch_and_open(&fresh, port, "t-2").await;
    for _ in 0..4 {
        let page = fresh.get(&page_url).await;
        assert_status(&page, StatusCode::OK);
        assert_eq!(upstream(&page), survivor.address);
    }
    let errors = nginx.error_log();
    assert!(
        errors.contains("connect() failed (111: Connection refused) while connecting to upstream"),
        "nginx never tried the stopped instance:\n{errors}"
    );
    drop(survivor);
    drop(schema);
}
