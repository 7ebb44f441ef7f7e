//! What real consumers send, accepted (field survey §1c, §2): anonymous
//! launches, launches without a context, CR/LF inside values, custom
//! parameter names differing only by case, empty values, and the role
//! spellings of different LMSs.

mod common;

use common::{field, info_page, launch_and_open};

#[tokio::test]
async fn an_anonymous_launch_without_user_or_roles_is_accepted() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .remove("user_id")
        .remove("roles")
        .remove("lis_person_name_full");
    let page = launch_and_open(&browser, &launch).await;
    let info = info_page(&browser, &page).await;
    assert_eq!(field(&info, "user_id"), "");
    assert_eq!(field(&info, "display_name"), "");
    assert_eq!(field(&info, "permissions"), "0");
    // The default page renders without a user too.
    let default_page = browser.get(&page).await;
    assert_eq!(default_page.status(), http::StatusCode::OK);
}

#[tokio::test]
async fn a_launch_without_a_context_is_accepted() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .remove("context_id")
        .remove("context_title")
        .remove("context_label");
    let page = launch_and_open(&browser, &launch).await;
    let info = info_page(&browser, &page).await;
    assert_eq!(field(&info, "context"), "");
    let default_page = browser.get(&page).await.text();
    assert!(default_page.contains("—"), "no context shows a dash");
}

#[tokio::test]
async fn crlf_inside_values_is_kept_and_verified() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .param("resource_link_description", "line one\r\nline two")
        .param("custom_note", "a\r\nb");
    let page = launch_and_open(&browser, &launch).await;
    let info = info_page(&browser, &page).await;
    // The info page is line based, so only the start of the value shows.
    assert!(field(&info, "custom").starts_with("custom_note:a"));
    let resource = tool
        .store()
        .find_resource(field(&info, "resource").parse().expect("a resource id"))
        .await
        .expect("store works")
        .expect("the resource exists");
    assert_eq!(
        resource.description.as_deref(),
        Some("line one\r\nline two")
    );
}

#[tokio::test]
async fn custom_parameter_names_differing_only_by_case_are_both_kept() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .param("custom_Chapter", "3")
        .param("custom_chapter", "4");
    let page = launch_and_open(&browser, &launch).await;
    let info = info_page(&browser, &page).await;
    let custom = field(&info, "custom");
    assert!(custom.contains("custom_Chapter:3"), "{custom}");
    assert!(custom.contains("custom_chapter:4"), "{custom}");
}

#[tokio::test]
async fn empty_values_count_as_absent() {
    let tool = common::tool().await;
    let browser = tool.client();
    let launch = tool
        .launch()
        .param("lis_person_name_full", "")
        .param("lis_person_name_given", "Grace")
        .param("lis_person_name_family", "")
        .param("context_title", "")
        .param("resource_link_title", "");
    let page = launch_and_open(&browser, &launch).await;
    let info = info_page(&browser, &page).await;
    assert_eq!(field(&info, "display_name"), "Grace");
    let resource = tool
        .store()
        .find_resource(field(&info, "resource").parse().expect("a resource id"))
        .await
        .expect("store works")
        .expect("the resource exists");
    assert_eq!(resource.title, None, "an empty title is stored as NULL");
    // The default page falls back to the link id for the title.
    let default_page = browser.get(&page).await.text();
    assert!(
        default_page.contains(&format!("Resource: {}", resource.link_id)),
        "{default_page}"
    );
}

#[tokio::test]
async fn role_spellings_of_real_consumers_are_understood() {
    let tool = common::tool().await;
    for (roles, permissions, understood) in [
        // Blackboard: full URNs.
        ("urn:lti:role:ims/lis/Instructor", "7", "1"),
        // Institution or system roles only.
        ("urn:lti:instrole:ims/lis/Faculty", "0", "1"),
        ("urn:lti:sysrole:ims/lis/Administrator", "0", "1"),
        // Bare non-context handles (Open edX sends Student).
        ("Faculty", "0", "1"),
        ("Student", "0", "1"),
        // LIS v2 (LTI 1.3) URIs mapped to their 1.1 roles.
        (
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
            "1",
            "1",
        ),
        // Foreign URNs and unknown handles are ignored, never an error.
        ("urn:example:role:Teacher", "0", "0"),
        ("Teacher,Learner", "1", "1"),
        // Case variations.
        ("instructor", "7", "1"),
    ] {
        let browser = tool.client();
        let launch = tool
            .launch()
            .roles(roles)
            .resource_link_id(format!("spelling {roles}"));
        let page = launch_and_open(&browser, &launch).await;
        let info = info_page(&browser, &page).await;
        assert_eq!(field(&info, "permissions"), permissions, "roles {roles:?}");
        assert_eq!(field(&info, "roles"), understood, "roles {roles:?}");
    }
}
