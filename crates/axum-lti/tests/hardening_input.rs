//! The malformed-input sweep (RELIABILITY.md §4): a table of bad requests
//! against every route the framework serves — `/launch`, `/ctest`,
//! `/wlaunch`, `/resource/…`, the test consumer under `/dev/` and the admin
//! console under `/admin/` (without a login) — run in process, on SQLite
//! and on PostgreSQL.
//!
//! Every request must get its deliberate 4xx status *with a page* (an HTML
//! body, never empty), never a 5xx, never a redirect off the site, and must
//! leave the database as it was: the rows of every table are counted before
//! and after each request. The one allowed change is a recorded nonce, for
//! authenticated launches that fail the LTI checks after the nonce was
//! recorded (DESIGN.md §3 "Launch": the nonce is recorded before the LTI
//! checks, so two concurrent replays cannot both pass).
//!
//! The requests that need the wire (truncated bodies, oversized headers)
//! are in `examples/mytool/tests/hardening_wire.rs`.

mod common;

use axum_lti::core::MacPurpose;
use http::{Method, StatusCode};
use lti_store::Db;
use lti_store::testing::{PgSchema, Table, count_rows, postgres_url};
use lti_testkit::{LaunchBuilder, TestClient, TestResponse, TestTool, form_body};

const TABLES: [Table; 9] = [
    Table::AppKeys,
    Table::Silos,
    Table::Consumers,
    Table::Nonces,
    Table::Contexts,
    Table::Resources,
    Table::Users,
    Table::Visits,
    Table::Owners,
];

/// Who sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// A fresh browser with no cookies.
    Stranger,
    /// A copy of a browser with an established session and a visit.
    Launched,
    /// A copy of a browser half-way through a launch: an unestablished
    /// session cookie and the test cookie, before `/ctest`.
    Started,
}

/// What a request may change in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Db0 {
    /// Nothing at all.
    Unchanged,
    /// At most one nonce row more: an authenticated launch refused by the
    /// LTI checks (the nonce is recorded before them).
    MayRecordNonce,
}

struct Case {
    name: String,
    who: Who,
    method: Method,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    expect: StatusCode,
    db: Db0,
}

impl Case {
    fn new(name: impl Into<String>, method: Method, target: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            who: Who::Stranger,
            method,
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
            expect: StatusCode::BAD_REQUEST,
            db: Db0::Unchanged,
        }
    }

    fn get(name: impl Into<String>, target: impl Into<String>) -> Self {
        Self::new(name, Method::GET, target)
    }

    fn post(name: impl Into<String>, target: impl Into<String>) -> Self {
        Self::new(name, Method::POST, target)
    }

    /// A form POST to `/launch` with this body.
    fn launch(name: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self::post(name, "/launch").form(body)
    }

    fn form(self, body: impl Into<Vec<u8>>) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn by(mut self, who: Who) -> Self {
        self.who = who;
        self
    }

    fn expect(mut self, status: StatusCode) -> Self {
        self.expect = status;
        self
    }

    fn may_record_nonce(mut self) -> Self {
        self.db = Db0::MayRecordNonce;
        self
    }
}

/// The browsers and values the cases are built from.
struct Fixture {
    tool: TestTool,
    launched: TestClient,
    resource: String,
    csrf: String,
    started: TestClient,
    s: String,
}

/// Signs a cookie-test query as the tool does (the message format of
/// `session/cookie_test.rs`; `session_tampering.rs` checks this helper
/// against the tool), so the open-redirect cases carry a *valid* signature
/// and are refused for their return URL alone.
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

impl Fixture {
    async fn new(tool: TestTool) -> Self {
        let launched = tool.client();
        let resource = common::launch_and_open(&launched, &tool.launch()).await;
        let info = common::info_page(&launched, &resource).await;
        let csrf = common::field(&info, "csrf");
        let started = tool.client();
        let first = started
            .launch(&tool.launch().resource_link_id("started"))
            .await;
        common::assert_status(&first, StatusCode::SEE_OTHER);
        let s = first.location_param("s").expect("the cookie test's s");
        Self {
            tool,
            launched,
            resource,
            csrf,
            started,
            s,
        }
    }

