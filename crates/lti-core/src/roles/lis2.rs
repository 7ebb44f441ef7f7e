//! Mapping the LIS v2 role URIs of LTI 2.0 and LTI 1.3 to the LTI 1.1 URNs.
//!
//! LTI 1.3 Core appendix A (role vocabularies) lists the URIs; ceLTIc's
//! LTI-PHP (`Util::parseRoles`) maps them back to LTI 1.x the same way, so
//! consumers and tools that mix vocabularies agree on what a role means.

use super::{Role, RoleVocabulary, tables};

/// The common prefix, after `http://` or `https://`.
const LIS_V2_PATH: &str = "purl.imsglobal.org/vocab/lis/v2/";

/// Maps a LIS v2 role URI to the equivalent LTI 1.1 role, or `None` when
/// `uri` is not one.
///
/// * `…/membership#T` → `urn:lti:role:ims/lis/T`
/// * `…/membership/T#S` → `urn:lti:role:ims/lis/T/S`, except that LTI 1.3's
///   `Instructor#TeachingAssistant…` sub-roles become the LIS v1
///   `TeachingAssistant` role (`…#TeachingAssistantSection` →
///   `TeachingAssistant/TeachingAssistantSection`)
/// * `…/institution/person#T` → `urn:lti:instrole:ims/lis/T`
/// * `…/system/person#T` → `urn:lti:sysrole:ims/lis/T`
/// * `…/person#T` (LTI 2.0) → the system role `T` if it is one, else the
///   institution role `T` if it is one
pub(super) fn from_lis_v2_uri(uri: &str) -> Option<Role> {
    let rest = strip_prefix_ignore_case(uri, "http://")
        .or_else(|| strip_prefix_ignore_case(uri, "https://"))?;
    let rest = strip_prefix_ignore_case(rest, LIS_V2_PATH)?;
    let (path, name) = rest.split_once('#')?;
    match path {
        "membership" => Role::new(RoleVocabulary::Context, name, None),
        "institution/person" => Role::new(RoleVocabulary::Institution, name, None),
        "system/person" => Role::new(RoleVocabulary::System, name, None),
        "person" => tables::system_role(name).or_else(|| tables::institution_role(name)),
        _ => {
            let role_type = path.strip_prefix("membership/")?;
            membership_subrole(role_type, name)
        }
    }
}

/// `membership/<role_type>#<subtype>`.
fn membership_subrole(role_type: &str, subtype: &str) -> Option<Role> {
    const TA: &str = "TeachingAssistant";
    let is_ta = role_type.eq_ignore_ascii_case("Instructor")
        && subtype.len() >= TA.len()
        && subtype.is_char_boundary(TA.len())
        && subtype[..TA.len()].eq_ignore_ascii_case(TA);
    if !is_ta {
        return Role::new(RoleVocabulary::Context, role_type, Some(subtype));
    }
    if subtype.eq_ignore_ascii_case(TA) {
        Role::new(RoleVocabulary::Context, TA, None)
    } else {
        Role::new(RoleVocabulary::Context, TA, Some(subtype))
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(uri: &str) -> Option<String> {
        from_lis_v2_uri(uri).map(|r| r.to_string())
    }

    #[test]
    fn maps_membership_roles() {
        let base = "http://purl.imsglobal.org/vocab/lis/v2/";
        for (uri, urn) in [
            ("membership#Instructor", "urn:lti:role:ims/lis/Instructor"),
            ("membership#Learner", "urn:lti:role:ims/lis/Learner"),
            (
                "membership#ContentDeveloper",
                "urn:lti:role:ims/lis/ContentDeveloper",
            ),
            (
                "membership/Learner#GuestLearner",
                "urn:lti:role:ims/lis/Learner/GuestLearner",
            ),
            (
                "membership/Instructor#TeachingAssistant",
                "urn:lti:role:ims/lis/TeachingAssistant",
            ),
            (
                "membership/Instructor#TeachingAssistantSection",
                "urn:lti:role:ims/lis/TeachingAssistant/TeachingAssistantSection",
            ),
            (
                "membership/Instructor#Lecturer",
                "urn:lti:role:ims/lis/Instructor/Lecturer",
            ),
            (
                "institution/person#Student",
                "urn:lti:instrole:ims/lis/Student",
            ),
            (
                "institution/person#Faculty",
                "urn:lti:instrole:ims/lis/Faculty",
            ),
            ("system/person#User", "urn:lti:sysrole:ims/lis/User"),
            (
                "system/person#Administrator",
                "urn:lti:sysrole:ims/lis/Administrator",
            ),
            (
                "person#Administrator",
                "urn:lti:sysrole:ims/lis/Administrator",
            ),
            ("person#Student", "urn:lti:instrole:ims/lis/Student"),
        ] {
            assert_eq!(
                mapped(&format!("{base}{uri}")).as_deref(),
                Some(urn),
                "{uri}"
            );
        }
        assert_eq!(
            mapped("HTTPS://PURL.imsglobal.org/vocab/lis/v2/membership#Mentor").as_deref(),
            Some("urn:lti:role:ims/lis/Mentor")
        );
    }

    #[test]
    fn rejects_other_uris() {
        for uri in [
            "http://purl.imsglobal.org/vocab/lis/v2/membership",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#",
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Not Valid",
            "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering",
            "http://purl.imsglobal.org/vocab/lis/v2/person#Nobody",
            "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#",
            "http://example.com/vocab/lis/v2/membership#Learner",
            "ftp://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
            "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#Teaching\u{e9}",
        ] {
            assert_eq!(mapped(uri), None, "{uri}");
        }
    }
}
