//! The real `mytool` in a real browser, inside an LMS iframe, over https.
//!
//! A small LMS page on `http://127.0.0.1:<lms>/` (another *site* than the
//! tool's `https://localhost:<port>/`) auto-submits a signed launch into an
//! iframe. nginx terminates TLS with a certificate made at test time;
//! headless Chromium (Debian's, driven by chromedriver) accepts it through
//! `--ignore-certificate-errors-spki-list`. Two tools sit behind nginx:
//! `/tools/mytool/` with `Partitioned` cookies (the default) and
//! `/tools/nopart/` with `session.partitioned: false`.
//!
//! * third-party cookies allowed: both tools render inside the iframe;
//! * blocked, `Partitioned` on: the tool still renders (CHIPS);
//! * blocked, `Partitioned` off: the iframe shows the new-window link; the
//!   new window renders the page (`/wlaunch`), and a second framed launch
//!   is merged into the session that window established.
//!
//! Screenshots of every end state go to `tests/artifacts/browser/`.
//! Fails loudly when Chromium, chromedriver or nginx is missing, unless
//! `LTI_SKIP_BROWSER=1`.

use std::fmt::Write as _;
use std::path::PathBuf;

use lti_e2e::browser::{Browser, BrowserOptions, BrowserPrograms, PageState, browser_or_skip};
use lti_e2e::nginx::{Nginx, PROXY_HEADERS, dir_with_cert, free_port, nginx_or_skip};
use lti_e2e::tls::SelfSignedCert;
use lti_e2e::{RunningTool, TempDir};
use lti_testkit::LaunchBuilder;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn artifact(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/artifacts/browser")
        .join(name)
}

/// Everything the browser talks to: nginx (tool over https, LMS over
/// http) and the two tools.
struct Stack {
    nginx: Nginx,
    port: u16,
    lms_port: u16,
    cert: SelfSignedCert,
    _tools: [RunningTool; 2],
    _settings: TempDir,
}

/// The programs, or `None` to skip (only with `LTI_SKIP_BROWSER=1`).
fn programs() -> Option<BrowserPrograms> {
    let programs = browser_or_skip()?;
    // nginx is part of this suite too; its own switch does not skip it.
    if nginx_or_skip().is_none() {
        panic!("the browser suite needs nginx (LTI_SKIP_NGINX does not skip the browser suite)");
    }
    Some(programs)
}

