//! Reading one item of the `roles` parameter, and what is ignored (spec
//! §6.1, L-5).

use std::fmt;

use super::{Role, RoleVocabulary, context_role, lis2, shorten_for_display, tables, uri_scheme};

/// Why an item of `roles` was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IgnoreReason {
    /// The item is empty, e.g. after a trailing comma.
    Empty,
    /// A bare name that is not a context-role handle (spec §6.1) nor a
    /// system or institution role name.
    UnknownHandle,
    /// A URN whose namespace is not `lti`, e.g. `urn:isbn:…`.
    ForeignUrn,
    /// A `urn:lti:` URN that is not `urn:lti:<vocab>:ims/lis/Type[/SubType]`
    /// with a known vocabulary.
    MalformedUrn,
    /// An absolute URI that is neither a URN nor a LIS v2 role URI.
    ForeignUri,
    /// Not a URN at all ([`Role::from_urn`] accepts URNs only).
    NotAUrn,
}

impl IgnoreReason {
    /// A sentence describing the reason, for logs and the launch doctor.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Empty => "the item is empty",
            Self::UnknownHandle => "it is not a known LTI role name",
            Self::ForeignUrn => "it is a URN outside the LTI namespace",
            Self::MalformedUrn => {
                "it is not of the form urn:lti:<role|sysrole|instrole>:ims/lis/Type[/SubType]"
            }
            Self::ForeignUri => "it is a URI that is not an LTI or LIS role",
            Self::NotAUrn => "it is not a URN",
        }
    }
}

impl fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// An item of `roles` that was not understood, and why (L-5: such items are
/// ignored, never fatal).
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[error("ignored role \"{}\": {reason}", shorten_for_display(raw, 80))]
pub struct IgnoredRole {
    raw: String,
    reason: IgnoreReason,
}

impl IgnoredRole {
    pub(super) fn new(raw: &str, reason: IgnoreReason) -> Self {
        IgnoredRole {
            raw: raw.to_owned(),
            reason,
        }
    }

    /// The item as sent, without surrounding whitespace.
    #[must_use]
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Why it was ignored.
    #[must_use]
    pub fn reason(&self) -> IgnoreReason {
        self.reason
    }
}

