//! `LaunchParams` on the IMS test-consumer launch of spec §13.1, and the LTI
//! checks L-1..L-3 of spec §5.4.

use lti_core::{
    BASIC_LAUNCH_MESSAGE_TYPE, DefaultPermissionModel, LTI_VERSION_1P0, LaunchError, LaunchParams,
    PermissionModel, Permissions, Role,
};

/// The decoded body parameters of spec §13.1, in the order listed there.
const IMS_LAUNCH: &[(&str, &str)] = &[
    ("context_id", "456434513"),
    ("context_label", "SI182"),
    ("context_title", "Design of Personal Environments"),
    (
        "launch_presentation_css_url",
        "http://www.imsglobal.org/developers/LTI/test/v1p1/lms.css",
    ),
    ("launch_presentation_document_target", "frame"),
    ("launch_presentation_locale", "en-US"),
    (
        "launch_presentation_return_url",
        "http://www.imsglobal.org/developers/LTI/test/v1p1/lms_return.php",
    ),
    (
        "lis_outcome_service_url",
        "http://www.imsglobal.org/developers/LTI/test/v1p1/common/tool_consumer_outcome.php?b64=MTIzNDU6OjpzZWNyZXQ=",
    ),
    ("lis_person_contact_email_primary", "user@school.edu"),
    ("lis_person_name_family", "Public"),
    ("lis_person_name_full", "Jane Q. Public"),
    ("lis_person_name_given", "Given"),
    ("lis_person_sourcedid", "school.edu:user"),
    ("lis_result_sourcedid", "feb-123-456-2929::28883"),
    ("lti_message_type", "basic-lti-launch-request"),
    ("lti_version", "LTI-1p0"),
    ("oauth_callback", "about:blank"),
    ("oauth_consumer_key", "12345"),
    ("oauth_nonce", "45f32b44e314244a222d0e070fa55384"),
    ("oauth_signature", "SKhxr+x4p9jVO6sFxKdpA5neDtg="),
    ("oauth_signature_method", "HMAC-SHA1"),
    ("oauth_timestamp", "1420370306"),
    ("oauth_version", "1.0"),
    ("resource_link_description", "A weekly blog."),
    ("resource_link_id", "120988f929-274612"),
    ("resource_link_title", "Weekly Blog"),
    ("roles", "Instructor"),
    ("tool_consumer_info_product_family_code", "ims"),
    ("tool_consumer_info_version", "1.1"),
    (
        "tool_consumer_instance_description",
        "University of School (LMSng)",
    ),
    ("tool_consumer_instance_guid", "lmsng.school.edu"),
    ("user_id", "292832126"),
];

fn ims_launch() -> LaunchParams {
    IMS_LAUNCH.iter().copied().collect()
}

/// The IMS launch with `name` replaced by `value` (or removed when `None`).
fn ims_launch_with(name: &str, value: Option<&str>) -> LaunchParams {
    let mut pairs: Vec<(String, String)> = IMS_LAUNCH
        .iter()
        .filter(|(n, _)| *n != name)
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    if let Some(value) = value {
        pairs.push((name.to_owned(), value.to_owned()));
    }
    LaunchParams::from(pairs)
}

#[test]
fn constants() {
    assert_eq!(BASIC_LAUNCH_MESSAGE_TYPE, "basic-lti-launch-request");
    assert_eq!(LTI_VERSION_1P0, "LTI-1p0");
}