    fn ua(&self) -> String {
        self.started.user_agent().expect("a User-Agent")
    }

    /// A `/ctest` or `/wlaunch` URL whose `sig` is valid for `return_url`.
    fn signed(&self, route: &str, return_url: &str) -> String {
        let sig = sign_query(&self.tool, &self.s, return_url, &self.ua());
        format!(
            "/{route}?{}",
            form_body(&[("return", return_url), ("s", &self.s), ("sig", &sig)])
        )
    }

    fn path(&self) -> String {
        self.resource
            .strip_prefix("http://localhost:8080")
            .expect("a resource URL under the root")
            .to_owned()
    }

    fn browser(&self, who: Who) -> TestClient {
        let source = match who {
            Who::Stranger => return self.tool.client(),
            Who::Launched => &self.launched,
            Who::Started => &self.started,
        };
        let copy = source.new_browser();
        let jar = source.jar();
        copy.with_jar(|j| *j = jar);
        copy
    }

    fn sid(&self) -> String {
        self.launched.cookie("sid").expect("a session cookie")
    }
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// The table. Each line says what is wrong with the request.
fn cases(f: &Fixture) -> Vec<Case> {
    use StatusCode as S;
    let tool = &f.tool;
    let limit = tool.state().settings().server.body_limit;
    let max_id = tool.state().settings().launch.max_id_len;
    let page = f.path();
    let signed = |launch: LaunchBuilder| launch.body();
    let many = "p=1&".repeat(100_000);
    let json = br#"{"oauth_consumer_key":"12345","lti_message_type":"basic-lti-launch-request"}"#;
    let multipart = "--x\r\nContent-Disposition: form-data; name=\"oauth_consumer_key\"\r\n\r\n\
                     12345\r\n--x--\r\n";
    let forged_sid = {
        let sid = f.sid();
        let (message, tag) = sid.rsplit_once('~').expect("a signed cookie");
        format!("{}~{tag}", message.replacen("-1-", "-0-", 1))
    };
    let sid = f.sid();
    let huge_cookie = format!("ctest=0; sid={}; junk={}", long(100), long(100_000));
    let mut cases =
        vec![
        // ---- /launch ------------------------------------------------------
        Case::launch("launch: body over the limit", long(limit + 1)).expect(S::PAYLOAD_TOO_LARGE),
        Case::launch("launch: declared length over the limit", "a=1")
            .header("content-length", (limit + 1).to_string())
            .expect(S::PAYLOAD_TOO_LARGE),
        Case::launch("launch: 100 000 parameters in the body", many.clone())
            .expect(S::PAYLOAD_TOO_LARGE),
        Case::post(
            "launch: 16 000 unsigned parameters in the query (the longest URI)",
            format!("/launch?{}", "p=1&".repeat(16_000)),
        )
        .form(signed(tool.launch()))
        .expect(S::UNAUTHORIZED),
        Case::launch("launch: invalid UTF-8", &b"oauth_nonce=\xff\xfe&a=\xc3"[..]),
        Case::launch("launch: escapes of invalid UTF-8", "oauth_nonce=%FF%FE"),
        Case::launch("launch: broken percent-escape", "oauth_nonce=%zz&a=1"),
        Case::launch("launch: truncated percent-escape", "oauth_nonce=a%4"),
        Case::post("launch: broken escape in the query", "/launch?a=%G1")
            .form(signed(tool.launch())),
        Case::launch(
            "launch: oauth_nonce twice",
            signed(tool.launch().append_after_signing("oauth_nonce", "again")),
        ),
        Case::launch(
            "launch: oauth_signature twice",
            signed(
                tool.launch()
                    .append_after_signing("oauth_signature", "AAAA"),
            ),
        ),
        Case::post(
            "launch: oauth_consumer_key in query and body",
            "/launch?oauth_consumer_key=12345",
        )
        .form(signed(tool.launch())),
        Case::launch(
            "launch: oauth_nonce in header and body",
            signed(tool.launch()),
        )
        .header("authorization", "OAuth oauth_nonce=\"n\""),
        Case::launch(
            "launch: Authorization without a value",
            signed(tool.launch()),
        )
        .header("authorization", "OAuth oauth_nonce"),
        Case::launch("launch: Authorization bad escape", signed(tool.launch()))
            .header("authorization", "OAuth oauth_nonce=\"%zz\""),
        Case::launch(
            "launch: overlong nonce",
            signed(tool.launch().nonce(long(max_id + 1))),
        ),
        Case::launch(
            "launch: overlong consumer key",
            signed(tool.launch().consumer(long(max_id + 1), "secret")),
        ),
        Case::launch(
            "launch: overlong resource_link_id",
            signed(tool.launch().resource_link_id(long(max_id + 1))),
        )
        .may_record_nonce(),
        Case::launch(
            "launch: overlong user_id",
            signed(tool.launch().user_id(long(max_id + 1))),
        )
        .may_record_nonce(),
        Case::launch(
            "launch: overlong context_id",
            signed(tool.launch().context_id(long(max_id + 1))),
        )
        .may_record_nonce(),
        Case::launch(
            "launch: overlong parameter name, unsigned",
            format!("{}=1&oauth_consumer_key=12345", long(20_000)),
        ),
        Case::launch(
            "launch: NUL in resource_link_id",
            signed(tool.launch().resource_link_id("a\0b")),
        ),
        Case::launch(
            "launch: NUL in the consumer key",
            signed(tool.launch().consumer("123\u{0}45", "secret")),
        ),
        Case::launch(
            "launch: NUL in the nonce",
            signed(tool.launch().nonce("n\0n")),
        ),
        Case::launch(
            "launch: NUL in a person's name",
            signed(tool.launch().person_name("Ada\0Lovelace")),
        ),
        Case::launch(
            "launch: CR/LF in the return URL of a refused launch",
            signed(
                tool.launch()
                    .param("lti_version", "LTI-9")
                    .return_url("http://lms.example/r\r\nSet-Cookie: x=1"),
            ),
        )
        .may_record_nonce(),
        Case::launch(
            "launch: javascript: return URL of a refused launch",
            signed(
                tool.launch()
                    .param("lti_version", "LTI-9")
                    .return_url("javascript:alert(1)"),
            ),
        )
        .may_record_nonce(),
        Case::launch(
            "launch: CR/LF in the signature method",
            signed(
                tool.launch()
                    .set_after_signing("oauth_signature_method", "HMAC-SHA1\r\nX: y"),
            ),
        ),
        Case::launch(
            "launch: CR/LF in oauth_version",
            signed(
                tool.launch()
                    .without_oauth_version()
                    .oauth_param("oauth_version", "1.0\r\n"),
            ),
        ),
        Case::post("launch: JSON body", "/launch")
            .header("content-type", "application/json")
            .body(&json[..])
            .expect(S::UNSUPPORTED_MEDIA_TYPE),
        Case::launch("launch: JSON body labelled as a form", &json[..]),
        Case::post("launch: multipart body", "/launch")
            .header("content-type", "multipart/form-data; boundary=x")
            .body(multipart)
            .expect(S::UNSUPPORTED_MEDIA_TYPE),
        Case::post("launch: no content type", "/launch")
            .body(signed(tool.launch()))
            .expect(S::UNSUPPORTED_MEDIA_TYPE),
        Case::post("launch: text/plain", "/launch")
            .header("content-type", "text/plain")
            .body(signed(tool.launch()))
            .expect(S::UNSUPPORTED_MEDIA_TYPE),
        Case::post("launch: garbage content type", "/launch")
            .header("content-type", ";;;")
            .body(signed(tool.launch()))
            .expect(S::UNSUPPORTED_MEDIA_TYPE),
        Case::get("launch: GET with a body", "/launch")
            .form(signed(tool.launch()))
            .expect(S::METHOD_NOT_ALLOWED),
        Case::new("launch: OPTIONS", Method::OPTIONS, "/launch").expect(S::METHOD_NOT_ALLOWED),
        Case::launch(
            "launch: timestamp of 20 digits",
            signed(tool.launch().timestamp("99999999999999999999")),
        )
        .expect(S::UNAUTHORIZED),
        Case::launch(
            "launch: negative timestamp",
            signed(tool.launch().timestamp(-1)),
        )
        .expect(S::UNAUTHORIZED),
        Case::launch("launch: timestamp 0", signed(tool.launch().timestamp(0)))
            .expect(S::UNAUTHORIZED),
        Case::launch(
            "launch: non-numeric timestamp",
            signed(tool.launch().timestamp("yesterday")),
        )
        .expect(S::UNAUTHORIZED),
        Case::launch(
            "launch: timestamp 30 years ahead",
            signed(tool.launch().timestamp(tool.state().now() + 1_000_000_000)),
        )
        .expect(S::UNAUTHORIZED),
        Case::launch(
            "launch: NUL in the message type",
            signed(tool.launch().param("lti_message_type", "x\0y")),
        ),
        Case::launch(
            "launch: wrong message type",
            signed(tool.launch().param("lti_message_type", "ContentItemSelectionRequest")),
        )
        .may_record_nonce(),
        // ---- /ctest -------------------------------------------------------
        Case::get("ctest: no parameters", "/ctest").by(Who::Started),
        Case::get(
            "ctest: 8 000 parameters (the longest URI)",
            format!("/ctest?{}", "return=&".repeat(8_000)),
        )
        .by(Who::Started),
        Case::get(
            "ctest: invalid UTF-8 escapes",
            "/ctest?return=%FF&s=%FE&sig=%00",
        )
        .by(Who::Started),
        Case::get(
            "ctest: forged sig",
            format!(
                "/ctest?{}",
                form_body(&[
                    ("return", "http://localhost:8080/"),
                    ("s", &f.s),
                    ("sig", "1.AAAA")
                ])
            ),
        )
        .by(Who::Started),
        Case::get(
            "ctest: truncated s",
            format!(
                "/ctest?{}",
                form_body(&[
                    ("return", "http://localhost:8080/"),
                    ("s", &f.s[..20]),
                    ("sig", "1.AAAA")
                ])
            ),
        )
        .by(Who::Started),
        Case::get("ctest: GET with a body, no parameters", "/ctest")
            .by(Who::Started)
            .form("return=http://localhost:8080/"),
        Case::get(
            "ctest: huge cookie",
            f.signed("ctest", "http://localhost:8080/resource/00000001/"),
        )
        .header("cookie", huge_cookie.clone()),
        Case::post("ctest: POST without a CSRF token", "/ctest")
            .by(Who::Started)
            .form("return=x")
            .expect(S::FORBIDDEN),
        Case::new("ctest: DELETE", Method::DELETE, "/ctest")
            .by(Who::Started)
            .expect(S::FORBIDDEN),
        Case::new("ctest: OPTIONS", Method::OPTIONS, "/ctest")
            .by(Who::Started)
            .expect(S::METHOD_NOT_ALLOWED),
        // ---- /wlaunch -----------------------------------------------------
        Case::get("wlaunch: no parameters", "/wlaunch"),
        Case::get(
            "wlaunch: forged sig",
            format!(
                "/wlaunch?{}",
                form_body(&[
                    ("return", "http://localhost:8080/"),
                    ("s", &f.s),
                    ("sig", "1.AAAA")
                ])
            ),
        ),
        Case::get(
            "wlaunch: signed for another User-Agent",
            f.signed("wlaunch", "http://localhost:8080/resource/00000001/"),
        )
        .header("user-agent", "another browser"),
        Case::new("wlaunch: OPTIONS", Method::OPTIONS, "/wlaunch").expect(S::METHOD_NOT_ALLOWED),
        // ---- /resource/… --------------------------------------------------
        Case::get("resource: no id", "/resource/").expect(S::NOT_FOUND),
        Case::get("resource: non-hex id", "/resource/XYZ/").expect(S::NOT_FOUND),
        Case::get("resource: negative id", "/resource/-1/").expect(S::NOT_FOUND),
        Case::get(
            "resource: id over 64 bits",
            "/resource/FFFFFFFFFFFFFFFFFFFFFFFF/",
        )
        .expect(S::NOT_FOUND),
        Case::get("resource: no trailing slash", "/resource/0000ABCD").expect(S::NOT_FOUND),
        Case::get("resource: NUL id", "/resource/%00/").expect(S::NOT_FOUND),
        Case::get("resource: id with a sign", "/resource/+0000ABCD/").expect(S::NOT_FOUND),
        Case::get("resource: another resource's id", "/resource/0000ABCD/")
            .by(Who::Launched)
            .expect(S::FORBIDDEN),
        Case::get("resource: forged session cookie", page.clone())
            .header("cookie", format!("ctest=0; sid={forged_sid}"))
            .expect(S::FORBIDDEN),
        Case::get("resource: truncated session cookie", page.clone())
            .header("cookie", format!("ctest=0; sid={}", &sid[..sid.len() - 5]))
            .expect(S::FORBIDDEN),
        Case::get("resource: session cookie without its tag", page.clone())
            .header(
                "cookie",
                format!(
                    "ctest=0; sid={}",
                    sid.rsplit_once('~').map(|(m, _)| m).unwrap_or_default()
                ),
            )
            .expect(S::FORBIDDEN),
        Case::get("resource: huge cookie", page.clone())
            .header("cookie", huge_cookie.clone())
            .expect(S::FORBIDDEN),
        Case::get("resource: 1000 session cookies", page.clone())
            .header(
                "cookie",
                format!("ctest=0; {}", "sid=x~1.AAAA; ".repeat(1000)),
            )
            .expect(S::FORBIDDEN),
        Case::post("resource: POST without a CSRF token", page.clone())
            .by(Who::Launched)
            .form("note=x")
            .expect(S::FORBIDDEN),
        Case::post("resource: POST with a wrong token", page.clone())
            .by(Who::Launched)
            .form("csrftoken=1.AAAA&note=x")
            .expect(S::FORBIDDEN),
        Case::post(
            "resource: POST with the raw session id as token",
            page.clone(),
        )
        .by(Who::Launched)
        .form(form_body(&[("csrftoken", &sid[..39])]))
        .expect(S::FORBIDDEN),
        Case::new("resource: PUT without a token", Method::PUT, page.clone())
            .by(Who::Launched)
            .expect(S::FORBIDDEN),
        Case::new(
            "resource: DELETE, token in a JSON body",
            Method::DELETE,
            page.clone(),
        )
        .by(Who::Launched)
        .header("content-type", "application/json")
        .body(format!(r#"{{"csrftoken":"{}"}}"#, f.csrf))
        .expect(S::FORBIDDEN),
        Case::post("resource: token in a multipart body", page.clone())
            .by(Who::Launched)
            .header("content-type", "multipart/form-data; boundary=x")
            .body(format!(
                "--x\r\nContent-Disposition: form-data; name=\"csrftoken\"\r\n\r\n{}\r\n--x--\r\n",
                f.csrf
            ))
            .expect(S::FORBIDDEN),
        Case::post("resource: invalid UTF-8 form", page.clone())
            .by(Who::Launched)
            .form(&b"csrftoken=\xff\xfe"[..])
            .expect(S::FORBIDDEN),
        Case::post("resource: form over the limit", page.clone())
            .by(Who::Launched)
            .form(long(limit + 1))
            .expect(S::PAYLOAD_TOO_LARGE),
        Case::post("resource: token of another session", page.clone())
            .form(form_body(&[("csrftoken", &f.csrf)]))
            .header("cookie", "ctest=0")
            .expect(S::FORBIDDEN),
        Case::new(
            "resource: PATCH, session cookie only",
            Method::PATCH,
            page.clone(),
        )
        .header("cookie", format!("sid={sid}"))
        .expect(S::FORBIDDEN),
        // ---- /dev/ (the test consumer) ------------------------------------
        Case::post("dev: launch without a CSRF token", "/dev/launch")
            .by(Who::Launched)
            .form("consumer=12345")
            .expect(S::FORBIDDEN),
        Case::post("dev: JSON body", "/dev/launch")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .header("content-type", "application/json")
            .body(r#"{"consumer":"12345"}"#)
            .expect(S::UNSUPPORTED_MEDIA_TYPE),
        Case::post("dev: form without the consumer field", "/dev/launch")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form("user_id=1")
            .expect(S::UNPROCESSABLE_ENTITY),
        Case::post("dev: unknown consumer", "/dev/launch")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form("consumer=nobody"),
        Case::post("dev: NUL in the consumer", "/dev/launch")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form("consumer=123%0045"),
        Case::post("dev: invalid UTF-8 form", "/dev/launch")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form(&b"consumer=\xff"[..]),
        Case::post("dev: form over the limit", "/dev/launch")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form(long(limit + 1))
            .expect(S::PAYLOAD_TOO_LARGE),
        Case::get("dev: GET of the POST route", "/dev/launch").expect(S::METHOD_NOT_ALLOWED),
        Case::new("dev: PUT of the form", Method::PUT, "/dev/")
            .by(Who::Launched)
            .expect(S::FORBIDDEN),
        Case::get("dev: unknown page", "/dev/nothing-here").expect(S::NOT_FOUND),
        // ---- anywhere -----------------------------------------------------
        Case::get("any: unknown path", "/no/such/page").expect(S::NOT_FOUND),
        Case::get("any: percent-encoded garbage path", "/%FF%00%2e%2e/").expect(S::NOT_FOUND),
        Case::new("any: TRACE", Method::TRACE, "/").expect(S::NOT_FOUND),
    ];
    // Open redirects: each return URL signed validly, so only the target
    // itself is refused, on /ctest and on /wlaunch.
    for evil in [
        "http://evil.example/",
        "//evil.example/",
        "\\\\evil.example\\",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http://localhost:8080@evil.example/",
        "http://localhost:8080.evil.example/",
        "HTTP://EVIL.EXAMPLE/resource/00000001/",
        "http://localhost:8080/resource/\r\nSet-Cookie: pwned=1",
        "http://localhost:8080/resource/\0/",
        "http://localhost:8080/resource/\t/",
    ] {
        cases.push(
            Case::get(
                format!("ctest: return to {evil:?}"),
                f.signed("ctest", evil),
            )
            .by(Who::Started),
        );
        cases.push(Case::get(
            format!("wlaunch: return to {evil:?}"),
            f.signed("wlaunch", evil),
        ));
    }
    // ---- /admin/… (the admin console, without a login) --------------------
    // Admin cases that need a signed-in owner (other silos' consumer ids →
    // 404, bad forms → 400 storing nothing, actions without CSRF → 403) are
    // in tests/admin.rs, which creates owners; forged session cookies are
    // covered by the session cases above.
    cases.extend([
        Case::post("admin: login without a CSRF token", "/admin/login")
            .by(Who::Launched)
            .form("email=a%40b.example&password=x")
            .expect(S::FORBIDDEN),
        Case::post("admin: login with a JSON body", "/admin/login")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .header("content-type", "application/json")
            .body(r#"{"email":"a@b.example","password":"x"}"#)
            .expect(S::UNSUPPORTED_MEDIA_TYPE),
        Case::post("admin: login form over the limit", "/admin/login")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form(format!("email=a%40b.example&password={}", long(limit)))
            .expect(S::PAYLOAD_TOO_LARGE),
        Case::post("admin: login with a NUL in the email", "/admin/login")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form("email=a%00b%40c.example&password=xxxxxxxxxxxx")
            .expect(S::FORBIDDEN),
        Case::post("admin: login with invalid UTF-8", "/admin/login")
            .by(Who::Launched)
            .header("x-csrf-token", f.csrf.clone())
            .form(&b"email=\xff&password=\xfe"[..])
            .expect(S::FORBIDDEN),
        Case::post("admin: logout without a CSRF token", "/admin/logout")
            .by(Who::Launched)
            .expect(S::FORBIDDEN),
        Case::post(
            "admin: delete without a CSRF token",
            "/admin/consumers/1/delete",
        )
        .by(Who::Launched)
        .expect(S::FORBIDDEN),
        Case::get("admin: GET of the logout route", "/admin/logout").expect(S::METHOD_NOT_ALLOWED),
    ]);
    cases
}

/// Row counts of every table.
async fn counts(db: &Db) -> Vec<i64> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push(count_rows(db, table).await.expect("count rows"));
    }
    out
}

/// What is wrong with a response to a case, if anything.
fn check_page(case: &Case, response: &TestResponse) -> Vec<String> {
    let text = response.text();
    let mut problems = Vec::new();
    if response.status() != case.expect {
        problems.push(format!(
            "status {} instead of {}; Location {:?}; content-type {:?}; body: {}",
            response.status(),
            case.expect,
            response.location(),
            response.header("content-type"),
            text.chars().take(300).collect::<String>()
        ));
    }
    if !response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"))
    {
        problems.push(format!(
            "not an HTML page: {:?}",
            response.header("content-type")
        ));
    }
    if !(text.contains("<!DOCTYPE html>") && text.contains("</html>")) {
        problems.push(format!(
            "not a whole page: {:?}",
            text.chars().take(200).collect::<String>()
        ));
    }
    if response.location().is_some() {
        problems.push(format!("redirects to {:?}", response.location()));
    }
    for line in response.set_cookies() {
        if line.contains("pwned") {
            problems.push(format!("injected cookie {line}"));
        }
    }
    problems
}

async fn sweep(tool: TestTool) -> usize {
    let fixture = Fixture::new(tool).await;
    let db = fixture
        .tool
        .provider()
        .db()
        .expect("the test tool opened its database")
        .clone();
    let cases = cases(&fixture);
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    let mut by_route = std::collections::BTreeMap::<&str, usize>::new();
    let mut failures = Vec::new();
    for case in &cases {
        let route = case.name.split(':').next().unwrap_or_default();
        *by_route.entry(route).or_default() += 1;
        let browser = fixture.browser(case.who);
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let before = counts(&db).await;
        let response = browser
            .request(
                case.method.clone(),
                &case.target,
                &headers,
                case.body.clone(),
            )
            .await;
        let after = counts(&db).await;
        let mut problems = check_page(case, &response);
        *by_status.entry(response.status().as_u16()).or_default() += 1;
        for ((table, b), a) in TABLES.iter().zip(&before).zip(&after) {
            let allowed = if *table == Table::Nonces && case.db == Db0::MayRecordNonce {
                1
            } else {
                0
            };
            if !(*a >= *b && a - b <= allowed) {
                problems.push(format!("{table:?} went from {b} to {a}"));
            }
        }
        failures.extend(problems.into_iter().map(|p| format!("{}: {p}", case.name)));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // The fixture's session still works: nothing above broke it.
    let page = fixture.launched.get(&fixture.resource).await;
    common::assert_status(&page, StatusCode::OK);
    eprintln!(
        "{} malformed requests, by route: {by_route:?}, by status: {by_status:?}",
        cases.len()
    );
    cases.len()
}

fn dev_tool() -> lti_testkit::TestToolBuilder {
    TestTool::builder()
        .with_routes(common::info_routes())
        .configure(|s| {
            s.server.dev = true;
            s.server.admin = true;
        })
}

#[tokio::test]
async fn malformed_requests_get_a_page_and_change_nothing_on_sqlite() {
    let tool = dev_tool().build().await;
    sweep(tool).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_a_page_and_change_nothing_on_postgres() {
    let Some(base) = postgres_url() else {
        return;
    };
    let schema = PgSchema::create(&base).await.expect("a test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!(
        "{base}{separator}options=-c%20search_path%3D{}",
        schema.name()
    );
    let tool = dev_tool().with_database_url(url).build().await;
    sweep(tool).await;
    drop(schema);
}

/// Redirect targets outside visible ASCII (an IRI return URL from an LMS,
/// a same-site return with `é`) are percent-encoded into the `Location`,
/// not refused and not a 500.
#[tokio::test]
async fn non_ascii_redirect_targets_are_percent_encoded() {
    let tool = dev_tool().build().await;
    let fixture = Fixture::new(tool).await;
    let target = "http://localhost:8080/resource/\u{e9}t\u{e9} 1/";
    let browser = fixture.browser(Who::Started);
    let response = browser.get(&fixture.signed("ctest", target)).await;
    common::assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some("http://localhost:8080/resource/%C3%A9t%C3%A9%201/")
    );
    // A refused launch goes back to an IRI return URL, encoded.
    let launch = fixture
        .tool
        .launch()
        .param("lti_version", "LTI-9")
        .return_url("http://lms.example/\u{fc}bung?x=1");
    let response = fixture.tool.client().launch(&launch).await;
    common::assert_status(&response, StatusCode::SEE_OTHER);
    let location = response.location().expect("a Location");
    assert!(
        location.starts_with("http://lms.example/%C3%BCbung?x=1&lti_errormsg="),
        "{location}"
    );
}