impl Stack {
    fn start() -> Self {
        let port = free_port().expect("a free port");
        let lms_port = free_port().expect("a free port");
        let (dir, cert) = dir_with_cert("mytool-browser").expect("a certificate");
        std::fs::create_dir_all(dir.path().join("lms")).expect("the LMS directory");
        let settings = TempDir::new("mytool-browser-settings").expect("a temp dir");
        let nopart = settings.path().join("nopart.json");
        std::fs::write(&nopart, r#"{"session": {"partitioned": false}}"#).expect("settings");
        let nopart = nopart.display().to_string();
        let root = format!("https://localhost:{port}/tools/mytool");
        let nopart_root = format!("https://localhost:{port}/tools/nopart");
        let bin = env!("CARGO_BIN_EXE_mytool");
        let partitioned = RunningTool::start(
            bin,
            &["-m", "--create-silo", "--canonical-root", &root],
            &[],
        )
        .expect("mytool starts");
        let unpartitioned = RunningTool::start(
            bin,
            &[
                "-m",
                "--create-silo",
                "--settings",
                &nopart,
                "--canonical-root",
                &nopart_root,
            ],
            &[],
        )
        .expect("mytool starts");
        // One tool gets the full path, the other the stripped one.
        let body = format!(
            "  server {{\n\
             \x20   listen 127.0.0.1:{port} ssl;\n\
             \x20   server_name localhost;\n\
             \x20   ssl_certificate {cert};\n\
             \x20   ssl_certificate_key {key};\n\
             \x20   location /tools/mytool/ {{\n      proxy_pass http://{a};\n{PROXY_HEADERS}    }}\n\
             \x20   location /tools/nopart/ {{\n      proxy_pass http://{b}/;\n{PROXY_HEADERS}    }}\n\
             \x20 }}\n\
             \x20 server {{\n\
             \x20   listen 127.0.0.1:{lms_port};\n\
             \x20   root {{dir}}/lms;\n\
             \x20   add_header Cache-Control no-store;\n\
             \x20 }}\n",
            cert = cert.cert_pem.display(),
            key = cert.key_pem.display(),
            a = partitioned.address,
            b = unpartitioned.address,
        );
        let nginx = Nginx::start(
            &nginx_or_skip().expect("checked"),
            dir,
            &body,
            &[port, lms_port],
        )
        .expect("nginx starts");
        Self {
            nginx,
            port,
            lms_port,
            cert,
            _tools: [partitioned, unpartitioned],
            _settings: settings,
        }
    }

    async fn browser(&self, programs: &BrowserPrograms, mode: u8) -> Browser {
        let browser = Browser::start(
            programs,
            &BrowserOptions {
                cookie_controls_mode: mode,
                spki_sha256: self.cert.spki_sha256.clone(),
            },
        )
        .await
        .expect("chromium starts");
        // Trust the preference only once Chromium reports it as set.
        let (value, user_set) = browser
            .cookie_controls_mode()
            .await
            .expect("chromium reports its preferences");
        assert_eq!(
            (value, user_set),
            (i64::from(mode), true),
            "profile.cookie_controls_mode did not take effect"
        );
        browser
    }

    fn tool_root(&self, tool: &str) -> String {
        format!("https://localhost:{}/tools/{tool}/", self.port)
    }

    /// Writes an LMS page that posts a signed launch of `resource` by
    /// `user` to `tool` into its iframe (`framed`) or as the whole page,
    /// and returns its URL.
    fn lms_page(&self, name: &str, tool: &str, resource: &str, user: &str, framed: bool) -> String {
        let launch = LaunchBuilder::new()
            .url(format!("{}launch", self.tool_root(tool)))
            .timestamp(now())
            .fresh_nonce()
            .resource_link_id(resource)
            .param("resource_link_title", format!("Reading {resource}"))
            .context_id("physics-101")
            .param("context_title", "Physics 101")
            .user_id(user)
            .person_name(format!("Student {user}"))
            .roles("Learner");
        let mut inputs = String::new();
        for (name, value) in launch.params() {
            let _ = writeln!(
                inputs,
                "  <input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(&name),
                escape(&value)
            );
        }
        let (target, frame) = if framed {
            (
                "tool",
                "<iframe name=\"tool\" id=\"tool\" title=\"LTI tool\"></iframe>\n",
            )
        } else {
            ("_self", "")
        };
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Test LMS</title>\n<style>body{{font-family:sans-serif;margin:1rem;background:#eef}}\
             iframe{{width:100%;height:560px;border:3px solid #446;background:#fff}}</style></head>\n\
             <body><h1>Physics 101 — LMS on 127.0.0.1:{lms} — {tool} / {resource}</h1>\n\
             <form id=\"launch\" method=\"post\" action=\"{action}\" target=\"{target}\">\n{inputs}</form>\n\
             {frame}<script>document.getElementById('launch').submit();</script>\n</body></html>\n",
            lms = self.lms_port,
            action = escape(launch.launch_url()),
        );
        std::fs::write(self.nginx.dir().join("lms").join(name), html).expect("LMS page");
        format!("http://127.0.0.1:{}/{name}", self.lms_port)
    }

    /// How many requests nginx logged whose line contains `needle`.
    fn requests(&self, needle: &str) -> usize {
        self.nginx
            .access_log()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn renders(state: &PageState, stack: &Stack, tool: &str, user: &str) -> bool {
    state
        .href
        .starts_with(&format!("{}resource/", stack.tool_root(tool)))
        && state.text.contains(&format!("Hello Student {user}!"))
}

#[track_caller]
fn assert_page(state: &PageState, what: &str) {
    assert_eq!(state.status, 200, "{what}: {state:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn third_party_cookies_allowed_the_tool_renders_in_the_iframe() {
    let Some(programs) = programs() else { return };
    let stack = Stack::start();
    let browser = stack.browser(&programs, 0).await;
    for tool in ["mytool", "nopart"] {
        let page = stack.lms_page(&format!("allowed-{tool}.html"), tool, "week-1", "a-1", true);
        browser.goto(&page).await.expect("the LMS page opens");
        let state = browser
            .wait_frame("#tool", "the resource page in the iframe", |s| {
                renders(s, &stack, tool, "a-1")
            })
            .await
            .expect("the tool renders inside the iframe");
        assert_page(&state, tool);
        browser
            .screenshot(&artifact(&format!("allowed-{tool}.png")))
            .await
            .expect("a screenshot");
    }
    // The unpartitioned tool kept its session inside the iframe: proof that
    // third-party cookies really were allowed.
    assert_eq!(stack.requests("/tools/nopart/wlaunch"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn third_party_cookies_blocked_partitioned_cookies_keep_the_session() {
    let Some(programs) = programs() else { return };
    let stack = Stack::start();
    let browser = stack.browser(&programs, 1).await;
    let page = stack.lms_page("chips.html", "mytool", "week-1", "c-1", true);
    browser.goto(&page).await.expect("the LMS page opens");
    let state = browser
        .wait_frame("#tool", "the resource page in the iframe", |s| {
            renders(s, &stack, "mytool", "c-1") || s.has_wlaunch
        })
        .await
        .expect("the iframe settles");
    assert!(
        !state.has_wlaunch,
        "the cookie test failed although cookies are Partitioned: {state:#?}"
    );
    assert_page(&state, "CHIPS");
    browser
        .screenshot(&artifact("blocked-partitioned.png"))
        .await
        .expect("a screenshot");
    assert_eq!(stack.requests("/tools/mytool/wlaunch"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn third_party_cookies_blocked_unpartitioned_falls_back_to_a_new_window() {
    let Some(programs) = programs() else { return };
    let stack = Stack::start();
    let browser = stack.browser(&programs, 1).await;
    let lms_window = browser.window().await.expect("a window");

    // 1. The framed launch cannot keep its cookies: the link is offered.
    let page = stack.lms_page("blocked-1.html", "nopart", "week-1", "b-1", true);
    browser.goto(&page).await.expect("the LMS page opens");
    let state = browser
        .wait_frame("#tool", "the new-window link in the iframe", |s| {
            s.has_wlaunch || renders(s, &stack, "nopart", "b-1")
        })
        .await
        .expect("the iframe settles");
    assert!(state.has_wlaunch, "no new-window link: {state:#?}");
    assert!(
        state
            .href
            .starts_with(&format!("{}ctest?", stack.tool_root("nopart"))),
        "{state:#?}"
    );
    browser
        .screenshot(&artifact("blocked-unpartitioned-link.png"))
        .await
        .expect("a screenshot");

    // 2. The link opens the tool first-party, where the page renders.
    let known = browser.windows().await.expect("windows");
    browser
        .click_in_frame("#tool", "#wlaunch")
        .await
        .expect("the link can be clicked");
    browser
        .switch_to_new_window(&known)
        .await
        .expect("a new window");
    let first = browser
        .wait_page("the resource page in the new window", |s| {
            renders(s, &stack, "nopart", "b-1")
        })
        .await
        .expect("the page renders in the new window");
    assert_page(&first, "new window");
    browser
        .screenshot(&artifact("blocked-unpartitioned-new-window.png"))
        .await
        .expect("a screenshot");
    assert_eq!(stack.requests("GET /tools/nopart/wlaunch?"), 1);
    assert_eq!(
        stack.requests("framed=1"),
        1,
        "the window adopted the session"
    );

    // 3. A second framed launch, another resource: its new window finds the
    //    session established in step 2 and merges the framed visit into it.
    browser
        .switch_to_window(&lms_window)
        .await
        .expect("back to the LMS");
    let page = stack.lms_page("blocked-2.html", "nopart", "week-2", "b-1", true);
    browser.goto(&page).await.expect("the LMS page opens");
    browser
        .wait_frame("#tool", "the new-window link again", |s| s.has_wlaunch)
        .await
        .expect("the link again");
    let known = browser.windows().await.expect("windows");
    browser
        .click_in_frame("#tool", "#wlaunch")
        .await
        .expect("the link can be clicked");
    browser
        .switch_to_new_window(&known)
        .await
        .expect("a new window");
    let second = browser
        .wait_page("week 2 in the merged session", |s| {
            renders(s, &stack, "nopart", "b-1") && s.text.contains("week-2")
        })
        .await
        .expect("week 2 renders");
    assert_page(&second, "merged");
    browser
        .screenshot(&artifact("blocked-unpartitioned-merged-week-2.png"))
        .await
        .expect("a screenshot");
    assert_eq!(stack.requests("GET /tools/nopart/wlaunch?"), 2);
    assert_eq!(
        stack.requests("framed=1"),
        1,
        "the second window merged instead of adopting"
    );
    // The merged session holds both visits: week 1 opens in this window too.
    browser.goto(&first.href).await.expect("week 1 opens");
    let again = browser
        .wait_page("week 1 in the merged session", |s| {
            renders(s, &stack, "nopart", "b-1") && s.text.contains("week-1")
        })
        .await
        .expect("week 1 renders in the merged session");
    assert_page(&again, "week 1 after the merge");
    browser
        .screenshot(&artifact("blocked-unpartitioned-merged-week-1.png"))
        .await
        .expect("a screenshot");
}