#[test]
fn ims_sample_accessors() {
    let p = ims_launch();
    assert_eq!(p.check_basic_launch(), Ok(()));
    assert_eq!(p.len(), IMS_LAUNCH.len());

    assert_eq!(p.lti_message_type(), Some("basic-lti-launch-request"));
    assert_eq!(p.lti_version(), Some("LTI-1p0"));
    assert_eq!(p.resource_link_id(), Some("120988f929-274612"));
    assert_eq!(p.resource_link_title(), Some("Weekly Blog"));
    assert_eq!(p.resource_link_description(), Some("A weekly blog."));
    assert_eq!(p.user_id(), Some("292832126"));
    assert_eq!(p.user_image(), None);
    assert_eq!(p.lis_person_name_given(), Some("Given"));
    assert_eq!(p.lis_person_name_family(), Some("Public"));
    assert_eq!(p.lis_person_name_full(), Some("Jane Q. Public"));
    assert_eq!(
        p.lis_person_contact_email_primary(),
        Some("user@school.edu")
    );
    assert_eq!(p.lis_person_sourcedid(), Some("school.edu:user"));
    assert_eq!(p.context_id(), Some("456434513"));
    assert_eq!(p.context_title(), Some("Design of Personal Environments"));
    assert_eq!(p.context_label(), Some("SI182"));
    assert!(p.context_type().is_empty());
    assert_eq!(p.launch_presentation_locale(), Some("en-US"));
    assert_eq!(p.launch_presentation_document_target(), Some("frame"));
    assert_eq!(
        p.launch_presentation_css_url(),
        Some("http://www.imsglobal.org/developers/LTI/test/v1p1/lms.css")
    );
    assert_eq!(p.launch_presentation_width(), None);
    assert_eq!(p.launch_presentation_height(), None);
    assert_eq!(
        p.launch_presentation_return_url(),
        Some("http://www.imsglobal.org/developers/LTI/test/v1p1/lms_return.php")
    );
    assert_eq!(
        p.lis_outcome_service_url(),
        Some(
            "http://www.imsglobal.org/developers/LTI/test/v1p1/common/tool_consumer_outcome.php?b64=MTIzNDU6OjpzZWNyZXQ="
        )
    );
    assert_eq!(p.lis_result_sourcedid(), Some("feb-123-456-2929::28883"));
    assert_eq!(p.tool_consumer_info_product_family_code(), Some("ims"));
    assert_eq!(p.tool_consumer_info_version(), Some("1.1"));
    assert_eq!(p.tool_consumer_instance_guid(), Some("lmsng.school.edu"));
    assert_eq!(p.tool_consumer_instance_name(), None);
    assert_eq!(
        p.tool_consumer_instance_description(),
        Some("University of School (LMSng)")
    );
    assert_eq!(p.tool_consumer_instance_url(), None);
    assert_eq!(p.tool_consumer_instance_contact_email(), None);
    assert_eq!(p.oauth_consumer_key(), Some("12345"));
    assert!(p.role_scope_mentor().is_empty());
    assert_eq!(p.display_name().as_deref(), Some("Jane Q. Public"));
    assert_eq!(p.custom_and_ext_params().count(), 0);

    let roles = p.roles();
    assert_eq!(roles.roles(), &[Role::INSTRUCTOR]);
    // spec §13.1: permissions for roles=Instructor → 7.
    assert_eq!(
        DefaultPermissionModel.permissions(roles.roles()),
        Permissions::ALL
    );
    assert_eq!(DefaultPermissionModel.permissions(roles.roles()).bits(), 7);
}

#[test]
fn l1_message_type() {
    assert_eq!(
        ims_launch_with("lti_message_type", None).check_basic_launch(),
        Err(LaunchError::MissingMessageType)
    );
    assert_eq!(
        ims_launch_with("lti_message_type", Some("")).check_basic_launch(),
        Err(LaunchError::MissingMessageType)
    );
    let wrong = ims_launch_with("lti_message_type", Some("a-basic-lti-launch-request"));
    let err = wrong.check_basic_launch().expect_err("wrong type");
    assert_eq!(
        err,
        LaunchError::WrongMessageType {
            found: "a-basic-lti-launch-request".to_owned()
        }
    );
    assert!(
        err.to_string().contains("\"a-basic-lti-launch-request\""),
        "{err}"
    );
    // Pyslet lower-cases the message type before comparing.
    for variant in ["Basic-LTI-Launch-Request", "BASIC-LTI-LAUNCH-REQUEST"] {
        assert_eq!(
            ims_launch_with("lti_message_type", Some(variant)).check_basic_launch(),
            Ok(())
        );
    }
}

#[test]
fn l2_version() {
    assert_eq!(
        ims_launch_with("lti_version", None).check_basic_launch(),
        Err(LaunchError::MissingVersion)
    );
    for bad in ["LTI-2p0", "LTI-1p1", "lti-1p0", "LTI-1p0 ", "1.3.0"] {
        assert_eq!(
            ims_launch_with("lti_version", Some(bad)).check_basic_launch(),
            Err(LaunchError::UnsupportedVersion {
                found: bad.to_owned()
            }),
            "{bad:?}"
        );
    }
}

