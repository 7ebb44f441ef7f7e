//! No secret in the logs or the pages (RELIABILITY.md §6): the whole flow
//! runs under a TRACE subscriber that writes to memory, then the log and
//! every response are scanned. Alone in its test binary, because the
//! subscriber is the process's global one (a thread-scoped one misses
//! events whose interest another test's thread cached first).

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::post;
use axum_lti::{LtiRejection, Visit};
use common::{assert_status, field, info_page, session_id};
use http::StatusCode;
use lti_testkit::{TEST_APP_SECRET, TestResponse, TestTool, form_body, html_unescape};

const CONSUMER_SECRET: &str = "Quokka-Zebra-consumer-secret-4b1d";
const OTHER_SECRET: &str = "Narwhal-Okapi-consumer-secret-77e0";

/// A state-changing tool route (CSRF-protected by the session layer).
async fn save(visit: Visit) -> Result<String, LtiRejection> {
    Ok(format!("saved for {}", visit.resource().link_id))
}

async fn tool() -> TestTool {
    TestTool::builder()
        .with_consumer("12345", CONSUMER_SECRET)
        .with_debug_launch(true)
        .configure(|s| s.server.dev = true)
        .with_routes(
            Router::new()
                .route("/resource/{id}/save", post(save))
                .merge(common::info_routes()),
        )
        .build()
        .await
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// Everything a person or a log reader could see of a response.
fn visible(response: &TestResponse) -> String {
    let mut all = html_unescape(&response.text());
    for (name, value) in response.headers() {
        if name != http::header::SET_COOKIE {
            all.push_str(&format!("\n{name}: {}", value.to_str().unwrap_or_default()));
        }
    }
    all
}

/// Runs the whole flow (launches good and bad, the cookie test, pages, a
/// CSRF-protected post, the test consumer) under a TRACE subscriber that
/// writes to memory, then scans the log and every page for secrets: the
/// consumer secrets, the application secret, every session cookie value
/// and id the browsers held, CSRF tokens and OAuth signatures.
#[tokio::test]
async fn no_secret_reaches_the_logs_or_the_pages() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let tool = tool().await;
    tool.add_consumer("other", OTHER_SECRET)
        .await
        .expect("a second consumer");
    let mut responses = Vec::new();
    let mut cookies = Vec::new();
    let mut tokens = Vec::new();
    let mut signatures = Vec::new();

    let browser = tool.client();
    let launch = tool.launch().roles("Instructor");
    signatures.extend(launch.signed_param("oauth_signature"));
    let first = browser.launch(&launch).await;
    cookies.extend(browser.cookie("sid"));
    let ctest = browser.follow(&first).await;
    cookies.extend(browser.cookie("sid"));
    let page_url = ctest.location().expect("a page").to_owned();
    let page = browser.get(&page_url).await;
    assert_status(&page, StatusCode::OK);
    let info = info_page(&browser, &page_url).await;
    let token = field(&info, "csrf");
    tokens.push(token.clone());
    let saved = browser
        .post_form(
            &format!("{page_url}save"),
            form_body(&[("csrftoken", &token)]),
        )
        .await;
    assert_status(&saved, StatusCode::OK);
    let refused = browser
        .post_form(&format!("{page_url}save"), "csrftoken=1.AAAA")
        .await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    // The test consumer signs with the stored secret: its pages show the
    // parameters and base string, never the secret.
    let dev = browser.get("/dev/").await;
    assert_status(&dev, StatusCode::OK);
    let dev_token = dev.input_value("csrftoken").expect("a token");
    tokens.push(dev_token.clone());
    let signed = browser
        .post_form(
            "/dev/launch",
            form_body(&[
                ("csrftoken", &dev_token),
                ("consumer", "12345"),
                ("resource_link_id", "dev-1"),
            ]),
        )
        .await;
    assert_status(&signed, StatusCode::OK);
    signatures.extend(signed.input_value("oauth_signature"));
    responses.extend([first, ctest, page, info, saved, refused, dev, signed]);
    // Refusals, with the launch doctor on.
    for bad in [
        tool.launch().set_after_signing("roles", "Administrator"),
        tool.launch().consumer("12345", "wrong secret"),
        tool.launch().consumer("other", "wrong secret"),
        tool.launch().consumer("nobody", CONSUMER_SECRET),
        tool.launch().timestamp(0),
        tool.launch().param("lti_version", "LTI-9"),
        tool.launch()
            .param("lti_version", "LTI-9")
            .return_url("http://lms.example/return"),
        launch.clone(), // a replay
    ] {
        signatures.extend(bad.signed_param("oauth_signature"));
        responses.push(tool.client().launch(&bad).await);
    }
    cookies.extend(browser.cookie("sid"));

    let log = log.text();
    assert!(
        log.contains("launch accepted"),
        "the log was captured:\n{log}"
    );
    assert!(log.contains("request refused"), "{log}");
    // The replay from a new browser, refused only when its launch is
    // stored, is logged like every other refusal, with its reason.
    assert!(
        log.lines()
            .any(|l| l.contains("launch refused") && l.contains("nonce was seen before")),
        "{log}"
    );
    let mut needles: Vec<(String, String)> = vec![
        ("consumer secret".into(), CONSUMER_SECRET.into()),
        ("other consumer secret".into(), OTHER_SECRET.into()),
        ("application secret".into(), TEST_APP_SECRET.into()),
    ];
    for cookie in &cookies {
        needles.push(("session cookie".into(), cookie.clone()));
        needles.push(("session id".into(), session_id(cookie)));
    }
    for token in &tokens {
        needles.push(("CSRF token".into(), token.clone()));
    }
    for signature in &signatures {
        needles.push(("OAuth signature".into(), signature.clone()));
    }
    for (what, needle) in &needles {
        assert!(
            !log.contains(needle.as_str()),
            "the log holds the {what}:\n{log}"
        );
    }
    for response in &responses {
        let seen = visible(response);
        for (what, needle) in &needles[..3] {
            assert!(
                !seen.contains(needle.as_str()),
                "a {} page shows the {what}:\n{seen}",
                response.status()
            );
        }
    }
    eprintln!(
        "scanned {} bytes of TRACE log and {} responses for {} secrets",
        log.len(),
        responses.len(),
        needles.len()
    );
}
