//! The malformed-input sweep's wire part and the log scan, against the
//! real `mytool` binary (RELIABILITY.md §4, §6):
//!
//! * requests only a raw socket can send — a body cut short, oversized or
//!   too many headers, bytes no header may hold, chunked bodies over the
//!   limit, conflicting lengths — are answered (never a hang or a crash),
//!   the tool keeps serving and its database is unchanged;
//! * the whole flow under `-vvv` (TRACE) logging: no consumer secret,
//!   application secret, session cookie, CSRF token or OAuth signature
//!   appears in anything the process prints.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use http::StatusCode;
use lti_e2e::TempDir;
use lti_e2e::hardening::ToolProcess;
use lti_store::Db;
use lti_store::testing::{Table, count_rows};
use lti_testkit::{HttpClient, LaunchBuilder, form_body};

const SECRET: &str = "Wire-Test application secret 9d41c7";
const CONSUMER_SECRET: &str = "Wire-Test-consumer-secret-Pangolin";
const OWNER_EMAIL: &str = "owner@wire.example";
const OWNER_PASSWORD: &str = "Wire-Test owner password Axolotl";
const ADMIN_MADE_SECRET: &str = "Wire-Test-admin-made-secret-Tapir";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A tool on a SQLite file whose `--create-silo` consumer has
/// [`CONSUMER_SECRET`]; `extra` are more arguments (`-vvv`).
fn start(dir: &TempDir, extra: &[&str]) -> (ToolProcess, String) {
    let url = format!("sqlite:{}", dir.path().join("tool.sqlite3").display());
    let settings = dir.path().join("settings.json");
    std::fs::write(
        &settings,
        format!(r#"{{ "silo": {{ "key": "12345", "secret": "{CONSUMER_SECRET}" }} }}"#),
    )
    .expect("settings");
    let settings = settings.display().to_string();
    let mut args = vec![
        "--settings",
        &settings,
        "--database-url",
        &url,
        "--create-silo",
    ];
    args.extend_from_slice(extra);
    let tool = ToolProcess::start(
        env!("CARGO_BIN_EXE_mytool"),
        &args,
        &[("LTI_APP_SECRET", SECRET)],
    )
    .expect("mytool starts");
    (tool, url)
}

async fn counts(url: &str) -> Vec<i64> {
    let db: Db = lti_store::open(url, &lti_store::StoreOptions::new().with_migrate(false))
        .await
        .expect("the database");
    let mut out = Vec::new();
    for table in [
        Table::AppKeys,
        Table::Silos,
        Table::Consumers,
        Table::Nonces,
        Table::Contexts,
        Table::Resources,
        Table::Users,
        Table::Visits,
        Table::Owners,
    ] {
        out.push(count_rows(&db, table).await.expect("count"));
    }
    db.close().await;
    out
}

/// What came back on a raw connection.
#[derive(Debug)]
struct Raw {
    status: Option<u16>,
    head: String,
    body: String,
}

/// Writes `request` on a new connection, optionally half-closes it (the
/// client gives up sending), and reads until the server closes or 10 s.
fn raw(addr: SocketAddr, request: &[u8], half_close: bool) -> Raw {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // The server may answer and close before all is written (431).
    let _ = stream.write_all(request);
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                received.extend_from_slice(&buf[..n]);
                // One response is enough; stop at the end of its body.
                if response_complete(&received) {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok());
    Raw {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn response_complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .is_some_and(|len| body.len() >= len)
}

fn form_post(path: &str, port: u16, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n{extra_headers}\r\n"
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_only_the_wire_can_send_are_answered_and_change_nothing() {
    let dir = TempDir::new("hardening-wire").expect("a temp dir");
    let (mut tool, url) = start(&dir, &[]);
    let addr = tool.socket_addr();
    let port = addr.port();
    let before = counts(&url).await;
    let signed = LaunchBuilder::new()
        .url(format!("http://localhost:{port}/launch"))
        .consumer("12345", CONSUMER_SECRET)
        .timestamp(now())
        .fresh_nonce()
        .body();

    // Each: (what, request bytes, half-close, expected status, with a page).
    let cases: Vec<(&str, Vec<u8>, bool, u16, bool)> = vec![
        (
            "a body cut short (Content-Length 4096, 40 bytes sent)",
            form_post(
                "/launch",
                port,
                "Content-Length: 4096\r\n",
                &signed.as_bytes()[..40],
            ),
            true,
            400,
            true,
        ),
        (
            "a signed launch cut short by one byte",
            form_post(
                "/launch",
                port,
                &format!("Content-Length: {}\r\n", signed.len()),
                &signed.as_bytes()[..signed.len() - 1],
            ),
            true,
            400,
            true,
        ),
        (
            "a chunked body over the limit",
            {
                let chunk = "x".repeat(16 * 1024);
                let mut body = String::new();
                for _ in 0..6 {
                    body.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
                }
                body.push_str("0\r\n\r\n");
                form_post(
                    "/launch",
                    port,
                    "Transfer-Encoding: chunked\r\n",
                    body.as_bytes(),
                )
            },
            false,
            413,
            true,
        ),
        (
            "a declared length over the limit, body never sent (Expect: 100-continue)",
            form_post(
                "/launch",
                port,
                "Content-Length: 10000000\r\nExpect: 100-continue\r\n",
                b"",
            ),
            false,
            413,
            true,
        ),
        (
            "a cut-off chunked body",
            form_post(
                "/launch",
                port,
                "Transfer-Encoding: chunked\r\n",
                b"100\r\nabc",
            ),
            true,
            400,
            true,
        ),
        (
            "a 16 KiB cookie of garbage",
            format!(
                "GET /resource/0000ABCD/ HTTP/1.1\r\nHost: localhost:{port}\r\n\
                 Cookie: ctest=0; sid={}\r\n\r\n",
                "A".repeat(16 * 1024)
            )
            .into_bytes(),
            false,
            403,
            true,
        ),
        (
            "a 1 MiB header",
            format!(
                "GET / HTTP/1.1\r\nHost: localhost:{port}\r\nX-Big: {}\r\n\r\n",
                "a".repeat(1024 * 1024)
            )
            .into_bytes(),
            false,
            431,
            false,
        ),
        (
            "200 headers",
            format!(
                "GET / HTTP/1.1\r\nHost: localhost:{port}\r\n{}\r\n",
                (0..200)
                    .map(|i| format!("X-H{i}: v\r\n"))
                    .collect::<String>()
            )
            .into_bytes(),
            false,
            431,
            false,
        ),
        (
            "a NUL byte in a header",
            format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\nCookie: sid=a\0b\r\n\r\n")
                .into_bytes(),
            false,
            400,
            false,
        ),
        (
            "a CR inside a header value",
            format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\nX-A: a\rSet-Cookie: x=1\r\n\r\n")
                .into_bytes(),
            false,
            400,
            false,
        ),
        (
            "both Content-Length and Transfer-Encoding (request smuggling)",
            form_post(
                "/launch",
                port,
                "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                b"0\r\n\r\n",
            ),
            false,
            400,
            false,
        ),
        (
            "two different Content-Lengths",
            form_post(
                "/launch",
                port,
                "Content-Length: 3\r\nContent-Length: 5\r\n",
                b"a=1&b",
            ),
            false,
            400,
            false,
        ),
        (
            "raw non-ASCII bytes in the path (accepted: on to the cookie test)",
            format!(
                "GET /resource/0000ABCD/\u{e9}t\u{e9} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"
            )
            .into_bytes(),
            false,
            303,
            false,
        ),
        (
            "a request line of garbage",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n".to_vec(),
            false,
            400,
            false,
        ),
    ];
    let mut summary = Vec::new();
    for (what, request, half_close, expected, page) in cases {
        let answer = tokio::task::spawn_blocking(move || raw(addr, &request, half_close))
            .await
            .expect("a raw request");
        summary.push(format!("{what}: {:?}", answer.status));
        // A request refused before it is all read (a header or chunked
        // body past the limit) leaves unread bytes: closing then sends a
        // reset, which may drop the answer before the client reads it
        // (RFC 9112 §9.6). Either way nothing got in.
        let reset_ok = answer.status.is_none()
            && (what.starts_with("a 1 MiB header") || what.starts_with("a chunked body over"));
        assert!(
            reset_ok || answer.status == Some(expected),
            "{what}: expected {expected}, got {:?}: {}\n{}",
            answer.status,
            answer.head,
            answer.body.chars().take(300).collect::<String>()
        );
        if page && !reset_ok {
            assert!(
                answer
                    .head
                    .to_ascii_lowercase()
                    .contains("content-type: text/html")
                    && answer.body.contains("</html>"),
                "{what}: no page:\n{}\n{}",
                answer.head,
                answer.body
            );
        }
        assert!(
            answer.head.is_ascii(),
            "{what}: a header is not ASCII:\n{}",
            answer.head
        );
        assert!(tool.is_running(), "{what}: the tool died");
    }
    // Still serving, nothing stored.
    let browser = HttpClient::new(addr).with_host(format!("localhost:{port}"));
    assert_eq!(
        browser.get("/no-such-page").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(counts(&url).await, before, "the database changed");
    eprintln!("wire cases:\n  {}", summary.join("\n  "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_of_the_whole_flow_hold_no_secret() {
    let dir = TempDir::new("hardening-logs").expect("a temp dir");
    let (tool, url) = start(&dir, &["-vvv", "--admin"]);
    // An owner for the admin console, made with the command line while the
    // tool serves (the password comes from the environment).
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_mytool"))
        .args(["--database-url", &url, "owners", "add", "--silo", "testing"])
        .args(["--email", OWNER_EMAIL])
        .env("LTI_APP_SECRET", SECRET)
        .env("LTI_OWNER_PASSWORD", OWNER_PASSWORD)
        .output()
        .expect("owners add runs");
    assert!(made.status.success(), "{made:?}");
    let port = tool.port();
    let browser = HttpClient::new(tool.socket_addr()).with_host(format!("localhost:{port}"));
    let launch = |user: &str| {
        LaunchBuilder::new()
            .url(format!("http://localhost:{port}/launch"))
            .consumer("12345", CONSUMER_SECRET)
            .timestamp(now())
            .fresh_nonce()
            .user_id(user)
            .roles("Instructor")
            .context_id("course-1")
            .param("context_title", "Physics")
    };
    let mut cookies = Vec::new();
    let mut signatures = Vec::new();
    let good = launch("teacher");
    signatures.extend(good.signed_param("oauth_signature"));
    let first = browser.launch(&good).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER, "{}", first.text());
    cookies.extend(browser.cookie("sid"));
    let ctest = browser.follow(&first).await;
    cookies.extend(browser.cookie("sid"));
    let page_url = ctest.location().expect("the page").to_owned();
    let page = browser.get(&page_url).await;
    assert_eq!(page.status(), StatusCode::OK);
    let token = page.input_value("csrftoken").expect("a CSRF token");
    let posted = browser
        .post_form(
            &page_url,
            form_body(&[("csrftoken", &token), ("note", "hello")]),
        )
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER, "{}", posted.text());
    let refused = browser.post_form(&page_url, "note=no-token").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Refusals: wrong secret, unknown key, replay, a protocol error.
    for bad in [
        launch("x").consumer("12345", "wrong"),
        launch("x").consumer("unknown", CONSUMER_SECRET),
        good.clone(),
        launch("x").param("lti_version", "LTI-9"),
    ] {
        signatures.extend(bad.signed_param("oauth_signature"));
        let response = browser.new_browser().launch(&bad).await;
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    // A second visit in the same browser rotates the session id.
    let again = browser.launch(&launch("teacher")).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    cookies.extend(browser.cookie("sid"));
    // The admin console: log in, list, add a consumer with a chosen
    // secret (shown once, on that page only), log out.
    let admin = browser.new_browser();
    let form = admin.get("/admin/login").await;
    assert_eq!(form.status(), StatusCode::OK);
    let login_token = form.input_value("csrftoken").expect("a login token");
    let login = admin
        .post_form(
            "/admin/login",
            form_body(&[
                ("csrftoken", &login_token),
                ("email", OWNER_EMAIL),
                ("password", OWNER_PASSWORD),
            ]),
        )
        .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "{}", login.text());
    cookies.extend(admin.cookie("sid"));
    assert_eq!(admin.get("/admin/").await.status(), StatusCode::OK);
    let new = admin.get("/admin/consumers/new").await;
    let admin_token = new.input_value("csrftoken").expect("a form token");
    let created = admin
        .post_form(
            "/admin/consumers",
            form_body(&[
                ("csrftoken", &admin_token),
                ("handle", "Wire LMS"),
                ("key", "wire-admin-key"),
                ("secret", ADMIN_MADE_SECRET),
            ]),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK, "{}", created.text());
    let guesser = admin.new_browser();
    let form = guesser.get("/admin/login").await;
    let guess_token = form.input_value("csrftoken").expect("a login token");
    let wrong = guesser
        .post_form(
            "/admin/login",
            form_body(&[
                ("csrftoken", &guess_token),
                ("email", OWNER_EMAIL),
                ("password", "Wire-Test wrong guess"),
            ]),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN, "{}", wrong.text());
    let list = admin.get("/admin/").await;
    assert!(!list.text().contains(ADMIN_MADE_SECRET), "shown once only");
    let logout_token = list.input_value("csrftoken").expect("a logout token");
    let out = admin
        .post_form("/admin/logout", form_body(&[("csrftoken", &logout_token)]))
        .await;
    assert!(out.status().is_redirection(), "{}", out.status());

    // Let the last lines reach the pipe.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let output = format!(
        "{}\n{}\n{}",
        tool.output(),
        String::from_utf8_lossy(&made.stdout),
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(output.contains("launch accepted"), "TRACE logs captured");
    assert!(
        output.contains("TRACE") || output.contains("DEBUG"),
        "verbose"
    );
    assert!(
        !tool.output().contains('\u{1b}'),
        "no terminal colour codes in logs written to a pipe"
    );
    let mut needles = vec![
        ("consumer secret", CONSUMER_SECRET.to_owned()),
        ("application secret", SECRET.to_owned()),
        ("CSRF token", token.clone()),
        ("owner password", OWNER_PASSWORD.to_owned()),
        (
            "consumer secret set in the console",
            ADMIN_MADE_SECRET.to_owned(),
        ),
        ("admin CSRF token", admin_token.clone()),
    ];
    for cookie in &cookies {
        needles.push(("session cookie", cookie.clone()));
        needles.push(("session id", cookie.chars().take(39).collect()));
    }
    for signature in &signatures {
        needles.push(("OAuth signature", signature.clone()));
    }
    for (what, needle) in &needles {
        assert!(
            !output.contains(needle.as_str()),
            "the {what} is in the tool's output"
        );
    }
    eprintln!(
        "scanned {} lines ({} bytes) of -vvv output for {} secrets: none found",
        output.lines().count(),
        output.len(),
        needles.len()
    );
}
