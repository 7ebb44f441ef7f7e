//! The admin console (`ToolProviderApp::with_admin`, spec §10.4 with
//! QN-2..QN-8 fixed), driven in process: login and its rate limit, CSRF on
//! every action, one owner never reaching another silo's consumers,
//! secrets shown once and stored sealed, validation, cascading deletes,
//! the tool configuration download and log out.

mod common;

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum_lti::core::{ConsumerRecord, NewConsumer, NewOwner, OwnerRecord, SealedSecret, SiloId};
use common::{assert_status, session_id};
use http::StatusCode;
use lti_testkit::{TestClient, TestResponse, TestTool, form_body};

const PASSWORD: &str = "correct horse battery staple";
const ROOT: &str = "http://localhost:8080/";

async fn admin_tool() -> TestTool {
    TestTool::builder()
        .map_app(|app| app.with_admin())
        .build()
        .await
}

async fn add_owner(tool: &TestTool, silo: SiloId, email: &str) -> OwnerRecord {
    let password = axum_lti::hash_owner_password(PASSWORD)
        .await
        .expect("a valid password");
    tool.store()
        .create_owner(NewOwner {
            silo,
            email: email.to_owned(),
            password,
            now: tool.state().now(),
        })
        .await
        .expect("the owner is created")
}

/// A second silo, `other`, with the consumer `other-key` and the owner
/// `bob@example.edu`.
async fn other_silo(tool: &TestTool) -> ConsumerRecord {
    let store = tool.store();
    let silo = store.create_silo("other").await.expect("a silo");
    let state = tool.state();
    let sealed = state
        .cipher()
        .encrypt_str("other secret value", state.now())
        .expect("sealed");
    let consumer = store
        .create_consumer(NewConsumer {
            silo: silo.id,
            handle: "Other LMS".to_owned(),
            key: "other-key".to_owned(),
            secret: SealedSecret::from_cipher_text(sealed),
            now: state.now(),
        })
        .await
        .expect("a consumer");
    add_owner(tool, silo.id, "bob@example.edu").await;
    consumer
}

/// The CSRF token in a page's forms.
#[track_caller]
fn token(page: &TestResponse) -> String {
    page.input_value("csrftoken")
        .unwrap_or_else(|| panic!("no csrftoken in page:\n{}", page.text()))
}

/// Opens the login form and posts it.
async fn login(browser: &TestClient, email: &str, password: &str) -> TestResponse {
    let form = browser.get("/admin/login").await;
    assert_status(&form, StatusCode::OK);
    let token = token(&form);
    browser
        .post_form(
            "/admin/login",
            form_body(&[
                ("csrftoken", &token),
                ("email", email),
                ("password", password),
            ]),
        )
        .await
}

/// A browser logged in as `email`.
async fn logged_in(tool: &TestTool, email: &str) -> TestClient {
    let browser = tool.client();
    let response = login(&browser, email, PASSWORD).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some(&*format!("{ROOT}admin/")));
    browser
}

/// GETs a page (must be 200) and returns its CSRF token.
async fn page_token(browser: &TestClient, path: &str) -> String {
    let page = browser.get(path).await;
    assert_status(&page, StatusCode::OK);
    token(&page)
}

async fn post(browser: &TestClient, path: &str, pairs: &[(&str, &str)]) -> TestResponse {
    browser.post_form(path, form_body(pairs)).await
}

/// The `consumers` table's rows, straight from SQLite.
async fn consumer_count(tool: &TestTool) -> i64 {
    let pool = tool
        .provider()
        .db()
        .and_then(|db| db.sqlite_pool())
        .expect("the test tool runs on SQLite");
    sqlx::query_scalar("SELECT COUNT(*) FROM consumers")
        .fetch_one(pool)
        .await
        .expect("counted")
}

async fn raw_count(tool: &TestTool, sql: &'static str) -> i64 {
    let pool = tool
        .provider()
        .db()
        .and_then(|db| db.sqlite_pool())
        .expect("the test tool runs on SQLite");
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("counted")
}