/// Parses one item of the `roles` parameter (surrounding whitespace is
/// ignored).
///
/// # What is accepted
///
/// An item is accepted when it is one of:
///
/// * **LTI role URNs** `urn:lti:role|sysrole|instrole:ims/lis/Type[/SubType]`,
///   exactly the path shape of spec §6.1. Unlike Pyslet (which compares the
///   NID `lti` case-sensitively), the URN scheme, the NID, the vocabulary and
///   the `ims/lis` segments are compared ignoring ASCII case, because RFC 8141
///   makes the scheme and NID case-insensitive and nothing is gained by
///   rejecting `urn:LTI:…`. Type and sub-type names must be made of ASCII
///   letters, digits, `-`, `_` and `.`; LIS names are spelled canonically
///   when they match ignoring case (`instructor` → `Instructor`), other names
///   are kept as sent.
/// * **Context-role handles** of
///   [`CONTEXT_ROLE_HANDLES`](crate::CONTEXT_ROLE_HANDLES) (LTI 1.1: the
///   assumed namespace of a bare handle is the LIS context-role vocabulary),
///   ignoring ASCII case. `Administrator/Developer` maps to its own URN (L-9
///   fixed).
/// * **Bare system or institution role names** that are not context handles
///   (`Student`, `Faculty`, `Staff`, `Alumni`, `ProspectiveStudent`, `Guest`,
///   `Other`, `Observer`; `SysAdmin`, `SysSupport`, `Creator`,
///   `AccountAdmin`, `User`) are read as that institution or system role.
///   Spec §6.1 says such names are not handles, and Pyslet failed the launch
///   on them (L-5), but real consumers send them: Open edX sent a bare
///   `Student` for every learner (openedx/xblock-lti-consumer #176; `Learner`
///   was only added beside it in openedx-platform PR #30356). Reading them as
///   institution roles keeps what the consumer said without inventing
///   privileges: the default permission model gives institution and system
///   roles nothing (spec §6.2), so a bare `Student` is *not* treated as the
///   context role `Learner`; a tool that wants that writes its own
///   [`PermissionModel`](crate::PermissionModel). `None` is both a system and
///   an institution role, so a bare `None` stays an unknown handle.
/// * **LIS v2 role URIs** of LTI 1.3 and LTI 2.0
///   (`http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor`,
///   `…/membership/Instructor#TeachingAssistant`,
///   `…/institution/person#Student`, `…/system/person#User`,
///   `…/person#Administrator`) are mapped to the equivalent LTI 1.1 URN, the
///   way ceLTIc's LTI-PHP does (`Util::parseRoles`), so one permission model
///   serves both vocabularies (field survey, opportunity 6). Moodle sends
///   `…/person#Administrator` for tools registered as LTI 2.0
///   (`lti_get_ims_role`); the survey found no consumer sending these URIs
///   in an LTI 1.1 launch, so this is a cheap convenience rather than a
///   fix. LTI 1.3 makes the teaching assistant a sub-role of `Instructor`;
///   LIS v1 has a separate `TeachingAssistant` role, which is what it maps
///   to.
///
/// Everything else is an [`IgnoredRole`] carrying the item and an
/// [`IgnoreReason`]: an empty item (trailing comma), an unknown handle, a URN
/// of another namespace, a malformed `urn:lti:` URN, or another URI. Nothing
/// here panics on any input (L-5).
///
/// # Errors
///
/// An [`IgnoredRole`] with the item and the reason it is not a role.
///
/// ```
/// use lti_core::{parse_role, IgnoreReason};
///
/// let role = parse_role(" urn:lti:sysrole:ims/lis/Administrator ").expect("a URN");
/// assert_eq!(role.to_string(), "urn:lti:sysrole:ims/lis/Administrator");
///
/// let lis2 = parse_role("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner").expect("mapped");
/// assert_eq!(lis2.to_string(), "urn:lti:role:ims/lis/Learner");
///
/// let err = parse_role("Teacher").expect_err("not a handle");
/// assert_eq!(err.reason(), IgnoreReason::UnknownHandle);
/// ```
pub fn parse_role(item: &str) -> Result<Role, IgnoredRole> {
    let text = item.trim();
    let ignore = |reason| Err(IgnoredRole::new(text, reason));
    if text.is_empty() {
        return ignore(IgnoreReason::Empty);
    }
    let Some((scheme, rest)) = uri_scheme(text) else {
        return context_role(text)
            .or_else(|| tables::non_context_bare_name(text))
            .map_or_else(|| ignore(IgnoreReason::UnknownHandle), Ok);
    };
    if scheme.eq_ignore_ascii_case("urn") {
        return parse_urn_body(rest).or_else(ignore);
    }
    lis2::from_lis_v2_uri(text).map_or_else(|| ignore(IgnoreReason::ForeignUri), Ok)
}

