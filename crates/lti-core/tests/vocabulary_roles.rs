//! Roles, permissions and context types against the tables and tests of
//! spec §6.1, §6.2 and §11.1 (`test_roles`, `test_split_role`,
//! `test_sysroles`, `test_institution_roles`, `test_contexts`), plus what
//! real consumers send (field survey §1c, §2.6).

use lti_core::{
    CONTEXT_ROLE_HANDLES, CONTEXT_TYPE_HANDLES, DefaultPermissionModel, INSTITUTION_ROLE_NAMES,
    IgnoreReason, PermissionModel, Permissions, Role, RoleList, RoleVocabulary, SYSTEM_ROLE_NAMES,
    context_role, context_type_urn, institution_role, is_subrole, parse_context_types, parse_role,
    parse_roles, system_role,
};
use proptest::prelude::*;

/// The handle list of spec §6.1, typed out independently of the crate.
const SPEC_HANDLES: &[&str] = &[
    "Learner",
    "Learner/Learner",
    "Learner/NonCreditLearner",
    "Learner/GuestLearner",
    "Learner/ExternalLearner",
    "Learner/Instructor",
    "Instructor",
    "Instructor/PrimaryInstructor",
    "Instructor/Lecturer",
    "Instructor/GuestInstructor",
    "Instructor/ExternalInstructor",
    "ContentDeveloper",
    "ContentDeveloper/ContentDeveloper",
    "ContentDeveloper/Librarian",
    "ContentDeveloper/ContentExpert",
    "ContentDeveloper/ExternalContentExpert",
    "Member",
    "Member/Member",
    "Manager",
    "Manager/AreaManager",
    "Manager/CourseCoordinator",
    "Manager/Observer",
    "Manager/ExternalObserver",
    "Mentor",
    "Mentor/Mentor",
    "Mentor/Reviewer",
    "Mentor/Advisor",
    "Mentor/Auditor",
    "Mentor/Tutor",
    "Mentor/LearningFacilitator",
    "Mentor/ExternalMentor",
    "Mentor/ExternalReviewer",
    "Mentor/ExternalAdvisor",
    "Mentor/ExternalAuditor",
    "Mentor/ExternalTutor",
    "Mentor/ExternalLearningFacilitator",
    "Administrator",
    "Administrator/Administrator",
    "Administrator/Support",
    "Administrator/Developer",
    "Administrator/SystemAdministrator",
    "Administrator/ExternalSystemAdministrator",
    "Administrator/ExternalDeveloper",
    "Administrator/ExternalSupport",
    "TeachingAssistant",
    "TeachingAssistant/TeachingAssistant",
    "TeachingAssistant/TeachingAssistantSection",
    "TeachingAssistant/TeachingAssistantSectionAssociation",
    "TeachingAssistant/TeachingAssistantOffering",
    "TeachingAssistant/TeachingAssistantTemplate",
    "TeachingAssistant/TeachingAssistantGroup",
    "TeachingAssistant/Grader",
];