async fn raw_secret(tool: &TestTool, key: &str) -> String {
    let pool = tool
        .provider()
        .db()
        .and_then(|db| db.sqlite_pool())
        .expect("the test tool runs on SQLite");
    sqlx::query_scalar("SELECT secret FROM consumers WHERE key = $1")
        .bind(key)
        .fetch_one(pool)
        .await
        .expect("a stored secret")
}

/// The text of the element with this id (no nested elements).
fn text_by_id(page: &TestResponse, id: &str) -> Option<String> {
    let html = page.text();
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let open_end = rest.find('>')? + 1;
    let close = rest[open_end..].find('<')?;
    Some(lti_testkit::html_unescape(
        &rest[open_end..open_end + close],
    ))
}

#[tokio::test]
async fn the_console_is_mounted_only_when_asked_for() {
    let tool = TestTool::new().await;
    assert_status(
        &tool.client().get("/admin/login").await,
        StatusCode::NOT_FOUND,
    );
    let tool = admin_tool().await;
    assert_status(&tool.client().get("/admin/login").await, StatusCode::OK);
}

#[tokio::test]
async fn login_succeeds_with_the_right_password_and_renews_the_session() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = tool.client();

    let guarded = browser.get("/admin/").await;
    assert_status(&guarded, StatusCode::SEE_OTHER);
    assert_eq!(guarded.location(), Some(&*format!("{ROOT}admin/login")));

    let form = browser.get("/admin/login").await;
    assert_status(&form, StatusCode::OK);
    assert!(form.text().contains(r#"<label for="email">"#));
    assert!(form.text().contains(r#"<label for="password">"#));
    assert!(
        form.cookie("ctest").is_some(),
        "the form asks for the test cookie"
    );
    let before = session_id(&browser.cookie("sid").expect("a session for the token"));

    let token = token(&form);
    let response = browser
        .post_form(
            "/admin/login",
            form_body(&[
                ("csrftoken", &token),
                ("email", "  Ada@Example.EDU "),
                ("password", PASSWORD),
            ]),
        )
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some(&*format!("{ROOT}admin/")));
    let after = session_id(&browser.cookie("sid").expect("still a session"));
    assert_ne!(
        before, after,
        "the session id is renewed at login (fixation)"
    );

    let list = browser.get("/admin/").await;
    assert_status(&list, StatusCode::OK);
    assert_eq!(
        text_by_id(&list, "owner-email").as_deref(),
        Some("ada@example.edu")
    );
    assert_eq!(text_by_id(&list, "owner-silo").as_deref(), Some("testing"));
    assert!(
        list.text().contains("<code>12345</code>"),
        "{}",
        list.text()
    );
    // Signed in, the login page sends on to the console.
    let again = browser.get("/admin/login").await;
    assert_status(&again, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_slow_login_still_works_after_the_new_session_expired() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = tool.client();
    let form = browser.get("/admin/login").await;
    // Typing takes longer than a new session may wait to come back (120 s).
    tool.clock().advance(300);
    let response = browser
        .post_form(
            "/admin/login",
            form_body(&[
                ("csrftoken", &token(&form)),
                ("email", "ada@example.edu"),
                ("password", PASSWORD),
            ]),
        )
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_status(&browser.get("/admin/").await, StatusCode::OK);
}

#[tokio::test]
async fn login_fails_alike_for_a_wrong_password_and_an_unknown_account() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = tool.client();
    let wrong = login(&browser, "ada@example.edu", "not the password at all").await;
    assert_status(&wrong, StatusCode::FORBIDDEN);
    let unknown = login(&browser, "nobody@example.edu", PASSWORD).await;
    assert_status(&unknown, StatusCode::FORBIDDEN);
    for page in [&wrong, &unknown] {
        assert_eq!(
            text_by_id(page, "login-error").as_deref(),
            Some("The email address or the password is wrong.")
        );
        assert!(page.text().contains(r#"aria-describedby="login-error""#));
        assert!(!page.text().contains(PASSWORD));
    }
    assert_status(&browser.get("/admin/").await, StatusCode::SEE_OTHER);
    // The re-shown form carries a working token.
    let token = token(&wrong);
    let response = browser
        .post_form(
            "/admin/login",
            form_body(&[
                ("csrftoken", &token),
                ("email", "ada@example.edu"),
                ("password", PASSWORD),
            ]),
        )
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_page_needs_a_login() {
    let tool = admin_tool().await;
    let id = tool.consumer().id.0;
    let browser = tool.client();
    for path in [
        "/admin".to_owned(),
        "/admin/".to_owned(),
        "/admin/consumers/new".to_owned(),
        format!("/admin/consumers/{id}/"),
        format!("/admin/consumers/{id}/delete"),
        format!("/admin/consumers/{id}/config.xml"),
        "/admin/consumers/999999/".to_owned(),
        "/admin/no/such/page".to_owned(),
    ] {
        let response = browser.get(&path).await;
        assert_status(&response, StatusCode::SEE_OTHER);
        let location = response.location().unwrap_or_default();
        assert!(
            location.starts_with(&format!("{ROOT}admin")),
            "{path}: {location}"
        );
        if path != "/admin" {
            assert_eq!(location, format!("{ROOT}admin/login"), "{path}");
        }
    }
    // A valid token without a login gets no further either. (The first
    // POST establishes the session, which renews its id and so its token:
    // take a fresh one each time.)
    for path in [
        "/admin/consumers".to_owned(),
        format!("/admin/consumers/{id}/handle"),
        format!("/admin/consumers/{id}/secret"),
        format!("/admin/consumers/{id}/enabled"),
        format!("/admin/consumers/{id}/delete"),
        "/admin/logout".to_owned(),
    ] {
        let token = page_token(&browser, "/admin/login").await;
        let response = post(
            &browser,
            &path,
            &[("csrftoken", &token), ("handle", "x"), ("enabled", "false")],
        )
        .await;
        assert_status(&response, StatusCode::SEE_OTHER);
        assert_eq!(
            response.location(),
            Some(&*format!("{ROOT}admin/login")),
            "{path}"
        );
    }
    let consumer = tool
        .store()
        .find_consumer(tool.consumer().id)
        .await
        .expect("read")
        .expect("still there");
    assert!(consumer.enabled);
    assert_eq!(consumer.handle, tool.consumer().handle);
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_account() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    add_owner(&tool, tool.silo().id, "eve@example.edu").await;
    let browser = tool.client();
    for attempt in 1..=5 {
        let response = login(&browser, "ada@example.edu", "a wrong password!").await;
        assert_status(&response, StatusCode::FORBIDDEN);
        assert!(
            response.header("retry-after").is_none(),
            "attempt {attempt}"
        );
    }
    // Limited now: even the right password is refused, from any browser.
    for browser in [&browser, &tool.client()] {
        let response = login(browser, "ADA@example.edu", PASSWORD).await;
        assert_status(&response, StatusCode::TOO_MANY_REQUESTS);
        let retry: i64 = response
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After in seconds");
        assert!((1..=900).contains(&retry), "{retry}");
        assert!(
            response.text().contains("Too many failed logins"),
            "{}",
            response.text()
        );
        assert!(
            response
                .cookie("sid")
                .is_none_or(|c| !c.value.contains("admin"))
        );
        assert_status(&browser.get("/admin/").await, StatusCode::SEE_OTHER);
    }
    // Other accounts are not affected.
    logged_in(&tool, "eve@example.edu").await;
    // After the window the account may log in again.
    tool.clock().advance(15 * 60 + 1);
    logged_in(&tool, "ada@example.edu").await;
}

/// The tool's router with every request coming from `peer`, as
/// `into_make_service_with_connect_info` gives it.
fn from_address(tool: &TestTool, peer: &str) -> TestClient {
    let peer: SocketAddr = peer.parse().expect("an address");
    TestClient::new(tool.router().layer(axum::middleware::map_request(
        move |mut request: axum::extract::Request| async move {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        },
    )))
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_address() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let guesser = from_address(&tool, "192.0.2.7:50000");
    for n in 0..20 {
        let response = login(
            &guesser,
            &format!("user{n}@example.edu"),
            "a wrong password!",
        )
        .await;
        assert_status(&response, StatusCode::FORBIDDEN);
    }
    let response = login(&guesser, "ada@example.edu", PASSWORD).await;
    assert_status(&response, StatusCode::TOO_MANY_REQUESTS);
    assert!(response.header("retry-after").is_some());
    // Ada from elsewhere is fine.
    let elsewhere = from_address(&tool, "198.51.100.1:50000");
    let response = login(&elsewhere, "ada@example.edu", PASSWORD).await;
    assert_status(&response, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_forbidden() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;

    // The login form itself.
    let stranger = tool.client();
    stranger.get("/admin/login").await;
    let response = post(
        &stranger,
        "/admin/login",
        &[("email", "ada@example.edu"), ("password", PASSWORD)],
    )
    .await;
    assert_status(&response, StatusCode::FORBIDDEN);
    assert_status(&stranger.get("/admin/").await, StatusCode::SEE_OTHER);

    let browser = logged_in(&tool, "ada@example.edu").await;
    let id = tool.consumer().id.0;
    let actions = [
        (
            "/admin/consumers".to_owned(),
            vec![("handle", "New"), ("key", "new-key")],
        ),
        (
            format!("/admin/consumers/{id}/handle"),
            vec![("handle", "Renamed")],
        ),
        (
            format!("/admin/consumers/{id}/secret"),
            vec![("secret", "")],
        ),
        (
            format!("/admin/consumers/{id}/enabled"),
            vec![("enabled", "false")],
        ),
        (format!("/admin/consumers/{id}/delete"), vec![]),
        ("/admin/logout".to_owned(), vec![]),
    ];
    let secret_before = raw_secret(&tool, "12345").await;
    for (path, fields) in &actions {
        let response = post(&browser, path, fields).await;
        assert_status(&response, StatusCode::FORBIDDEN);
        let mut wrong = fields.clone();
        wrong.push(("csrftoken", "0-00"));
        assert_status(&post(&browser, path, &wrong).await, StatusCode::FORBIDDEN);
    }
    assert_eq!(consumer_count(&tool).await, 1, "nothing added or deleted");
    let consumer = tool
        .store()
        .find_consumer(tool.consumer().id)
        .await
        .expect("read")
        .expect("still there");
    assert!(consumer.enabled);
    assert_eq!(consumer.handle, tool.consumer().handle);
    assert_eq!(raw_secret(&tool, "12345").await, secret_before);
    // Still logged in: the refused logout did nothing.
    assert_status(&browser.get("/admin/").await, StatusCode::OK);
}

#[tokio::test]
async fn an_owner_never_reaches_another_silos_consumers() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let theirs = other_silo(&tool).await;
    let secret_before = raw_secret(&tool, "other-key").await;
    let browser = logged_in(&tool, "ada@example.edu").await;

    let list = browser.get("/admin/").await;
    assert!(list.text().contains("12345"));
    assert!(!list.text().contains("other-key"), "{}", list.text());
    assert!(!list.text().contains("Other LMS"));

    let token = page_token(&browser, "/admin/").await;
    let id = theirs.id.0;
    for path in [
        format!("/admin/consumers/{id}/"),
        format!("/admin/consumers/{id}/delete"),
        format!("/admin/consumers/{id}/config.xml"),
        "/admin/consumers/999999/".to_owned(),
        "/admin/consumers/not-a-number/".to_owned(),
        "/admin/consumers/-1/config.xml".to_owned(),
    ] {
        let response = browser.get(&path).await;
        assert_status(&response, StatusCode::NOT_FOUND);
        assert!(!response.text().contains("other-key"), "{path}");
    }
    for (action, fields) in [
        ("handle", vec![("handle", "Hijacked")]),
        ("secret", vec![("secret", "a secret of my own choosing")]),
        ("enabled", vec![("enabled", "false")]),
        ("delete", vec![]),
    ] {
        let mut fields = fields;
        fields.push(("csrftoken", &token));
        let response = post(
            &browser,
            &format!("/admin/consumers/{id}/{action}"),
            &fields,
        )
        .await;
        assert_status(&response, StatusCode::NOT_FOUND);
    }
    let after = tool
        .store()
        .find_consumer(theirs.id)
        .await
        .expect("read")
        .expect("not deleted");
    assert_eq!(after.handle, "Other LMS");
    assert!(after.enabled);
    assert_eq!(raw_secret(&tool, "other-key").await, secret_before);

    // And the other way round.
    let bob = logged_in(&tool, "bob@example.edu").await;
    let list = bob.get("/admin/").await;
    assert!(list.text().contains("other-key"));
    assert!(!list.text().contains("<code>12345</code>"));
    let mine = tool.consumer().id.0;
    assert_status(
        &bob.get(&format!("/admin/consumers/{mine}/")).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn a_new_consumers_secret_is_shown_once_and_stored_sealed() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = logged_in(&tool, "ada@example.edu").await;
    let form = browser.get("/admin/consumers/new").await;
    assert_status(&form, StatusCode::OK);
    assert!(form.text().contains(r#"<label for="handle">"#));
    let token = token(&form);

    // Blank key and secret: both generated (QN-3).
    let created = post(
        &browser,
        "/admin/consumers",
        &[
            ("csrftoken", &token),
            ("handle", "Moodle"),
            ("key", " "),
            ("secret", ""),
        ],
    )
    .await;
    assert_status(&created, StatusCode::OK);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let key = text_by_id(&created, "new-key").expect("the key is shown");
    let secret = text_by_id(&created, "new-secret").expect("the secret is shown");
    assert_eq!(key.len(), 39, "{key}");
    assert!(secret.len() >= 32, "{secret}");
    assert_eq!(
        text_by_id(&created, "launch-url").as_deref(),
        Some(&*format!("{ROOT}launch"))
    );

    // Stored sealed: cipher text only, which the tool's cipher opens.
    let raw = raw_secret(&tool, &key).await;
    assert!(!raw.contains(&secret), "{raw}");
    assert!(raw.starts_with("1:"), "key number 1: {raw}");
    assert_eq!(
        tool.state().cipher().decrypt_str(&raw).expect("opens"),
        secret
    );

    // Never shown again.
    let consumer = tool
        .store()
        .find_consumer_by_key(&key)
        .await
        .expect("read")
        .expect("created");
    assert_eq!(consumer.silo, tool.silo().id);
    assert_eq!(consumer.handle, "Moodle");
    for path in [
        "/admin/".to_owned(),
        format!("/admin/consumers/{}/", consumer.id.0),
        format!("/admin/consumers/{}/delete", consumer.id.0),
        format!("/admin/consumers/{}/config.xml", consumer.id.0),
    ] {
        let page = browser.get(&path).await;
        assert_status(&page, StatusCode::OK);
        assert!(!page.text().contains(&secret), "{path} shows the secret");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
    }
    assert!(browser.get("/admin/").await.text().contains(&key));

    // The key and secret work for a launch.
    let launch = tool.launch().consumer(key.clone(), secret.clone());
    assert_status(&tool.client().launch(&launch).await, StatusCode::SEE_OTHER);

    // Chosen values are taken as given (trimmed).
    let created = post(
        &browser,
        "/admin/consumers",
        &[
            ("csrftoken", &token),
            ("handle", "Canvas"),
            ("key", "canvas.example.edu"),
            ("secret", "  a secret I chose myself "),
        ],
    )
    .await;
    assert_status(&created, StatusCode::OK);
    assert_eq!(
        text_by_id(&created, "new-key").as_deref(),
        Some("canvas.example.edu")
    );
    assert_eq!(
        text_by_id(&created, "new-secret").as_deref(),
        Some("a secret I chose myself")
    );
}

#[tokio::test]
async fn a_new_secret_is_shown_once_and_replaces_the_old_one() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = logged_in(&tool, "ada@example.edu").await;
    let url = format!("/admin/consumers/{}/", tool.consumer().id.0);
    let page = browser.get(&url).await;
    assert_status(&page, StatusCode::OK);
    assert!(!page.text().contains(">secret<"));
    let token = token(&page);

    let response = post(
        &browser,
        &format!("{url}secret"),
        &[("csrftoken", &token), ("secret", "")],
    )
    .await;
    assert_status(&response, StatusCode::OK);
    let secret = text_by_id(&response, "new-secret").expect("shown once");
    assert_ne!(secret, "secret");
    assert!(!browser.get(&url).await.text().contains(&secret));

    let old = tool.launch();
    assert_status(&tool.client().launch(&old).await, StatusCode::UNAUTHORIZED);
    let new = tool.launch().consumer("12345", secret);
    assert_status(&tool.client().launch(&new).await, StatusCode::SEE_OTHER);

    let short = post(
        &browser,
        &format!("{url}secret"),
        &[("csrftoken", &token), ("secret", "short")],
    )
    .await;
    assert_status(&short, StatusCode::BAD_REQUEST);
    assert!(short.text().contains("at least 12 characters"));
    assert!(short.text().contains(r#"aria-describedby="secret-error""#));
}

/// Form fields, the field that is wrong, and what the page says.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn invalid_values_are_explained_and_nothing_is_stored() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = logged_in(&tool, "ada@example.edu").await;
    let token = page_token(&browser, "/admin/consumers/new").await;
    let long_handle = "h".repeat(65);
    let long_key = "k".repeat(257);
    let cases: [Case<'_>; 6] = [
        (&[("handle", "")], "handle", "Give the consumer a name"),
        (
            &[("handle", &long_handle)],
            "handle",
            "at most 64 characters",
        ),
        (
            &[("handle", "ok"), ("key", "has space")],
            "key",
            "without spaces",
        ),
        (
            &[("handle", "ok"), ("key", &long_key)],
            "key",
            "at most 256 characters",
        ),
        (
            &[("handle", "ok"), ("secret", "too short")],
            "secret",
            "at least 12 characters",
        ),
        (
            &[("handle", "Duplicate"), ("key", "12345")],
            "key",
            "A consumer with this key exists",
        ),
    ];
    for (fields, field, message) in cases {
        let mut body = fields.to_vec();
        body.push(("csrftoken", &token));
        let response = post(&browser, "/admin/consumers", &body).await;
        assert_status(&response, StatusCode::BAD_REQUEST);
        let html = response.text();
        assert!(html.contains(message), "{field}: {html}");
        assert_eq!(
            text_by_id(&response, &format!("{field}-error"))
                .as_deref()
                .map(|m| m.contains(message)),
            Some(true),
            "the message is tied to the field: {html}"
        );
        assert!(html.contains(r#"aria-invalid="true""#));
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "the summary links the field"
        );
        assert!(html.contains("Nothing was saved"));
        assert!(
            !html.contains("too short"),
            "a typed secret is never echoed"
        );
        assert_eq!(consumer_count(&tool).await, 1, "{field}: nothing stored");
    }

    // The handle form on the consumer page, too.
    let url = format!("/admin/consumers/{}/", tool.consumer().id.0);
    let response = post(
        &browser,
        &format!("{url}handle"),
        &[("csrftoken", &token), ("handle", " ")],
    )
    .await;
    assert_status(&response, StatusCode::BAD_REQUEST);
    assert!(response.text().contains("Give the consumer a name"));
    let consumer = tool
        .store()
        .find_consumer(tool.consumer().id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(consumer.handle, tool.consumer().handle);
}

#[tokio::test]
async fn handles_change_and_consumers_are_disabled_and_enabled() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = logged_in(&tool, "ada@example.edu").await;
    let url = format!("/admin/consumers/{}/", tool.consumer().id.0);
    let token = page_token(&browser, &url).await;

    let response = post(
        &browser,
        &format!("{url}handle"),
        &[("csrftoken", &token), ("handle", "  Moodle 4.3 ")],
    )
    .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(&*format!(
            "{ROOT}admin/consumers/{}/?done=handle",
            tool.consumer().id.0
        ))
    );
    let page = browser.follow(&response).await;
    assert_eq!(
        text_by_id(&page, "consumer-handle").as_deref(),
        Some("Moodle 4.3")
    );
    assert_eq!(
        text_by_id(&page, "consumer-key").as_deref(),
        Some("12345"),
        "QN-4: the key stays"
    );

    let response = post(
        &browser,
        &format!("{url}enabled"),
        &[("csrftoken", &token), ("enabled", "false")],
    )
    .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let page = browser.follow(&response).await;
    assert!(text_by_id(&page, "consumer-enabled").is_some_and(|t| t.contains("disabled")));
    assert_status(
        &tool.client().launch(&tool.launch()).await,
        StatusCode::UNAUTHORIZED,
    );

    let response = post(
        &browser,
        &format!("{url}enabled"),
        &[("csrftoken", &token), ("enabled", "true")],
    )
    .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_status(
        &tool.client().launch(&tool.launch()).await,
        StatusCode::SEE_OTHER,
    );

    let bad = post(
        &browser,
        &format!("{url}enabled"),
        &[("csrftoken", &token), ("enabled", "perhaps")],
    )
    .await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deleting_a_consumer_says_what_goes_and_takes_it_all() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let learner = tool.client();
    let resource = common::launch_and_open(&learner, &tool.launch().context_id("course-1")).await;
    common::launch_and_open(
        &tool.client(),
        &tool.launch().context_id("course-1").user_id("user-2"),
    )
    .await;

    let browser = logged_in(&tool, "ada@example.edu").await;
    let url = format!("/admin/consumers/{}/delete", tool.consumer().id.0);
    let confirm = browser.get(&url).await;
    assert_status(&confirm, StatusCode::OK);
    assert_eq!(text_by_id(&confirm, "count-contexts").as_deref(), Some("1"));
    assert_eq!(
        text_by_id(&confirm, "count-resources").as_deref(),
        Some("1")
    );
    assert_eq!(text_by_id(&confirm, "count-users").as_deref(), Some("2"));
    assert_eq!(text_by_id(&confirm, "count-visits").as_deref(), Some("2"));
    assert!(confirm.text().contains("cannot be undone"));
    assert_eq!(consumer_count(&tool).await, 1, "the GET deletes nothing");

    let response = post(&browser, &url, &[("csrftoken", &token(&confirm))]).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(&*format!("{ROOT}admin/?done=deleted"))
    );
    let list = browser.follow(&response).await;
    assert_eq!(
        text_by_id(&list, "notice").as_deref(),
        Some("The consumer was deleted.")
    );
    assert!(list.text().contains("no consumers yet"));

    assert_eq!(consumer_count(&tool).await, 0);
    for sql in [
        "SELECT COUNT(*) FROM contexts",
        "SELECT COUNT(*) FROM resources",
        "SELECT COUNT(*) FROM users",
        "SELECT COUNT(*) FROM visits",
        "SELECT COUNT(*) FROM nonces",
    ] {
        assert_eq!(raw_count(&tool, sql).await, 0, "{sql}");
    }
    // The learner's visit went with it.
    assert_status(&learner.get(&resource).await, StatusCode::FORBIDDEN);
    assert_status(
        &tool.client().launch(&tool.launch()).await,
        StatusCode::UNAUTHORIZED,
    );
    // The owner stays, and so does the silo.
    assert_eq!(raw_count(&tool, "SELECT COUNT(*) FROM owners").await, 1);
}

/// The text of the first element with this tag name.
fn xml_text(doc: &roxmltree::Document<'_>, ns: &str, name: &str) -> Option<String> {
    doc.descendants()
        .find(|n| n.has_tag_name((ns, name)))
        .and_then(|n| n.text())
        .map(str::to_owned)
}

const BLTI: &str = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0";

#[tokio::test]
async fn the_tool_configuration_downloads_as_well_formed_xml() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = logged_in(&tool, "ada@example.edu").await;
    let response = browser
        .get(&format!(
            "/admin/consumers/{}/config.xml",
            tool.consumer().id.0
        ))
        .await;
    assert_status(&response, StatusCode::OK);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/xml"))
    );
    let disposition = response.header("content-disposition").unwrap_or_default();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename=\"tool-config-"),
        "{disposition}"
    );
    let text = response.text();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "cartridge_basiclti_link");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.imsglobal.org/xsd/imslticc_v1p0")
    );
    assert_eq!(
        xml_text(&doc, BLTI, "launch_url").as_deref(),
        Some(&*format!("{ROOT}launch"))
    );
    assert_eq!(xml_text(&doc, BLTI, "secure_launch_url"), None, "http root");
    assert!(xml_text(&doc, BLTI, "description").is_some_and(|d| d.contains("test consumer 12345")));
}

#[tokio::test]
async fn under_a_path_prefix_the_console_and_its_urls_follow_the_root() {
    let root = "https://tools.example.edu/lti/mytool/";
    let tool = TestTool::builder()
        .with_canonical_root(root)
        .map_app(|app| app.with_admin())
        .build()
        .await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = tool.client();
    let form = browser.get("/lti/mytool/admin/login").await;
    assert_status(&form, StatusCode::OK);
    assert!(
        form.text()
            .contains(&format!("action=\"{root}admin/login\""))
    );
    let response = browser
        .post_form(
            "/lti/mytool/admin/login",
            form_body(&[
                ("csrftoken", &token(&form)),
                ("email", "ada@example.edu"),
                ("password", PASSWORD),
            ]),
        )
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some(&*format!("{root}admin/")));
    let xml = browser
        .get(&format!(
            "/lti/mytool/admin/consumers/{}/config.xml",
            tool.consumer().id.0
        ))
        .await;
    assert_status(&xml, StatusCode::OK);
    let text = xml.text();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(
        xml_text(&doc, BLTI, "launch_url").as_deref(),
        Some(&*format!("{root}launch"))
    );
    assert_eq!(
        xml_text(&doc, BLTI, "secure_launch_url").as_deref(),
        Some(&*format!("{root}launch"))
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_old_copies_of_the_cookie() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = logged_in(&tool, "ada@example.edu").await;
    let other_device = logged_in(&tool, "ada@example.edu").await;
    let page = browser.get("/admin/").await;
    assert_status(&page, StatusCode::OK);
    let stolen_sid = browser.cookie("sid").expect("a session cookie");
    let stolen_ctest = browser.cookie("ctest").expect("the test cookie");

    let response = post(&browser, "/admin/logout", &[("csrftoken", &token(&page))]).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(
        response.location(),
        Some(&*format!("{ROOT}admin/login?done=logout"))
    );
    assert!(
        response.cookie("sid").is_some_and(|c| c.is_removal()),
        "the cookie is cleared"
    );
    let login_page = browser.follow(&response).await;
    assert_eq!(
        text_by_id(&login_page, "notice").as_deref(),
        Some("You have logged out.")
    );
    assert_status(&browser.get("/admin/").await, StatusCode::SEE_OTHER);

    // A copy of the old cookie no longer reaches the console (QN-2)…
    let replay = tool.client();
    replay.set_cookie("sid", &stolen_sid);
    replay.set_cookie("ctest", &stolen_ctest);
    let response = replay.get("/admin/").await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some(&*format!("{ROOT}admin/login")));
    // …and neither do the owner's other sessions.
    assert_status(&other_device.get("/admin/").await, StatusCode::SEE_OTHER);
    // Logging in again works.
    logged_in(&tool, "ada@example.edu").await;
}

