//! Security properties, each a test (RELIABILITY.md §6). The log scan is
//! in `hardening_logs.rs`; others live
//! beside the code they guard and are listed there: CSRF in `csrf.rs`,
//! cookie attributes in `session_cookie_test.rs`, cookie-test tampering and
//! open redirects in `session_tampering.rs` and `hardening_input.rs`,
//! secrets in pages in `launch_rejections.rs`.

mod common;

use axum::Router;
use axum::routing::post;
use axum_lti::{LtiRejection, Visit};
use common::{assert_status, field, info_page, launch_and_open, session_id};
use http::StatusCode;
use lti_store::testing::raw_consumer_secret;
use lti_testkit::{TestClient, TestTool, form_body};

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

#[tokio::test]
async fn consumer_secrets_are_encrypted_in_the_database() {
    let tool = tool().await;
    let db = tool.provider().db().expect("a database");
    let raw = raw_consumer_secret(db, tool.consumer().id)
        .await
        .expect("the stored secret");
    assert!(!raw.contains(CONSUMER_SECRET), "{raw}");
    let keynum = tool.state().settings().keys.keynum;
    assert!(raw.starts_with(&format!("{keynum}:")), "{raw}");
    assert_eq!(
        tool.state().cipher().decrypt_str(&raw).expect("it opens"),
        CONSUMER_SECRET
    );
    // Sealed with a fresh nonce each time: equal secrets do not look equal.
    let other = tool
        .add_consumer("twin", CONSUMER_SECRET)
        .await
        .expect("a twin");
    let twin = raw_consumer_secret(db, other.id).await.expect("stored");
    assert_ne!(raw, twin);
}

/// Session fixation (spec §4.6): an attacker plants a session cookie of
/// their own in the victim's browser before the victim launches. The
/// planted id never carries the victim's visit: the launch (or the
/// cookie test) gives the session a new id, and the attacker's copy of the
/// cookie opens nothing of the victim's.
#[tokio::test]
async fn a_session_id_planted_before_a_launch_does_not_survive_it() {
    let tool = tool().await;
    // The attacker's own sessions: one established, one fresh from a launch.
    let attacker = tool.client();
    launch_and_open(&attacker, &tool.launch().user_id("mallory")).await;
    let established = attacker.cookie("sid").expect("an established session");
    let half = tool.client();
    let started = half.launch(&tool.launch().user_id("mallory")).await;
    assert_status(&started, StatusCode::SEE_OTHER);
    let unestablished = half.cookie("sid").expect("an unestablished session");

    for planted in [established, unestablished] {
        let victim = tool.client();
        victim.set_cookie("sid", &planted);
        victim.set_cookie("ctest", "0");
        let page = launch_and_open(
            &victim,
            &tool
                .launch()
                .user_id("victim")
                .resource_link_id("grades")
                .roles("Instructor"),
        )
        .await;
        let now = victim.cookie("sid").expect("the victim's session");
        assert_ne!(
            session_id(&now),
            session_id(&planted),
            "the planted id was kept"
        );
        // The attacker, holding the planted cookie, reaches nothing.
        let thief = tool.client();
        thief.set_cookie("sid", &planted);
        thief.set_cookie("ctest", "0");
        let stolen = thief.get(&page).await;
        assert_status(&stolen, StatusCode::FORBIDDEN);
        // The victim does.
        assert_eq!(field(&info_page(&victim, &page).await, "user_id"), "victim");
    }
}

/// Multi-tenant isolation: a session with visits from consumer A never
/// opens a resource of consumer B, even with B's resource id in the URL and
/// the same link id, user id and context id at both.
#[tokio::test]
async fn a_visit_from_one_consumer_never_opens_another_consumers_resource() {
    let tool = tool().await;
    tool.add_consumer("other", OTHER_SECRET)
        .await
        .expect("consumer B");
    let same = |launch: lti_testkit::LaunchBuilder| {
        launch
            .resource_link_id("shared-link")
            .user_id("shared-user")
            .context_id("shared-course")
            .roles("Instructor")
    };
    let at_b = tool.client();
    let b_page = launch_and_open(&at_b, &same(tool.launch().consumer("other", OTHER_SECRET))).await;
    let at_a = tool.client();
    let a_page = launch_and_open(&at_a, &same(tool.launch())).await;
    assert_ne!(a_page, b_page, "one link id, two consumers, two resources");
    assert_status(&at_a.get(&b_page).await, StatusCode::FORBIDDEN);
    assert_status(
        &at_a.get(&format!("{b_page}info")).await,
        StatusCode::FORBIDDEN,
    );
    let save = at_a
        .post_form(
            &format!("{b_page}save"),
            form_body(&[(
                "csrftoken",
                &field(&info_page(&at_a, &a_page).await, "csrf"),
            )]),
        )
        .await;
    assert_status(&save, StatusCode::FORBIDDEN);
    // B's session, with its own token, cannot reach A's resource either.
    assert_status(&at_b.get(&a_page).await, StatusCode::FORBIDDEN);
    // The same user id at two consumers is two users.
    let a_user = field(&info_page(&at_a, &a_page).await, "resource");
    let b_user = field(&info_page(&at_b, &b_page).await, "resource");
    assert_ne!(a_user, b_user);
    let users = lti_store::testing::count_rows(
        tool.provider().db().expect("a database"),
        lti_store::testing::Table::Users,
    )
    .await
    .expect("users");
    assert_eq!(users, 2);
}

