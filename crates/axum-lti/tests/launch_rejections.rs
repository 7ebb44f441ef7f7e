//! Every way a launch is refused, with its status (RFC 5849 §3.2: 400 for
//! malformed or unsupported requests, 401 for bad credentials, signature,
//! timestamp or nonce; DESIGN.md §3 "Launch"), and the launch doctor.

mod common;

use common::{assert_status, launch_and_open};
use http::{Method, StatusCode};
use lti_oauth::SignatureMethod;
use lti_testkit::{LaunchBuilder, TestResponse, TestTool, html_unescape};

/// Asserts a refusal: the status, an error page, no redirect, no cookie.
#[track_caller]
fn assert_refused(response: &TestResponse, status: StatusCode) {
    assert_status(response, status);
    assert_eq!(response.location(), None);
    assert!(
        response.set_cookies().is_empty(),
        "a refused launch sets no cookie: {:?}",
        response.set_cookies()
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        response.header("content-type")
    );
    assert!(response.text().contains("Launch refused") || status.as_u16() >= 405);
}

async fn post(tool: &TestTool, launch: &LaunchBuilder) -> TestResponse {
    tool.client().launch(launch).await
}

#[tokio::test]
async fn a_valid_launch_is_the_control() {
    let tool = TestTool::new().await;
    let response = post(&tool, &tool.launch()).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let sha256 = tool.launch().signature_method(SignatureMethod::HmacSha256);
    assert_status(&post(&tool, &sha256).await, StatusCode::SEE_OTHER);
    let no_version = tool.launch().without_oauth_version();
    assert_status(&post(&tool, &no_version).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn missing_oauth_parameters_are_bad_requests() {
    let tool = TestTool::new().await;
    for name in [
        "oauth_signature",
        "oauth_consumer_key",
        "oauth_nonce",
        "oauth_timestamp",
        "oauth_signature_method",
    ] {
        let response = post(&tool, &tool.launch().remove_after_signing(name)).await;
        assert_refused(&response, StatusCode::BAD_REQUEST);
        assert!(
            response.text().contains(name),
            "names {name}: {}",
            response.text()
        );
        let response = post(&tool, &tool.launch().set_after_signing(name, "")).await;
        assert_refused(&response, StatusCode::BAD_REQUEST);
    }
    // A form with no OAuth at all.
    let response = tool
        .client()
        .post_form("/launch", "lti_message_type=basic-lti-launch-request")
        .await;
    assert_refused(&response, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unsupported_signature_methods_are_bad_requests() {
    let tool = TestTool::new().await;
    for method in ["PLAINTEXT", "RSA-SHA1", "HMAC-MD5"] {
        let launch = tool
            .launch()
            .set_after_signing("oauth_signature_method", method);
        let response = post(&tool, &launch).await;
        assert_refused(&response, StatusCode::BAD_REQUEST);
        assert!(response.text().contains(method), "{}", response.text());
    }
    // PLAINTEXT with the correct plaintext "signature" is still refused.
    let launch = tool
        .launch()
        .set_after_signing("oauth_signature_method", "PLAINTEXT")
        .set_after_signing("oauth_signature", "secret&");
    assert_refused(&post(&tool, &launch).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn other_oauth_versions_are_bad_requests() {
    let tool = TestTool::new().await;
    let launch = tool
        .launch()
        .without_oauth_version()
        .oauth_param("oauth_version", "2.0");
    assert_refused(&post(&tool, &launch).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn duplicate_oauth_parameters_are_bad_requests() {
    let tool = TestTool::new().await;
    for name in ["oauth_nonce", "oauth_signature", "oauth_timestamp"] {
        let launch = tool.launch().append_after_signing(name, "1420370306");
        assert_refused(&post(&tool, &launch).await, StatusCode::BAD_REQUEST);
    }
    // The same protocol parameter in the query and the body.
    let launch = tool.launch();
    let nonce = launch.signed_param("oauth_nonce").expect("a nonce");
    let response = tool
        .client()
        .post_form(&format!("/launch?oauth_nonce={nonce}"), launch.body())
        .await;
    assert_refused(&response, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_bad_signature_is_unauthorized() {
    let tool = TestTool::new().await;
    let tampered = tool.launch().set_after_signing("roles", "Instructor");
    assert_refused(&post(&tool, &tampered).await, StatusCode::UNAUTHORIZED);
    let wrong_secret = tool.launch().consumer("12345", "not the secret");
    assert_refused(&post(&tool, &wrong_secret).await, StatusCode::UNAUTHORIZED);
    let other_url = tool.launch().url("http://localhost:9090/launch");
    assert_refused(&post(&tool, &other_url).await, StatusCode::UNAUTHORIZED);
    let garbage = tool
        .launch()
        .set_after_signing("oauth_signature", "not base64!");
    assert_refused(&post(&tool, &garbage).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unsigned_query_parameter_is_unauthorized() {
    let tool = TestTool::new().await;
    let launch = tool.launch();
    let response = tool
        .client()
        .post_form("/launch?course=7", launch.body())
        .await;
    assert_refused(&response, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_and_disabled_consumers_are_unauthorized() {
    let tool = TestTool::new().await;
    let unknown = tool.launch().consumer("99999", "secret");
    let response = post(&tool, &unknown).await;
    assert_refused(&response, StatusCode::UNAUTHORIZED);
    assert!(response.text().contains("not known"), "{}", response.text());

    tool.set_consumer_enabled("12345", false)
        .await
        .expect("disable");
    let response = post(&tool, &tool.launch()).await;
    assert_refused(&response, StatusCode::UNAUTHORIZED);
    assert!(response.text().contains("disabled"), "{}", response.text());

    tool.set_consumer_enabled("12345", true)
        .await
        .expect("enable");
    assert_status(&post(&tool, &tool.launch()).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_replayed_nonce_is_unauthorized() {
    let tool = TestTool::new().await;
    let launch = tool.launch();
    assert_status(&post(&tool, &launch).await, StatusCode::SEE_OTHER);
    let replay = post(&tool, &launch).await;
    assert_refused(&replay, StatusCode::UNAUTHORIZED);
    assert!(replay.text().contains("nonce"), "{}", replay.text());
    // The same nonce with a new timestamp (re-signed) is still a replay.
    tool.clock().advance(60);
    let nonce = launch.signed_param("oauth_nonce").expect("a nonce");
    let again = tool.launch().nonce(nonce.clone());
    assert_refused(&post(&tool, &again).await, StatusCode::UNAUTHORIZED);
    // Nonces are per consumer: another consumer may use it.
    tool.add_consumer("other", "other-secret")
        .await
        .expect("a second consumer");
    let other = tool.launch().consumer("other", "other-secret").nonce(nonce);
    assert_status(&post(&tool, &other).await, StatusCode::SEE_OTHER);
}

/// A replay in a browser that has a session is refused before the session
/// is touched: its cookie stays and the first launch's page still opens.
/// (Without a session the nonce is recorded with the launch itself; with
/// one it is spent first, because loading the session may re-key it.)
#[tokio::test]
async fn a_replay_in_a_browser_with_a_session_changes_nothing() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool.launch();
    let page = launch_and_open(&browser, &launch).await;
    let sid = browser.cookie("sid").expect("a session cookie");
    let replay = browser.launch(&launch).await;
    assert_refused(&replay, StatusCode::UNAUTHORIZED);
    assert!(replay.text().contains("nonce"), "{}", replay.text());
    assert_eq!(browser.cookie("sid"), Some(sid));
    assert_status(&browser.get(&page).await, StatusCode::OK);
    // A fresh launch in the same browser is still accepted.
    assert_status(&browser.launch(&tool.launch()).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn stale_and_future_timestamps_are_unauthorized() {
    let tool = TestTool::new().await;
    let now = tool.state().now();
    for (timestamp, expected) in [
        (now - 600, StatusCode::SEE_OTHER),
        (now + 600, StatusCode::SEE_OTHER),
        (now - 601, StatusCode::UNAUTHORIZED),
        (now + 601, StatusCode::UNAUTHORIZED),
        (0, StatusCode::UNAUTHORIZED),
    ] {
        let response = post(&tool, &tool.launch().timestamp(timestamp)).await;
        if expected == StatusCode::SEE_OTHER {
            assert_status(&response, expected);
        } else {
            assert_refused(&response, expected);
            assert!(response.text().contains("timestamp"), "{}", response.text());
        }
    }
}

#[tokio::test]
async fn the_timestamp_window_follows_the_settings() {
    let tool = TestTool::builder()
        .configure(|s| s.launch.timestamp_window_secs = 60)
        .build()
        .await;
    let now = tool.state().now();
    assert_status(
        &post(&tool, &tool.launch().timestamp(now - 60)).await,
        StatusCode::SEE_OTHER,
    );
    assert_refused(
        &post(&tool, &tool.launch().timestamp(now - 61)).await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn a_nonce_may_be_used_again_after_90_minutes() {
    let tool = TestTool::new().await;
    assert_status(
        &post(&tool, &tool.launch().nonce("n-90")).await,
        StatusCode::SEE_OTHER,
    );
    tool.clock().advance(90 * 60);
    assert_refused(
        &post(&tool, &tool.launch().nonce("n-90")).await,
        StatusCode::UNAUTHORIZED,
    );
    tool.clock().advance(1);
    assert_status(
        &post(&tool, &tool.launch().nonce("n-90")).await,
        StatusCode::SEE_OTHER,
    );
}

#[tokio::test]
async fn a_stale_launch_does_not_burn_its_nonce() {
    // The timestamp is checked before the nonce is recorded.
    let tool = TestTool::new().await;
    let now = tool.state().now();
    let stale = tool.launch().timestamp(now - 601).nonce("n-stale");
    assert_refused(&post(&tool, &stale).await, StatusCode::UNAUTHORIZED);
    let fresh = tool.launch().nonce("n-stale");
    assert_status(&post(&tool, &fresh).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_bad_signature_does_not_burn_its_nonce() {
    // The nonce is recorded only once the signature verified, so a forger
    // cannot use up a genuine launch's nonce.
    let tool = TestTool::new().await;
    let forged = tool.launch().consumer("12345", "guess").nonce("n-forged");
    assert_refused(&post(&tool, &forged).await, StatusCode::UNAUTHORIZED);
    let genuine = tool.launch().nonce("n-forged");
    assert_status(&post(&tool, &genuine).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn concurrent_replays_cannot_both_pass() {
    let tool = TestTool::new().await;
    let launch = tool.launch();
    let (a, b, c) = tokio::join!(
        post(&tool, &launch),
        post(&tool, &launch),
        post(&tool, &launch)
    );
    let mut statuses = [a.status(), b.status(), c.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::SEE_OTHER,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED
        ]
    );
}

#[tokio::test]
async fn lti_message_errors_are_bad_requests() {
    let tool = TestTool::new().await;
    for launch in [
        tool.launch()
            .param("lti_message_type", "ContentItemSelectionRequest"),
        tool.launch().remove("lti_message_type"),
        tool.launch().param("lti_version", "LTI-2p0"),
        tool.launch().param("lti_version", "lti-1p0"),
        tool.launch().remove("lti_version"),
        tool.launch().remove("resource_link_id"),
        tool.launch().param("resource_link_id", ""),
        tool.launch().param("resource_link_id", "x".repeat(257)),
    ] {
        let response = post(&tool, &launch).await;
        assert_refused(&response, StatusCode::BAD_REQUEST);
    }
    // The message type is compared without regard to case.
    let upper = tool
        .launch()
        .param("lti_message_type", "Basic-LTI-Launch-Request");
    assert_status(&post(&tool, &upper).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_protocol_error_spends_its_nonce() {
    // DESIGN.md §3 "Launch": the nonce is recorded before the LTI checks,
    // so resending a refused launch is a replay, not the same 400 again.
    let tool = TestTool::new().await;
    let launch = tool.launch().remove("resource_link_id").nonce("n-bad");
    assert_refused(&post(&tool, &launch).await, StatusCode::BAD_REQUEST);
    let again = post(&tool, &launch).await;
    assert_refused(&again, StatusCode::UNAUTHORIZED);
    assert!(again.text().contains("nonce"), "{}", again.text());
}

#[tokio::test]
async fn protocol_errors_go_back_to_the_return_url() {
    let tool = TestTool::new().await;
    let launch = tool
        .launch()
        .param("lti_version", "LTI-2p0")
        .return_url("http://lms.example/return?course=7");
    let response = post(&tool, &launch).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let location = response.location().expect("a Location");
    assert!(
        location.starts_with("http://lms.example/return?course=7&"),
        "{location}"
    );
    assert_eq!(response.location_param("course").as_deref(), Some("7"));
    let message = response
        .location_param("lti_errormsg")
        .expect("lti_errormsg");
    assert!(
        message.contains("LTI-2p0") || message.contains("version"),
        "{message}"
    );
    let log = response.location_param("lti_log").expect("lti_log");
    assert!(!log.is_empty());
    assert!(response.set_cookies().is_empty());

    // A return URL without a query gets one.
    let launch = tool
        .launch()
        .remove("resource_link_id")
        .return_url("http://lms.example/return");
    let response = post(&tool, &launch).await;
    assert_status(&response, StatusCode::SEE_OTHER);
    assert!(
        response
            .location()
            .is_some_and(|l| l.starts_with("http://lms.example/return?lti_errormsg=")),
        "{:?}",
        response.location()
    );
}

#[tokio::test]
async fn unauthenticated_launches_never_redirect() {
    // Only an authenticated launch may send the browser to its return URL:
    // anything else would be an open redirect.
    let tool = TestTool::new().await;
    let launch = tool
        .launch()
        .param("lti_version", "LTI-2p0")
        .return_url("http://evil.example/")
        .consumer("12345", "wrong");
    assert_refused(&post(&tool, &launch).await, StatusCode::UNAUTHORIZED);
    let launch = tool
        .launch()
        .return_url("http://evil.example/")
        .set_after_signing("oauth_signature_method", "PLAINTEXT");
    assert_refused(&post(&tool, &launch).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_post_is_allowed() {
    let tool = TestTool::new().await;
    let launch = tool.launch();
    let browser = tool.client();
    let response = browser.get(&format!("/launch?{}", launch.body())).await;
    assert_status(&response, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), Some("POST"));
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let response = browser
            .request(
                method,
                "/launch",
                &[("content-type", "application/x-www-form-urlencoded")],
                tool.launch().body(),
            )
            .await;
        assert_status(&response, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.header("allow"), Some("POST"));
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_too_large() {
    let tool = TestTool::new().await;
    let limit = tool.state().settings().server.body_limit;
    let launch = tool.launch().param("custom_padding", "x".repeat(limit));
    let response = post(&tool, &launch).await;
    assert_refused(&response, StatusCode::PAYLOAD_TOO_LARGE);
    // A declared length over the limit is refused before reading.
    let response = tool
        .client()
        .request(
            Method::POST,
            "/launch",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("content-length", &(limit + 1).to_string()),
            ],
            "x".repeat(limit + 1),
        )
        .await;
    assert_refused(&response, StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the limit is fine.
    let fits = tool
        .launch()
        .param("custom_padding", "x".repeat(limit - 1200));
    assert!(fits.body().len() <= limit);
    assert_status(&post(&tool, &fits).await, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn other_content_types_are_unsupported() {
    let tool = TestTool::new().await;
    for content_type in [
        Some("application/json"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| vec![("content-type", t)])
            .unwrap_or_default();
        let response = tool
            .client()
            .request(Method::POST, "/launch", &headers, tool.launch().body())
            .await;
        assert_refused(&response, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    // Parameters of the media type are fine.
    let response = tool
        .client()
        .request(
            Method::POST,
            "/launch",
            &[(
                "content-type",
                "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
            )],
            tool.launch().body(),
        )
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_launch_doctor_explains_a_bad_signature_when_on() {
    let tool = TestTool::builder().with_debug_launch(true).build().await;
    let launch = tool.launch().consumer("12345", "wrong secret");
    let response = post(&tool, &launch).await;
    assert_refused(&response, StatusCode::UNAUTHORIZED);
    let text = html_unescape(&response.text());
    assert!(text.contains("Launch doctor"), "{text}");
    assert!(
        text.contains("POST&http%3A%2F%2Flocalhost%3A8080%2Flaunch&"),
        "the base string: {text}"
    );
    assert!(text.contains("http://localhost:8080/launch"), "{text}");
    assert!(text.contains("canonical_root"), "{text}");
    let signature = launch.signed_param("oauth_signature").expect("signed");
    assert!(!text.contains(&signature), "never the signature");

    // Clock trouble is explained too.
    let stale = tool.launch().timestamp(tool.state().now() - 4000);
    let text = html_unescape(&post(&tool, &stale).await.text());
    assert!(text.contains("Launch doctor"), "{text}");
    assert!(text.contains("4000 s"), "{text}");
}

#[tokio::test]
async fn the_launch_doctor_stays_quiet_when_off() {
    let tool = TestTool::builder().with_debug_launch(false).build().await;
    let launch = tool.launch().consumer("12345", "wrong secret");
    let response = post(&tool, &launch).await;
    assert_refused(&response, StatusCode::UNAUTHORIZED);
    let text = html_unescape(&response.text());
    assert!(!text.contains("Launch doctor"), "{text}");
    assert!(!text.contains("POST&http"), "{text}");
    assert!(!text.contains("oauth_nonce"), "{text}");
}

#[tokio::test]
async fn no_page_shows_the_consumer_secret() {
    const SECRET: &str = "Zebra-Quokka-7f3a9c";
    let tool = TestTool::builder()
        .with_consumer("12345", SECRET)
        .with_debug_launch(true)
        .with_routes(common::info_routes())
        .build()
        .await;
    let good = tool.launch();
    let browser = tool.client();
    let mut responses = Vec::new();
    let launch = browser.launch(&good).await;
    let ctest = browser.follow(&launch).await;
    let page = browser.follow(&ctest).await;
    assert_status(&page, StatusCode::OK);
    responses.extend([launch, ctest, page]);
    for bad in [
        good.clone().set_after_signing("roles", "Instructor"),
        tool.launch().consumer("12345", "wrong"),
        tool.launch().timestamp(0),
        tool.launch().param("lti_version", "x"),
        tool.launch()
            .param("lti_version", "x")
            .return_url("http://lms.example/r"),
        tool.launch()
            .set_after_signing("oauth_signature_method", "PLAINTEXT"),
    ] {
        responses.push(tool.client().launch(&bad).await);
    }
    responses.push(post(&tool, &good).await); // replay
    for response in &responses {
        let mut everything = html_unescape(&response.text());
        for (name, value) in response.headers() {
            everything.push_str(&format!("\n{name}: {}", value.to_str().unwrap_or_default()));
        }
        for needle in [SECRET, "Zebra-Quokka", "Zebra%2DQuokka"] {
            assert!(
                !everything.contains(needle),
                "{} leaks the secret:\n{everything}",
                response.status()
            );
        }
    }
}