#[tokio::test]
async fn a_new_password_ends_sessions_and_a_deleted_owner_is_logged_out() {
    let tool = admin_tool().await;
    let owner = add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = logged_in(&tool, "ada@example.edu").await;
    let hash = axum_lti::hash_owner_password("another long password")
        .await
        .expect("hashed");
    tool.store()
        .set_owner_password(owner.id, &hash, tool.state().now())
        .await
        .expect("set");
    assert_status(&browser.get("/admin/").await, StatusCode::SEE_OTHER);
    let response = login(&browser, "ada@example.edu", "another long password").await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert_status(&browser.get("/admin/").await, StatusCode::OK);
    tool.store().delete_owner(owner.id).await.expect("deleted");
    assert_status(&browser.get("/admin/").await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn admin_pages_are_not_cached_or_framed() {
    let tool = admin_tool().await;
    add_owner(&tool, tool.silo().id, "ada@example.edu").await;
    let browser = tool.client();
    for response in [
        browser.get("/admin/login").await,
        logged_in(&tool, "ada@example.edu")
            .await
            .get("/admin/")
            .await,
    ] {
        assert_eq!(response.header("cache-control"), Some("no-store"));
        let csp = response
            .header("content-security-policy")
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(response.header("x-frame-options"), Some("DENY"));
    }
    // The tool's own pages keep the embedding policy.
    let response = tool.client().launch(&tool.launch()).await;
    assert_ne!(response.header("x-frame-options"), Some("DENY"));
}
