//! Deployment behind a proxy, in process: the canonical root's path prefix
//! with both proxy styles, the embedding headers, the launch doctor naming
//! a proxy mismatch, and `server.trusted_proxies` (DESIGN.md §4). The same
//! flows through a real nginx are in `examples/mytool/tests/nginx.rs`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use axum_lti::{Settings, ToolProviderApp, Visit};
use http::{Method, StatusCode};
use lti_testkit::{LaunchBuilder, TEST_APP_SECRET, TestClient, TestResponse, TestTool};

async fn hello(visit: Visit) -> String {
    format!("hello {}", visit.display_name())
}

fn routes() -> Router {
    Router::new().route("/resource/{id}/", get(hello))
}

#[track_caller]
fn assert_status(response: &TestResponse, expected: StatusCode) {
    assert_eq!(
        response.status(),
        expected,
        "Location: {:?}\n{}",
        response.location(),
        response.text()
    );
}

/// Posts `launch` to `target` (which may differ from the signed URL, as
/// behind a proxy), walks the cookie test and opens the page.
async fn walk(client: &TestClient, launch: &LaunchBuilder, target: &str) -> String {
    let response = client.post_form(target, launch.body()).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let ctest = response.location().expect("a Location").to_owned();
    assert!(
        ctest.starts_with("https://tools.example.edu/tools/mytool/ctest?"),
        "{ctest}"
    );
    let sid = response.cookie("sid").expect("a session cookie");
    assert_eq!(sid.path.as_deref(), Some("/tools/mytool/"));
    assert!(sid.secure && sid.http_only);
    let back = client.follow(&response).await;
    assert_status(&back, StatusCode::SEE_OTHER);
    let page_url = back.location().expect("back to the page").to_owned();
    assert!(
        page_url.starts_with("https://tools.example.edu/tools/mytool/resource/"),
        "{page_url}"
    );
    page_url
}

#[tokio::test]
async fn a_prefixed_root_serves_both_proxy_styles() {
    let tool = TestTool::builder()
        .with_canonical_root("https://tools.example.edu/tools/mytool")
        .with_routes(routes())
        .build()
        .await;
    // The router exactly as the tool binary serves it (no extra nesting).
    let app = tool.provider().router(routes());

    // The proxy passes the full path.
    let full = TestClient::new(app.clone());
    let launch = tool.launch().user_id("u-full").person_name("Full Path");
    let page_url = walk(&full, &launch, "/tools/mytool/launch").await;
    let page = full.get(&page_url).await;
    assert_status(&page, StatusCode::OK);
    assert_eq!(page.text(), "hello Full Path");

    // The proxy strips the prefix: the same signed URL verifies.
    let stripped = TestClient::new(app);
    let launch = tool.launch().user_id("u-strip").person_name("Stripped");
    let page_url = walk(&stripped, &launch, "/launch").await;
    let page = stripped.get(&page_url).await;
    assert_status(&page, StatusCode::OK);
    assert_eq!(page.text(), "hello Stripped");
}

#[tokio::test]
async fn every_response_is_frameable_and_has_the_safety_headers() {
    let tool = TestTool::builder().with_routes(routes()).build().await;
    let client = tool.client();
    let launch = client.launch(&tool.launch()).await;
    let missing = client.get("/nothing-here").await;
    assert_status(&missing, StatusCode::NOT_FOUND);
    let refused = client
        .request(Method::GET, "/launch", &[], axum::body::Bytes::new())
        .await;
    for response in [&launch, &missing, &refused] {
        assert_eq!(
            response.header("content-security-policy"),
            Some("frame-ancestors *")
        );
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            response.header("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        assert_eq!(response.header("x-frame-options"), None);
    }

    let tool = TestTool::builder()
        .configure(|s| {
            s.server.frame_ancestors = vec!["https://canvas.example.edu".into()];
        })
        .build()
        .await;
    let response = tool.client().get("/").await;
    assert_eq!(
        response.header("content-security-policy"),
        Some("frame-ancestors https://canvas.example.edu")
    );
}

#[tokio::test]
async fn the_doctor_names_a_scheme_the_proxy_reports() {
    let tool = TestTool::builder()
        .with_canonical_root("http://localhost:8443/tools/mytool")
        .with_debug_launch(true)
        .build()
        .await;
    let client = tool.client();
    let launch = tool
        .launch()
        .url("https://localhost:8443/tools/mytool/launch");
    let response = client
        .request(
            Method::POST,
            "/tools/mytool/launch",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("x-forwarded-proto", "https"),
                ("host", "localhost:8443"),
            ],
            launch.body(),
        )
        .await;
    assert_status(&response, StatusCode::UNAUTHORIZED);
    let text = lti_testkit::html_unescape(&response.text());
    assert!(text.contains("X-Forwarded-Proto: https"), "{text}");
    assert!(
        text.contains("canonical_root is http://localhost:8443/tools/mytool/"),
        "{text}"
    );
    assert!(
        text.contains("Set server.canonical_root (or --canonical-root) to https://localhost:8443/tools/mytool/"),
        "{text}"
    );
}