fn role(text: &str) -> Role {
    parse_role(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn permissions(roles: &str) -> Permissions {
    DefaultPermissionModel.permissions(RoleList::parse(roles).roles())
}

const ALL: Permissions = Permissions::ALL;
const READ: Permissions = Permissions::READ;
const NONE: Permissions = Permissions::NONE;

// ---- spec §6.1 tables -------------------------------------------------

#[test]
fn every_spec_handle_resolves_to_its_own_urn() {
    for handle in SPEC_HANDLES {
        let expected = format!("urn:lti:role:ims/lis/{handle}");
        let looked_up = context_role(handle).unwrap_or_else(|| panic!("{handle} missing"));
        assert_eq!(looked_up.to_string(), expected);
        assert_eq!(role(handle).to_string(), expected);
        assert_eq!(role(&expected), looked_up);
    }
    let mut table: Vec<&str> = CONTEXT_ROLE_HANDLES.to_vec();
    let mut spec: Vec<&str> = SPEC_HANDLES.to_vec();
    table.sort_unstable();
    spec.sort_unstable();
    assert_eq!(table, spec);
}

#[test]
fn administrator_developer_is_fixed() {
    // L-9 / QL-9: Pyslet mapped this to …/Administrator/ExternalDeveloper.
    let developer = role("Administrator/Developer");
    assert_eq!(
        developer.to_string(),
        "urn:lti:role:ims/lis/Administrator/Developer"
    );
    assert_ne!(developer, role("Administrator/ExternalDeveloper"));
}

#[test]
fn test_roles() {
    assert!(CONTEXT_ROLE_HANDLES.contains(&"Learner"));
    assert!(CONTEXT_ROLE_HANDLES.contains(&"Instructor"));
    assert_eq!(role("Learner").to_string(), "urn:lti:role:ims/lis/Learner");
}

#[test]
fn test_sysroles() {
    let admin = system_role("Administrator").expect("table entry");
    assert_eq!(admin.to_string(), "urn:lti:sysrole:ims/lis/Administrator");
    assert_eq!(admin.vocabulary(), RoleVocabulary::System);
    let expected = [
        "SysAdmin",
        "SysSupport",
        "Creator",
        "AccountAdmin",
        "User",
        "Administrator",
        "None",
    ];
    assert_eq!(SYSTEM_ROLE_NAMES, expected);
    for name in expected {
        let urn = format!("urn:lti:sysrole:ims/lis/{name}");
        assert_eq!(system_role(name).map(|r| r.to_string()), Some(urn.clone()));
        assert_eq!(role(&urn).to_string(), urn);
    }
    assert!(system_role("Student").is_none());
}

#[test]
fn test_institution_roles() {
    let guest = institution_role("Guest").expect("table entry");
    assert_eq!(guest.to_string(), "urn:lti:instrole:ims/lis/Guest");
    let expected = [
        "Student",
        "Faculty",
        "Member",
        "Learner",
        "Instructor",
        "Mentor",
        "Staff",
        "Alumni",
        "ProspectiveStudent",
        "Guest",
        "Other",
        "Administrator",
        "Observer",
        "None",
    ];
    assert_eq!(INSTITUTION_ROLE_NAMES, expected);
    for name in expected {
        let urn = format!("urn:lti:instrole:ims/lis/{name}");
        assert_eq!(
            institution_role(name).map(|r| r.to_string()),
            Some(urn.clone())
        );
        assert_eq!(role(&urn).vocabulary(), RoleVocabulary::Institution);
    }
    assert!(institution_role("SysAdmin").is_none());
}

#[test]
fn test_split_role() {
    let learner = role("Learner");
    assert_eq!(
        (learner.vocabulary(), learner.role_type(), learner.subtype()),
        (RoleVocabulary::Context, "Learner", None)
    );
    let lecturer = role("Instructor/Lecturer");
    assert_eq!(
        (
            lecturer.vocabulary(),
            lecturer.role_type(),
            lecturer.subtype()
        ),
        (RoleVocabulary::Context, "Instructor", Some("Lecturer"))
    );
    let guest = role("urn:lti:instrole:ims/lis/Guest");
    assert_eq!(
        (guest.vocabulary(), guest.role_type(), guest.subtype()),
        (RoleVocabulary::Institution, "Guest", None)
    );

    let cases = [
        ("urn:lti:xrole:pyslet/lti/User", IgnoreReason::MalformedUrn),
        ("URN:ISBN:9780099512240", IgnoreReason::ForeignUrn),
        (
            "http://www.example.com/roles/User",
            IgnoreReason::ForeignUri,
        ),
    ];
    for (text, reason) in cases {
        let ignored = parse_role(text).expect_err(text);
        assert_eq!(ignored.reason(), reason, "{text}");
        assert_eq!(ignored.raw(), text);
        let strict = Role::from_urn(text).expect_err(text);
        assert_ne!(strict.reason(), IgnoreReason::UnknownHandle);
    }
}

// ---- is_subrole, spec §6.1 -------------------------------------------

#[test]
fn subrole_rules() {
    let instructor = Role::INSTRUCTOR;
    let lecturer = role("Instructor/Lecturer");
    let learner_instructor = role("Learner/Instructor");
    let inst_instructor = role("urn:lti:instrole:ims/lis/Instructor");

    assert!(is_subrole(&instructor, &instructor));
    assert!(is_subrole(&lecturer, &instructor));
    // A parent with a sub-type has no sub-roles, not even itself.
    assert!(!is_subrole(&lecturer, &lecturer));
    assert!(!is_subrole(&instructor, &lecturer));
    // Same type name, different vocabulary.
    assert!(!is_subrole(&inst_instructor, &instructor));
    assert!(!is_subrole(&instructor, &inst_instructor));
    // Learner/Instructor is a learner, not an instructor.
    assert!(is_subrole(&learner_instructor, &Role::LEARNER));
    assert!(!is_subrole(&learner_instructor, &instructor));
    assert!(lecturer.is_subrole_of(&instructor));
}

// ---- permissions, spec §6.2 ------------------------------------------

#[test]
fn permission_combinations_of_spec_6_2() {
    let cases: &[(&str, Permissions)] = &[
        ("Instructor", ALL),
        ("urn:lti:role:ims/lis/Instructor", ALL),
        ("Instructor/PrimaryInstructor", ALL),
        ("Learner", READ),
        ("Learner/NonCreditLearner", READ),
        ("Learner/Instructor", READ),
        ("TeachingAssistant", NONE),
        ("Mentor", NONE),
        ("Administrator", NONE),
        ("ContentDeveloper", NONE),
        ("urn:lti:instrole:ims/lis/Instructor", NONE),
        ("urn:lti:sysrole:ims/lis/SysAdmin", NONE),
        ("Instructor,Learner", ALL),
        ("Learner,Instructor", ALL),
        ("", NONE),
        ("   ", NONE),
        ("Instructor,", ALL),
        ("Learner,,", READ),
        ("Student", NONE),
        ("Wizard", NONE),
        ("Wizard,Learner", READ),
        ("urn:lti:xrole:pyslet/lti/User,Learner", READ),
        ("URN:ISBN:9780099512240", NONE),
        ("http://www.example.com/roles/Instructor", NONE),
    ];
    for (roles, expected) in cases {
        assert_eq!(permissions(roles), *expected, "roles={roles:?}");
    }
    assert_eq!(ALL.bits(), 7);
    assert_eq!(READ.bits(), 1);
}

#[test]
fn ignored_items_are_reported_not_fatal() {
    let list = RoleList::parse("Instructor,,Wizard,URN:ISBN:1,urn:lti:role:bad");
    assert_eq!(list.roles(), &[Role::INSTRUCTOR]);
    let reasons: Vec<_> = list
        .ignored()
        .iter()
        .map(|i| (i.raw(), i.reason()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("", IgnoreReason::Empty),
            ("Wizard", IgnoreReason::UnknownHandle),
            ("URN:ISBN:1", IgnoreReason::ForeignUrn),
            ("urn:lti:role:bad", IgnoreReason::MalformedUrn),
        ]
    );
    assert_eq!(
        parse_roles("Instructor,Wizard")
            .filter(Result::is_err)
            .count(),
        1
    );
}

// ---- what real consumers send (field survey §1c, §2.6) ----------------

#[test]
fn moodle_administrator_launch() {
    // Moodle's lti_get_ims_role for a site admin who manages the activity.
    let roles =
        "Instructor,urn:lti:sysrole:ims/lis/Administrator,urn:lti:instrole:ims/lis/Administrator";
    let list = RoleList::parse(roles);
    assert_eq!(list.len(), 3);
    assert!(list.ignored().is_empty());
    assert_eq!(permissions(roles), ALL);
    // The same admin without the Instructor capability gets nothing by default.
    assert_eq!(
        permissions("urn:lti:sysrole:ims/lis/Administrator,urn:lti:instrole:ims/lis/Administrator"),
        NONE
    );
}

#[test]
fn open_edx_bare_student_is_an_institution_role() {
    // openedx/xblock-lti-consumer #176: `Student` sent as the only role.
    let list = RoleList::parse("Student");
    assert_eq!(list.roles(), &[role("urn:lti:instrole:ims/lis/Student")]);
    assert!(list.ignored().is_empty());
    assert_eq!(permissions("Student"), NONE);
    assert_eq!(permissions("Student,Learner"), READ);
    assert_eq!(
        role("Faculty").to_string(),
        "urn:lti:instrole:ims/lis/Faculty"
    );
    assert_eq!(role("User").to_string(), "urn:lti:sysrole:ims/lis/User");
    assert_eq!(
        parse_role("None").map_err(|e| e.reason()),
        Err(IgnoreReason::UnknownHandle)
    );
}

#[test]
fn case_variations() {
    assert_eq!(permissions("instructor"), ALL);
    assert_eq!(permissions("LEARNER"), READ);
    assert_eq!(permissions("urn:lti:role:ims/lis/learner"), READ);
    assert_eq!(permissions("urn:LTI:role:IMS/LIS/Instructor/lecturer"), ALL);
    assert_eq!(
        role("learner/guestlearner").to_string(),
        "urn:lti:role:ims/lis/Learner/GuestLearner"
    );
}

#[test]
fn lis_v2_uris_map_to_lti_1_1_roles() {
    let base = "http://purl.imsglobal.org/vocab/lis/v2";
    assert_eq!(permissions(&format!("{base}/membership#Instructor")), ALL);
    assert_eq!(permissions(&format!("{base}/membership#Learner")), READ);
    assert_eq!(
        permissions(&format!("{base}/membership/Instructor#TeachingAssistant")),
        NONE
    );
    assert_eq!(
        permissions(&format!("{base}/institution/person#Instructor")),
        NONE
    );
    assert_eq!(
        role(&format!("{base}/membership/Instructor#TeachingAssistant")),
        Role::TEACHING_ASSISTANT
    );
    assert_eq!(
        role(&format!("{base}/system/person#SysAdmin")).to_string(),
        "urn:lti:sysrole:ims/lis/SysAdmin"
    );
}

// ---- context types, spec §5.4 / §11.1 test_contexts --------------------

#[test]
fn test_contexts() {
    assert_eq!(
        context_type_urn("CourseSection"),
        Some("urn:lti:context-type:ims/lis/CourseSection")
    );
    for handle in ["CourseTemplate", "CourseOffering", "CourseSection", "Group"] {
        let urn = format!("urn:lti:context-type:ims/lis/{handle}");
        assert_eq!(context_type_urn(handle), Some(urn.as_str()));
    }
    assert_eq!(CONTEXT_TYPE_HANDLES.len(), 4);
    assert_eq!(
        parse_context_types("Group,CourseOffering, urn:x-example:club ,Unknown,"),
        [
            "urn:lti:context-type:ims/lis/CourseOffering",
            "urn:lti:context-type:ims/lis/Group",
            "urn:x-example:club",
        ]
    );
    assert!(parse_context_types("").is_empty());
}

// ---- robustness (L-5: never a panic) -----------------------------------

proptest! {
    #[test]
    fn parsing_any_roles_value_never_panics(value in any::<String>()) {
        let list = RoleList::parse(&value);
        let _ = DefaultPermissionModel.permissions(list.roles());
        for ignored in list.ignored() {
            let _ = ignored.to_string();
        }
    }

    #[test]
    fn parsing_role_like_text_never_panics(value in "[uUrRnN:lLtTiI/#a-zA-Z .,-]{0,60}") {
        let _ = RoleList::parse(&value);
        let _ = parse_context_types(&value);
    }

    #[test]
    fn an_accepted_role_reparses_from_its_urn(value in "(urn:lti:(role|sysrole|instrole):ims/lis/)?[A-Za-z]{1,12}(/[A-Za-z]{1,12})?") {
        if let Ok(parsed) = parse_role(&value) {
            let urn = parsed.to_string();
            prop_assert_eq!(Role::from_urn(&urn).ok(), Some(parsed));
        }
    }
}