#[test]
fn l3_resource_link_id() {
    for value in [None, Some(""), Some("  ")] {
        assert_eq!(
            ims_launch_with("resource_link_id", value).check_basic_launch(),
            Err(LaunchError::MissingResourceLinkId),
            "{value:?}"
        );
    }
}

#[test]
fn checks_run_in_spec_order() {
    let nothing = LaunchParams::default();
    assert_eq!(
        nothing.check_basic_launch(),
        Err(LaunchError::MissingMessageType)
    );
    let no_version_no_link: LaunchParams = [("lti_message_type", "basic-lti-launch-request")]
        .into_iter()
        .collect();
    assert_eq!(
        no_version_no_link.check_basic_launch(),
        Err(LaunchError::MissingVersion)
    );
}

#[test]
fn error_messages_are_sentences_for_people() {
    let errors = [
        LaunchError::MissingMessageType,
        LaunchError::Lti13Message,
        LaunchError::WrongMessageType {
            found: "x".to_owned(),
        },
        LaunchError::MissingVersion,
        LaunchError::UnsupportedVersion {
            found: "LTI-2p0".to_owned(),
        },
        LaunchError::MissingResourceLinkId,
    ];
    for err in errors {
        let text = err.to_string();
        assert!(text.starts_with(|c: char| c.is_ascii_uppercase()), "{text}");
        assert!(text.ends_with('.'), "{text}");
        assert!(!text.contains("  "), "{text}");
    }
}

#[test]
fn custom_parameters_by_case() {
    let p: LaunchParams = [
        ("custom_chapter", "12"),
        ("custom_Section_Name", "Intro"),
        ("custom_canvas_course_id", "42"),
        ("ext_roles", "urn:lti:instrole:ims/lis/Student"),
    ]
    .into_iter()
    .collect();
    assert_eq!(p.custom("Chapter"), Some("12"));
    assert_eq!(p.custom("chapter"), Some("12"));
    assert_eq!(p.custom("section name"), Some("Intro"));
    assert_eq!(p.custom("SECTION_NAME"), Some("Intro"));
    assert_eq!(p.custom("canvas.course.id"), Some("42"));
    assert_eq!(p.custom("roles"), None);
    let names: Vec<&str> = p.custom_and_ext_params().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "custom_chapter",
            "custom_Section_Name",
            "custom_canvas_course_id",
            "ext_roles"
        ]
    );
    assert_eq!(p.custom_params().count(), 3);
    assert_eq!(p.ext_params().count(), 1);
}

#[test]
fn empty_values_are_absent() {
    let p: LaunchParams = [
        ("user_id", ""),
        ("context_id", ""),
        ("lis_person_name_full", " "),
        ("roles", ""),
        ("custom_empty", ""),
        ("launch_presentation_return_url", ""),
    ]
    .into_iter()
    .collect();
    assert_eq!(p.user_id(), None);
    assert_eq!(p.context_id(), None);
    assert_eq!(p.lis_person_name_full(), None);
    assert!(p.roles().is_empty());
    assert!(p.roles().ignored().is_empty());
    assert_eq!(p.custom("empty"), None);
    assert_eq!(p.launch_presentation_return_url(), None);
    assert_eq!(p.display_name(), None);
    // The raw value is still there.
    assert_eq!(p.get("user_id"), Some(""));
}

#[test]
fn crlf_is_kept_as_sent() {
    let description = "Line one\r\nLine two\r\n";
    let p = ims_launch_with("resource_link_description", Some(description));
    assert_eq!(p.resource_link_description(), Some(description));
    assert_eq!(p.get("resource_link_description"), Some(description));
}

#[test]
fn duplicates_are_kept() {
    // Canvas copies launch-URL query parameters into the body.
    let p: LaunchParams = [("resource_link_id", "a"), ("page", "1"), ("page", "1")]
        .into_iter()
        .collect();
    assert_eq!(p.get_all("page").count(), 2);
    assert_eq!(p.len(), 3);
}

#[test]
fn return_url_must_be_http() {
    for (url, accepted) in [
        ("https://lms.example.edu/return", true),
        ("HTTP://LMS.EXAMPLE.EDU/return", true),
        ("javascript:alert(document.cookie)", false),
        ("lms_return.php", false),
        ("//lms.example.edu/return", false),
    ] {
        let p = ims_launch_with("launch_presentation_return_url", Some(url));
        assert_eq!(
            p.launch_presentation_return_url().is_some(),
            accepted,
            "{url}"
        );
    }
}