/// Spec §5.2 O-9: a launch with an unknown or disabled consumer key does
/// the same signature work (HMAC computations) as one with a known key
/// and a wrong signature, so timing does not tell which keys exist. A
/// structural test: the framework counts its signature verifications.
#[tokio::test]
async fn an_unknown_key_costs_the_same_signature_work_as_a_known_one() {
    let tool = tool().await;
    tool.add_consumer("disabled", OTHER_SECRET)
        .await
        .expect("a consumer");
    tool.set_consumer_enabled("disabled", false)
        .await
        .expect("disabled");
    async fn work(client: &TestClient, launch: &lti_testkit::LaunchBuilder) -> (u64, StatusCode) {
        let before = axum_lti::launch_signature_checks_on_this_thread();
        let response = client.launch(launch).await;
        (
            axum_lti::launch_signature_checks_on_this_thread() - before,
            response.status(),
        )
    }
    // The second URL carries a query that the body repeats, as Canvas
    // sends it: a failed check is retried without the copies (two HMACs).
    for url in [tool.url("launch"), tool.url("launch?course=1")] {
        let mut launch = tool.launch().url(url.clone());
        if url.contains('?') {
            launch = launch.add_param("course", "1");
        }
        // The same forged request against a known, an unknown and a
        // disabled key: the same number of HMAC computations.
        let known = work(&tool.client(), &launch.clone().consumer("12345", "wrong")).await;
        let unknown = work(&tool.client(), &launch.clone().consumer("nobody", "wrong")).await;
        let disabled = work(
            &tool.client(),
            &launch.clone().consumer("disabled", "wrong"),
        )
        .await;
        // A correctly signed request: the same for an enabled and a
        // disabled key (only the answer differs).
        let good = work(
            &tool.client(),
            &launch.clone().consumer("12345", CONSUMER_SECRET),
        )
        .await;
        let good_disabled = work(
            &tool.client(),
            &launch.clone().consumer("disabled", OTHER_SECRET),
        )
        .await;
        assert_eq!(known.1, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.1, StatusCode::UNAUTHORIZED);
        assert_eq!(disabled.1, StatusCode::UNAUTHORIZED);
        assert_eq!(good.1, StatusCode::SEE_OTHER);
        assert_eq!(good_disabled.1, StatusCode::UNAUTHORIZED);
        assert!(known.0 >= 1, "{url}: the signature was checked");
        assert_eq!(unknown.0, known.0, "{url}: unknown key");
        assert_eq!(disabled.0, known.0, "{url}: disabled key");
        assert_eq!(
            good_disabled.0, good.0,
            "{url}: disabled key, good signature"
        );
        eprintln!(
            "{url}: HMAC computations, forged: known {} unknown {} disabled {}; \
             signed: enabled {} disabled {}",
            known.0, unknown.0, disabled.0, good.0, good_disabled.0
        );
    }
}

/// Pages that echo what the request carried escape it: a reflected
/// `<script>` never comes back as markup.
#[tokio::test]
async fn reflected_input_is_escaped() {
    let tool = tool().await;
    let browser = tool.client();
    let evil = "<script>alert(1)</script>";
    let page = browser
        .get(&format!(
            "/dev/return?{}",
            form_body(&[("lti_errormsg", evil), ("lti_log", evil)])
        ))
        .await;
    assert_status(&page, StatusCode::OK);
    assert!(!page.text().contains(evil), "{}", page.text());
    let refused = browser
        .launch(
            &tool
                .launch()
                .set_after_signing("oauth_signature_method", evil),
        )
        .await;
    assert_status(&refused, StatusCode::BAD_REQUEST);
    assert!(!refused.text().contains(evil), "{}", refused.text());
    let launched = launch_and_open(&browser, &tool.launch().person_name(evil)).await;
    let page = browser.get(&launched).await;
    assert!(!page.text().contains(evil), "{}", page.text());
}
