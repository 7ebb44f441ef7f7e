//! Both clients against the same small app: targets, headers, cookies,
//! redirects left alone; and a whole launch over a real socket.

use axum::Router;
use axum::http::HeaderMap;
use axum::response::{AppendHeaders, IntoResponse, Redirect};
use axum::routing::get;
use http::{Method, StatusCode};
use lti_testkit::{DEFAULT_USER_AGENT, HttpClient, TestClient, TestTool};

async fn echo(method: Method, headers: HeaderMap, uri: http::Uri) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    format!(
        "{method} {uri}\nhost={}\nua={}\ncookie={}\nx={}",
        header("host"),
        header("user-agent"),
        header("cookie"),
        header("x-test")
    )
}

async fn set() -> impl IntoResponse {
    (
        AppendHeaders([
            ("set-cookie", "a=1; Path=/"),
            ("set-cookie", "b=2; Path=/deep; HttpOnly"),
        ]),
        "set",
    )
}

async fn unset() -> impl IntoResponse {
    ([("set-cookie", "a=; Max-Age=0; Path=/")], "unset")
}

fn app() -> Router {
    Router::new()
        .route("/echo", get(echo).post(echo))
        .route("/deep/echo", get(echo))
        .route("/set", get(set))
        .route("/unset", get(unset))
        .route(
            "/redirect",
            get(|| async { Redirect::to("http://localhost:8080/echo?from=redirect") }),
        )
}

fn line<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the server runs");
    });
    addr
}

#[tokio::test]
async fn in_process_targets_headers_and_cookies() {
    let client = TestClient::new(app());
    let response = client.get("https://tool.example:8443/echo?q=1#frag").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text();
    assert!(text.starts_with("GET /echo?q=1\n"), "{text}");
    assert_eq!(line(&text, "host"), "tool.example:8443");
    assert_eq!(line(&text, "ua"), DEFAULT_USER_AGENT);
    assert_eq!(line(&text, "cookie"), "-");

    client.get("/set").await;
    let text = client.get("/echo").await.text();
    assert_eq!(line(&text, "host"), "localhost");
    assert_eq!(line(&text, "cookie"), "a=1");
    let text = client.get("/deep/echo").await.text();
    assert_eq!(line(&text, "cookie"), "b=2; a=1");
    assert!(
        client
            .jar()
            .last_set_cookie("b")
            .is_some_and(|c| c.http_only)
    );

    let response = client.get("/unset").await;
    assert_eq!(response.cookie("a").and_then(|c| c.max_age), Some(0));
    assert_eq!(client.cookie("a"), None);

    let text = client
        .request(
            Method::POST,
            "/echo",
            &[
                ("x-test", "yes"),
                ("cookie", "mine=1"),
                ("user-agent", "Other"),
            ],
            "",
        )
        .await
        .text();
    assert_eq!(line(&text, "x"), "yes");
    assert_eq!(line(&text, "cookie"), "mine=1", "the caller's Cookie wins");
    assert_eq!(line(&text, "ua"), "Other");

    client.set_user_agent(None);
    assert_eq!(line(&client.get("/echo").await.text(), "ua"), "-");
}

#[tokio::test]
async fn redirects_are_never_followed_by_themselves() {
    let client = TestClient::new(app());
    let response = client.get("/redirect").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.location_path().as_deref(), Some("/echo"));
    let next = client.follow(&response).await;
    assert!(next.text().starts_with("GET /echo?from=redirect\n"));
    assert_eq!(line(&next.text(), "host"), "localhost:8080");
}

#[tokio::test]
#[should_panic(expected = "no Location header")]
async fn following_a_response_without_location_panics() {
    let client = TestClient::new(app());
    let response = client.get("/echo").await;
    client.follow(&response).await;
}

