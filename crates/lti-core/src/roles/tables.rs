//! The LIS role vocabularies of LTI 1.x: context-role handles, system roles and
//! institution roles (spec §6.1, LTI 1.1 Implementation Guide appendix A).

use std::borrow::Cow;

use super::{Role, RoleVocabulary};

/// The short context-role handles a consumer may send in `roles` (spec §6.1).
///
/// Each handle `H` stands for the URN `urn:lti:role:ims/lis/H`. Pyslet mapped
/// `Administrator/Developer` to `…/Administrator/ExternalDeveloper`; here every
/// handle maps to its own URN (L-9 / QL-9 fixed).
pub const CONTEXT_ROLE_HANDLES: &[&str] = &[
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

/// The LIS system roles (`urn:lti:sysrole:ims/lis/<name>`, spec §6.1).
///
/// These are accepted in `roles` as full URNs. The names that are not also
/// context roles are additionally read as bare names (see [`parse_role`]).
///
/// [`parse_role`]: crate::parse_role
pub const SYSTEM_ROLE_NAMES: &[&str] = &[
    "SysAdmin",
    "SysSupport",
    "Creator",
    "AccountAdmin",
    "User",
    "Administrator",
    "None",
];

/// The LIS institution roles (`urn:lti:instrole:ims/lis/<name>`, spec §6.1).
///
/// These are accepted in `roles` as full URNs. The names that are not also
/// context roles are additionally read as bare names (see [`parse_role`]).
///
/// [`parse_role`]: crate::parse_role
pub const INSTITUTION_ROLE_NAMES: &[&str] = &[
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

/// Bare names that are system roles only. A consumer that sends one of these
/// without a URN can only mean the system role (see `parse_role`).
const SYSTEM_ONLY_NAMES: &[&str] = &["SysAdmin", "SysSupport", "Creator", "AccountAdmin", "User"];

/// Bare names that are institution roles only (not context roles, not system
/// roles). Open edX sent `Student` this way (openedx/xblock-lti-consumer #176).
const INSTITUTION_ONLY_NAMES: &[&str] = &[
    "Student",
    "Faculty",
    "Staff",
    "Alumni",
    "ProspectiveStudent",
    "Guest",
    "Other",
    "Observer",
];

/// Looks up a context-role handle such as `Instructor/Lecturer`.
///
/// The lookup ignores ASCII case (`instructor` finds `Instructor`); the role
/// returned always has the canonical spelling. Handles not in
/// [`CONTEXT_ROLE_HANDLES`] give `None`.
///
/// ```
/// let role = lti_core::context_role("Administrator/Developer").expect("a handle");
/// assert_eq!(role.to_string(), "urn:lti:role:ims/lis/Administrator/Developer");
/// ```
#[must_use]
pub fn context_role(handle: &str) -> Option<Role> {
    let canonical = find_ignore_case(CONTEXT_ROLE_HANDLES, handle)?;
    let (role_type, subtype) = match canonical.split_once('/') {
        Some((t, s)) => (t, Some(s)),
        None => (canonical, None),
    };
    Some(Role::from_static(
        RoleVocabulary::Context,
        role_type,
        subtype,
    ))
}

/// Looks up a system role by name, e.g. `Administrator` →
/// `urn:lti:sysrole:ims/lis/Administrator`. ASCII case is ignored.
///
/// ```
/// let role = lti_core::system_role("SysAdmin").expect("a system role");
/// assert_eq!(role.to_string(), "urn:lti:sysrole:ims/lis/SysAdmin");
/// ```
#[must_use]
pub fn system_role(name: &str) -> Option<Role> {
    let canonical = find_ignore_case(SYSTEM_ROLE_NAMES, name)?;
    Some(Role::from_static(RoleVocabulary::System, canonical, None))
}

/// Looks up an institution role by name, e.g. `Guest` →
/// `urn:lti:instrole:ims/lis/Guest`. ASCII case is ignored.
///
/// ```
/// let role = lti_core::institution_role("Guest").expect("an institution role");
/// assert_eq!(role.to_string(), "urn:lti:instrole:ims/lis/Guest");
/// ```
#[must_use]
pub fn institution_role(name: &str) -> Option<Role> {
    let canonical = find_ignore_case(INSTITUTION_ROLE_NAMES, name)?;
    Some(Role::from_static(
        RoleVocabulary::Institution,
        canonical,
        None,
    ))
}

/// Reads a bare name that is not a context handle but names exactly one
/// system or institution role (`Student`, `Faculty`, `User`, …).
pub(super) fn non_context_bare_name(name: &str) -> Option<Role> {
    if let Some(canonical) = find_ignore_case(INSTITUTION_ONLY_NAMES, name) {
        return Some(Role::from_static(
            RoleVocabulary::Institution,
            canonical,
            None,
        ));
    }
    find_ignore_case(SYSTEM_ONLY_NAMES, name)
        .map(|canonical| Role::from_static(RoleVocabulary::System, canonical, None))
}

/// The canonical spelling of a role type in `vocabulary`, or the text as sent
/// when the type is not one of the LIS names.
pub(super) fn canonical_type(vocabulary: RoleVocabulary, text: &str) -> Cow<'static, str> {
    let found = match vocabulary {
        RoleVocabulary::Context => CONTEXT_ROLE_HANDLES
            .iter()
            .filter(|h| !h.contains('/'))
            .find(|h| h.eq_ignore_ascii_case(text))
            .copied(),
        RoleVocabulary::System => find_ignore_case(SYSTEM_ROLE_NAMES, text),
        RoleVocabulary::Institution => find_ignore_case(INSTITUTION_ROLE_NAMES, text),
    };
    found.map_or_else(|| Cow::Owned(text.to_owned()), Cow::Borrowed)
}

/// The canonical spelling of a context sub-role of `role_type` (already
/// canonical), or the text as sent when it is not one of the LIS sub-roles.
pub(super) fn canonical_subtype(
    vocabulary: RoleVocabulary,
    role_type: &str,
    text: &str,
) -> Cow<'static, str> {
    let found = match vocabulary {
        RoleVocabulary::Context => CONTEXT_ROLE_HANDLES.iter().find_map(|h| {
            let (t, s) = h.split_once('/')?;
            (t == role_type && s.eq_ignore_ascii_case(text)).then_some(s)
        }),
        RoleVocabulary::System | RoleVocabulary::Institution => None,
    };
    found.map_or_else(|| Cow::Owned(text.to_owned()), Cow::Borrowed)
}

/// Finds `text` in `table`, ignoring ASCII case, and returns the table's
/// spelling.
fn find_ignore_case(table: &[&'static str], text: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|entry| entry.eq_ignore_ascii_case(text))
        .copied()
}