/// A tool without a canonical root that trusts 10.0.0.0/8, sharing the
/// store (and the consumer) of `tool`.
async fn proxied_app(tool: &TestTool, peer: &str) -> Router {
    let settings = Settings::from_json(r#"{"server": {"trusted_proxies": ["10.0.0.0/8"]}}"#)
        .expect("valid settings");
    let provider = ToolProviderApp::new(settings)
        .with_store(Arc::clone(tool.store()))
        .with_clock(Arc::new(tool.clock().clone()))
        .with_app_secret(TEST_APP_SECRET)
        .build()
        .await
        .expect("the tool builds");
    let peer: SocketAddr = peer.parse().expect("an address");
    // What `into_make_service_with_connect_info` gives every request.
    provider
        .router(routes())
        .layer(axum::middleware::map_request(
            move |mut request: axum::extract::Request| async move {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ))
}

#[tokio::test]
async fn forwarding_headers_count_only_from_trusted_proxies() {
    let tool = TestTool::new().await;
    let forwarded = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("host", "10.1.1.1:8080"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "lti.example.org"),
        ("x-forwarded-prefix", "/tools/mytool"),
    ];
    let signed = "https://lti.example.org/tools/mytool/launch";

    let trusted = TestClient::new(proxied_app(&tool, "10.0.0.5:40000").await);
    let launch = tool.launch().url(signed);
    let response = trusted
        .request(Method::POST, "/launch", &forwarded, launch.body())
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let location = response.location().expect("a Location");
    assert!(
        location.starts_with("https://lti.example.org/tools/mytool/ctest?"),
        "{location}"
    );
    let sid = response.cookie("sid").expect("a session cookie");
    assert_eq!(sid.path.as_deref(), Some("/tools/mytool/"));
    assert!(sid.secure);

    // The same headers from an untrusted peer are ignored: the signature
    // is checked against the default root and fails.
    let untrusted = TestClient::new(proxied_app(&tool, "192.0.2.7:40000").await);
    let launch = tool.launch().url(signed);
    let response = untrusted
        .request(Method::POST, "/launch", &forwarded, launch.body())
        .await;
    assert_status(&response, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_public_bind_needs_a_canonical_root_or_trusted_proxies() {
    let tool = TestTool::new().await;
    let build = |json: &str| {
        let settings = Settings::from_json(json).expect("valid settings");
        ToolProviderApp::new(settings)
            .with_store(Arc::clone(tool.store()))
            .with_app_secret(TEST_APP_SECRET)
            .build()
    };
    let err = build(r#"{"server": {"bind": "0.0.0.0"}}"#)
        .await
        .expect_err("no root for a public bind");
    assert!(err.to_string().contains("canonical_root"), "{err}");
    build(r#"{"server": {"bind": "0.0.0.0", "trusted_proxies": ["10.0.0.1"]}}"#)
        .await
        .expect("the proxies name the root");
    build(r#"{"server": {"bind": "0.0.0.0", "canonical_root": "https://x.edu/t"}}"#)
        .await
        .expect("a canonical root");
    let err = build(r#"{"server": {"canonical_root": "https://x.edu/a/../b"}}"#)
        .await
        .expect_err("a bad root");
    assert!(err.to_string().contains("canonical_root"), "{err}");
}