#[tokio::test]
async fn blocked_clients_keep_no_cookies() {
    let client = TestClient::new(app()).with_cookies_blocked();
    let response = client.get("/set").await;
    assert_eq!(
        response.set_cookies().len(),
        2,
        "the response still has them"
    );
    assert!(client.jar().is_empty());
    assert_eq!(line(&client.get("/echo").await.text(), "cookie"), "-");
    let window = client.new_browser();
    window.get("/set").await;
    assert_eq!(window.cookie("a").as_deref(), Some("1"));
}

#[tokio::test]
async fn the_http_client_speaks_to_a_real_socket() {
    let addr = serve(app()).await;
    let client = HttpClient::new(addr);
    let text = client.get("/echo?x=1").await.text();
    assert!(text.starts_with("GET /echo?x=1\n"), "{text}");
    assert_eq!(line(&text, "host"), addr.to_string());
    assert_eq!(line(&text, "ua"), DEFAULT_USER_AGENT);

    client.get("/set").await;
    let text = client.get("http://localhost:8080/deep/echo").await.text();
    assert_eq!(line(&text, "host"), "localhost:8080", "Host from the URL");
    assert_eq!(line(&text, "cookie"), "b=2; a=1");

    let response = client.get("/redirect").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let next = client.follow(&response).await;
    assert!(next.text().starts_with("GET /echo?from=redirect\n"));

    let named = HttpClient::new(addr).with_host("tool.example");
    assert_eq!(
        line(&named.get("/echo").await.text(), "host"),
        "tool.example"
    );
}

#[tokio::test]
async fn the_http_client_reports_a_closed_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = listener.local_addr().expect("an address");
    drop(listener);
    let client = HttpClient::new(addr);
    let err = client
        .try_request(Method::GET, "/", &[], "")
        .await
        .expect_err("nothing listens");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[tokio::test]
async fn a_whole_launch_over_a_real_socket() {
    let tool = TestTool::new().await;
    let addr = serve(tool.router()).await;
    let browser = HttpClient::new(addr).with_host("localhost:8080");
    let launch = browser
        .launch(&tool.launch().person_name("Grace Hopper"))
        .await;
    assert_eq!(launch.status(), StatusCode::SEE_OTHER, "{}", launch.text());
    let ctest = browser.follow(&launch).await;
    assert_eq!(ctest.status(), StatusCode::SEE_OTHER, "{}", ctest.text());
    let page = browser.follow(&ctest).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().contains("Grace Hopper"), "{}", page.text());

    // Blocked in the frame, continued in a new window.
    let frame = browser.new_browser().with_cookies_blocked();
    let launch = frame.launch(&tool.launch().resource_link_id("other")).await;
    let page = frame.follow(&launch).await;
    let wlaunch = page.link_by_id("wlaunch").expect("the new-window link");
    let window = frame.new_browser();
    let adopt = window.get(&wlaunch).await;
    assert_eq!(adopt.location_param("framed").as_deref(), Some("1"));
    let ctest = window.follow(&adopt).await;
    assert_eq!(window.follow(&ctest).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn test_tools_seal_secrets_and_manage_consumers() {
    let tool = TestTool::builder()
        .with_consumer("key-1", "a secret")
        .with_time(1_500_000_000)
        .build()
        .await;
    assert_eq!(tool.consumer().key, "key-1");
    assert_eq!(tool.silo().slug, "testing");
    let sealed = tool.consumer().secret.as_cipher_text().to_owned();
    assert!(!sealed.contains("a secret"));
    assert_eq!(
        tool.state().cipher().decrypt_str(&sealed).expect("opens"),
        "a secret"
    );
    assert_eq!(
        tool.launch().signed_param("oauth_consumer_key").as_deref(),
        Some("key-1")
    );
    assert_eq!(
        tool.launch().signed_param("oauth_timestamp").as_deref(),
        Some("1500000000")
    );
    assert_eq!(tool.launch().launch_url(), "http://localhost:8080/launch");
    assert!(
        tool.add_consumer("key-1", "x").await.is_err(),
        "duplicate key"
    );
    tool.add_consumer("key-2", "y").await.expect("a new key");
    assert!(tool.set_consumer_enabled("nope", false).await.is_err());
}
