//! Accepted launches and the visits they make (spec §5.4, §5.5, §6.2):
//! what is signed, what is stored and shown, and which visits a launch
//! replaces.

mod common;

use common::{assert_status, field, info_page, launch_and_open};
use http::{Method, StatusCode};
use lti_oauth::AuthorizationHeader;
use lti_testkit::{form_body, html_unescape};

#[tokio::test]
async fn a_signed_query_string_in_the_launch_url_is_accepted() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .url(tool.url("launch?course=7&section=a%20b"))
        .param("custom_x", "1");
    assert!(launch.launch_url().ends_with("?course=7&section=a%20b"));
    let page = launch_and_open(&browser, &launch).await;
    assert_eq!(
        field(&info_page(&browser, &page).await, "custom"),
        "custom_x:1"
    );
}

#[tokio::test]
async fn canvas_style_query_copies_in_the_body_are_accepted() {
    // Canvas signs the query parameters once but sends them in the URL and
    // in the body too.
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .url(tool.url("launch?custom_course=7&custom_mode=edit"))
        .append_after_signing("custom_course", "7")
        .append_after_signing("custom_mode", "edit");
    let body = launch.body();
    assert!(body.contains("custom_course=7"), "{body}");
    let response = browser.launch(&launch).await;
    assert_status(&response, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn duplicate_lti_parameters_are_signed_and_kept() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .add_param("custom_tag", "red")
        .add_param("custom_tag", "blue")
        .add_param("custom_tag", "red");
    let page = launch_and_open(&browser, &launch).await;
    assert_eq!(
        field(&info_page(&browser, &page).await, "custom"),
        "custom_tag:red,custom_tag:blue,custom_tag:red"
    );
}

#[tokio::test]
async fn reserved_characters_in_values_verify() {
    let tool = common::tool().await;
    let browser = tool.client();
    let value = "a+b c&d=e/f?g:h;i%j~k*l'm(n)o!p\"q<r>s#t";
    let launch = tool.launch().param("custom_odd", value);
    let page = launch_and_open(&browser, &launch).await;
    assert_eq!(
        field(&info_page(&browser, &page).await, "custom"),
        format!("custom_odd:{value}")
    );
}

#[tokio::test]
async fn non_ascii_values_are_stored_and_shown() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .person_name("Zoë Ångström-Núñez")
        .param("resource_link_title", "Résumé 講義ノート")
        .context_id("课程-42")
        .param("context_title", "日本語の講座")
        .param("custom_greeting", "مرحبا");
    let page = launch_and_open(&browser, &launch).await;
    let html = browser.get(&page).await;
    let text = html_unescape(&html.text());
    for shown in ["Zoë Ångström-Núñez", "Résumé 講義ノート", "日本語の講座"] {
        assert!(text.contains(shown), "{shown} missing from:\n{text}");
    }
    let info = info_page(&browser, &page).await;
    assert_eq!(field(&info, "display_name"), "Zoë Ångström-Núñez");
    assert_eq!(field(&info, "context"), "课程-42");
    assert_eq!(field(&info, "custom"), "custom_greeting:مرحبا");
    assert!(
        html.header("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("utf-8")),
        "{:?}",
        html.header("content-type")
    );
}

#[tokio::test]
async fn roles_map_to_permissions_and_unknown_roles_are_ignored() {
    let tool = common::tool().await;
    for (roles, permissions) in [
        ("Instructor", "7"),
        ("Learner", "1"),
        ("urn:lti:role:ims/lis/Instructor/TeachingAssistant", "7"),
        ("Learner/Instructor", "1"),
        ("Learner,Instructor", "7"),
        ("Student", "0"),
        ("Student,Bogus/Thing, ,http://example.com/role", "0"),
        ("urn:lti:instrole:ims/lis/Instructor", "0"),
        ("TeachingAssistant,Mentor", "0"),
        ("Bogus,Learner,", "1"),
        ("", "0"),
    ] {
        let browser = tool.client();
        let launch = tool
            .launch()
            .roles(roles)
            .resource_link_id(format!("roles {roles}"));
        let page = launch_and_open(&browser, &launch).await;
        let info = info_page(&browser, &page).await;
        assert_eq!(field(&info, "permissions"), permissions, "roles {roles:?}");
    }
    // No roles parameter at all.
    let browser = tool.client();
    let page = launch_and_open(&browser, &tool.launch().remove("roles")).await;
    assert_eq!(field(&info_page(&browser, &page).await, "permissions"), "0");
}

#[tokio::test]
async fn another_user_in_the_same_session_detaches_the_first_users_visits() {
    let tool = common::tool().await;
    let browser = tool.client();
    let alice_a = launch_and_open(
        &browser,
        &tool.launch().user_id("alice").resource_link_id("A"),
    )
    .await;
    let alice_b = launch_and_open(
        &browser,
        &tool.launch().user_id("alice").resource_link_id("B"),
    )
    .await;
    assert_status(&browser.get(&alice_a).await, StatusCode::OK);

    let bob_c = launch_and_open(
        &browser,
        &tool.launch().user_id("bob").resource_link_id("C"),
    )
    .await;
    assert_status(&browser.get(&alice_a).await, StatusCode::FORBIDDEN);
    assert_status(&browser.get(&alice_b).await, StatusCode::FORBIDDEN);
    let info = info_page(&browser, &bob_c).await;
    assert_eq!(field(&info, "user_id"), "bob");
}

#[tokio::test]
async fn another_consumers_visits_survive_a_user_switch() {
    let tool = common::tool().await;
    tool.add_consumer("other", "other-secret")
        .await
        .expect("a second consumer");
    let browser = tool.client();
    let elsewhere = launch_and_open(
        &browser,
        &tool
            .launch()
            .consumer("other", "other-secret")
            .user_id("alice"),
    )
    .await;
    launch_and_open(&browser, &tool.launch().user_id("bob")).await;
    assert_status(&browser.get(&elsewhere).await, StatusCode::OK);
}

#[tokio::test]
async fn two_resources_in_one_session_are_both_reachable() {
    let tool = common::tool().await;
    let browser = tool.client();
    let a = launch_and_open(&browser, &tool.launch().resource_link_id("A")).await;
    let b = launch_and_open(&browser, &tool.launch().resource_link_id("B")).await;
    assert_ne!(a, b);
    assert_status(&browser.get(&a).await, StatusCode::OK);
    assert_status(&browser.get(&b).await, StatusCode::OK);
    assert_eq!(field(&info_page(&browser, &a).await, "link_id"), "A");
    assert_eq!(field(&info_page(&browser, &b).await, "link_id"), "B");
    // Another browser reaches neither.
    let stranger = tool.client();
    common::launch_and_open(&stranger, &tool.launch().resource_link_id("Z")).await;
    assert_status(&stranger.get(&a).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn relaunching_a_resource_with_another_role_replaces_its_permissions() {
    let tool = common::tool().await;
    let browser = tool.client();
    let page = launch_and_open(&browser, &tool.launch().roles("Learner")).await;
    assert_eq!(field(&info_page(&browser, &page).await, "permissions"), "1");
    let again = launch_and_open(&browser, &tool.launch().roles("Instructor")).await;
    assert_eq!(again, page, "same resource, same URL");
    assert_eq!(field(&info_page(&browser, &page).await, "permissions"), "7");
    let down = launch_and_open(&browser, &tool.launch().roles("Learner")).await;
    assert_eq!(field(&info_page(&browser, &down).await, "permissions"), "1");
}

#[tokio::test]
async fn the_same_link_id_of_another_consumer_is_another_resource() {
    let tool = common::tool().await;
    tool.add_consumer("other", "other-secret")
        .await
        .expect("a second consumer");
    let browser = tool.client();
    let mine = launch_and_open(&browser, &tool.launch().resource_link_id("same")).await;
    let theirs = launch_and_open(
        &browser,
        &tool
            .launch()
            .consumer("other", "other-secret")
            .resource_link_id("same"),
    )
    .await;
    assert_ne!(mine, theirs);
}

#[tokio::test]
async fn resource_details_update_on_relaunch() {
    let tool = common::tool().await;
    let browser = tool.client();
    let page = launch_and_open(
        &browser,
        &tool.launch().param("resource_link_title", "First title"),
    )
    .await;
    assert!(browser.get(&page).await.text().contains("First title"));
    launch_and_open(
        &browser,
        &tool.launch().param("resource_link_title", "Second title"),
    )
    .await;
    let text = browser.get(&page).await.text();
    assert!(text.contains("Second title"), "{text}");
    // An empty title does not erase the stored one (spec §5.4).
    launch_and_open(&browser, &tool.launch().param("resource_link_title", "")).await;
    assert!(browser.get(&page).await.text().contains("Second title"));
}

#[tokio::test]
async fn a_header_signed_launch_is_accepted() {
    // The protocol parameters in `Authorization: OAuth …`, the launch
    // parameters in the body (RFC 5849 §3.5.1); the base string is the same.
    let tool = common::tool().await;
    let launch = tool.launch().person_name("Header Signed");
    let (oauth, lti): (Vec<_>, Vec<_>) = launch
        .params()
        .into_iter()
        .partition(|(name, _)| name.starts_with("oauth_"));
    let mut header = AuthorizationHeader::new().with_realm("");
    for (name, value) in &oauth {
        header.push(name.as_str(), value.as_str());
    }
    let header = header.to_string();
    let body: Vec<(&str, &str)> = lti.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let browser = tool.client();
    let response = browser
        .request(
            Method::POST,
            launch.launch_url(),
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", &header),
            ],
            form_body(&body),
        )
        .await;
    assert_status(&response, StatusCode::SEE_OTHER);
    let target = response.location_param("return").expect("the cookie test");
    let ctest = browser.follow(&response).await;
    assert_status(&ctest, StatusCode::SEE_OTHER);
    let info = info_page(&browser, &target).await;
    assert_eq!(field(&info, "display_name"), "Header Signed");
}

#[tokio::test]
async fn the_user_agent_is_kept_with_the_visit_truncated() {
    let tool = common::tool().await;
    let long = format!("Mozilla/5.0 {}", "x".repeat(400));
    let browser = tool.client().with_user_agent(&long);
    let page = launch_and_open(&browser, &tool.launch()).await;
    let sid = common::session_id(&browser.cookie("sid").expect("a session"));
    let visits = tool.store().session_visits(&sid).await.expect("visits");
    assert_eq!(visits.len(), 1);
    let kept = visits[0].user_agent.clone().expect("a user agent");
    assert_eq!(kept.chars().count(), 256);
    assert!(long.starts_with(&kept));
    assert_status(&browser.get(&page).await, StatusCode::OK);
}

#[tokio::test]
async fn bodies_encoded_by_other_form_encoders_verify() {
    // Browsers send spaces as `+`; JavaScript's encodeURIComponent leaves
    // `!'()*` raw. The signature is over the decoded values, so every
    // standard encoding of the same form verifies.
    fn html_form(pairs: &[(&str, &str)]) -> String {
        let body = form_body(pairs);
        assert!(body.contains("Ada+Lovelace+%28n%C3%A9e+Byron%29"), "{body}");
        body
    }
    fn js_style(pairs: &[(&str, &str)]) -> String {
        let body = lti_oauth::form_encode(pairs)
            .replace("%28", "(")
            .replace("%29", ")")
            .replace("%21", "!")
            .replace("%27", "'")
            .replace("%2A", "*");
        assert!(body.contains("(n%C3%A9e%20Byron)!"), "{body}");
        body
    }
    let tool = common::tool().await;
    let value = "Ada Lovelace (née Byron)! It's *the* first~";
    for encode in [html_form as fn(&[(&str, &str)]) -> String, js_style] {
        let launch = tool.launch().person_name(value);
        let params = launch.params();
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let browser = tool.client();
        let response = browser.post_form(launch.launch_url(), encode(&pairs)).await;
        assert_status(&response, StatusCode::SEE_OTHER);
        let target = response.location_param("return").expect("the cookie test");
        assert_status(&browser.follow(&response).await, StatusCode::SEE_OTHER);
        assert_eq!(
            field(&info_page(&browser, &target).await, "display_name"),
            value
        );
    }
}

#[tokio::test]
async fn invalid_percent_escapes_are_bad_requests() {
    let tool = common::tool().await;
    let body = format!("{}&custom_x=%zz", tool.launch().body());
    let response = tool.client().post_form("/launch", body).await;
    assert_status(&response, StatusCode::BAD_REQUEST);
    assert!(response.set_cookies().is_empty());
}