/// Parses what follows `urn:` in an LTI role URN.
pub(super) fn parse_urn_body(body: &str) -> Result<Role, IgnoreReason> {
    let Some((nid, nss)) = body.split_once(':') else {
        return Err(IgnoreReason::MalformedUrn);
    };
    if !nid.eq_ignore_ascii_case("lti") {
        return Err(IgnoreReason::ForeignUrn);
    }
    // spec §6.1: NSS = <vocab>:<path>, exactly one colon.
    let (vocab, path) = nss.split_once(':').ok_or(IgnoreReason::MalformedUrn)?;
    if path.contains(':') {
        return Err(IgnoreReason::MalformedUrn);
    }
    let vocabulary = RoleVocabulary::from_urn_name(vocab).ok_or(IgnoreReason::MalformedUrn)?;
    let mut segments = path.split('/');
    let ims = segments
        .next()
        .is_some_and(|s| s.eq_ignore_ascii_case("ims"));
    let lis = segments
        .next()
        .is_some_and(|s| s.eq_ignore_ascii_case("lis"));
    let role_type = segments.next();
    let subtype = segments.next();
    match (ims && lis, role_type, segments.next()) {
        (true, Some(role_type), None) => {
            Role::new(vocabulary, role_type, subtype).ok_or(IgnoreReason::MalformedUrn)
        }
        _ => Err(IgnoreReason::MalformedUrn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(role: &Role) -> (RoleVocabulary, &str, Option<&str>) {
        (role.vocabulary(), role.role_type(), role.subtype())
    }

    #[test]
    fn split_role_like_pyslet() {
        let learner = Role::from_urn("urn:lti:role:ims/lis/Learner").expect("valid");
        assert_eq!(parts(&learner), (RoleVocabulary::Context, "Learner", None));
        let lecturer = Role::from_urn("urn:lti:role:ims/lis/Instructor/Lecturer").expect("valid");
        assert_eq!(
            parts(&lecturer),
            (RoleVocabulary::Context, "Instructor", Some("Lecturer"))
        );
        let guest = Role::from_urn("urn:lti:instrole:ims/lis/Guest").expect("valid");
        assert_eq!(parts(&guest), (RoleVocabulary::Institution, "Guest", None));
    }

    #[test]
    fn urn_structure_ignores_case_but_keeps_unknown_names() {
        let role = parse_role("URN:LTI:Role:IMS/LIS/instructor/lecturer").expect("valid");
        assert_eq!(role.to_string(), "urn:lti:role:ims/lis/Instructor/Lecturer");
        let odd = parse_role("urn:lti:role:ims/lis/Instructor/SeminarLeader").expect("valid");
        assert_eq!(odd.subtype(), Some("SeminarLeader"));
        let unknown_type = parse_role("urn:lti:role:ims/lis/Captain").expect("valid");
        assert_eq!(unknown_type.role_type(), "Captain");
    }

    #[test]
    fn malformed_urns() {
        for urn in [
            "urn:lti:xrole:pyslet/lti/User",
            "urn:lti:role:ims/lis/",
            "urn:lti:role:ims/lis/A/B/C",
            "urn:lti:role:ims/xis/Learner",
            "urn:lti:role:ims/lis",
            "urn:lti:role",
            "urn:lti",
            "urn:",
            "urn:lti:role:ims/lis/Learner:x",
            "urn:lti:role:ims/lis/Lear ner",
            "urn:lti:role:ims/lis//Learner",
            "urn:lti:context-type:ims/lis/Group",
        ] {
            let err = parse_role(urn).expect_err(urn);
            assert_eq!(err.reason(), IgnoreReason::MalformedUrn, "{urn}");
        }
    }

    #[test]
    fn foreign_and_not_urns() {
        let err = parse_role("URN:ISBN:9780099512240").expect_err("isbn");
        assert_eq!(err.reason(), IgnoreReason::ForeignUrn);
        let err = parse_role("http://www.example.com/roles/Learner").expect_err("http");
        assert_eq!(err.reason(), IgnoreReason::ForeignUri);
        let err = Role::from_urn("Learner").expect_err("handle");
        assert_eq!(err.reason(), IgnoreReason::NotAUrn);
        let err = Role::from_urn("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner")
            .expect_err("not a URN");
        assert_eq!(err.reason(), IgnoreReason::NotAUrn);
    }

    #[test]
    fn handles_and_bare_names() {
        assert_eq!(parse_role("learner").expect("handle"), Role::LEARNER);
        let student = parse_role("Student").expect("bare institution name");
        assert_eq!(student.to_string(), "urn:lti:instrole:ims/lis/Student");
        let user = parse_role("User").expect("bare system name");
        assert_eq!(user.to_string(), "urn:lti:sysrole:ims/lis/User");
        // Both a context handle and an institution role: the handle wins.
        assert_eq!(parse_role("Instructor").expect("handle"), Role::INSTRUCTOR);
        for unknown in [
            "None",
            "Teacher",
            "Instructor/Professor",
            "Learner Instructor",
        ] {
            let err = parse_role(unknown).expect_err(unknown);
            assert_eq!(err.reason(), IgnoreReason::UnknownHandle, "{unknown}");
        }
    }

    #[test]
    fn ignored_role_message_is_short_and_clean() {
        let long = format!("Bad\r\n{}", "x".repeat(200));
        let err = parse_role(&long).expect_err("unknown");
        let message = err.to_string();
        assert!(message.len() < 200, "{message}");
        assert!(!message.contains('\n'));
        assert!(message.contains('…'));
    }

    #[test]
    fn role_constants_match_parsed_roles() {
        for (constant, text) in [
            (Role::LEARNER, "Learner"),
            (Role::INSTRUCTOR, "Instructor"),
            (Role::CONTENT_DEVELOPER, "ContentDeveloper"),
            (Role::MEMBER, "Member"),
            (Role::MANAGER, "Manager"),
            (Role::MENTOR, "Mentor"),
            (Role::ADMINISTRATOR, "Administrator"),
            (Role::TEACHING_ASSISTANT, "TeachingAssistant"),
        ] {
            assert_eq!(parse_role(text).expect("handle"), constant);
        }
    }
}
