//! Context types: the `context_type` launch parameter (spec §5.4, QL-6).

use super::uri_scheme;

/// The context-type handles of LTI 1.1 and their URNs
/// (`urn:lti:context-type:ims/lis/<handle>`, spec §5.4).
pub const CONTEXT_TYPE_HANDLES: &[(&str, &str)] = &[
    (
        "CourseTemplate",
        "urn:lti:context-type:ims/lis/CourseTemplate",
    ),
    (
        "CourseOffering",
        "urn:lti:context-type:ims/lis/CourseOffering",
    ),
    (
        "CourseSection",
        "urn:lti:context-type:ims/lis/CourseSection",
    ),
    ("Group", "urn:lti:context-type:ims/lis/Group"),
];

/// The URN of a context-type handle, ignoring ASCII case.
///
/// ```
/// assert_eq!(
///     lti_core::context_type_urn("CourseSection"),
///     Some("urn:lti:context-type:ims/lis/CourseSection")
/// );
/// assert_eq!(lti_core::context_type_urn("Club"), None);
/// ```
#[must_use]
pub fn context_type_urn(handle: &str) -> Option<&'static str> {
    CONTEXT_TYPE_HANDLES
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case(handle))
        .map(|(_, urn)| *urn)
}

/// Parses a `context_type` value into a sorted list of type URIs without
/// duplicates (spec §5.4).
///
/// The value is split on `,` and each item trimmed. An absolute URI (one
/// that starts with a scheme, such as `urn:` or `http:`) is kept as sent; a
/// handle of [`CONTEXT_TYPE_HANDLES`] becomes its URN; anything else
/// (unknown handles, empty items) is skipped. Pyslet stored a null entry for
/// those, and the literal `None` when the parameter was missing (QL-6); here
/// they are dropped, and a missing or blank value gives an empty list.
///
/// ```
/// let types = lti_core::parse_context_types("Group, CourseSection,Club,");
/// assert_eq!(
///     types,
///     [
///         "urn:lti:context-type:ims/lis/CourseSection",
///         "urn:lti:context-type:ims/lis/Group",
///     ]
/// );
/// ```
#[must_use]
pub fn parse_context_types(value: &str) -> Vec<String> {
    let mut types: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter_map(|item| {
            if let Some(urn) = context_type_urn(item) {
                Some(urn.to_owned())
            } else if is_absolute_uri(item) {
                Some(item.to_owned())
            } else {
                None
            }
        })
        .collect();
    types.sort();
    types.dedup();
    types
}

/// A scheme, something after it, and no whitespace or control characters.
fn is_absolute_uri(item: &str) -> bool {
    uri_scheme(item).is_some_and(|(_, rest)| !rest.is_empty())
        && !item.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_case_insensitively_and_uris_verbatim() {
        let types = parse_context_types(
            "coursesection,http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering,Group,Group",
        );
        assert_eq!(
            types,
            [
                "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering",
                "urn:lti:context-type:ims/lis/CourseSection",
                "urn:lti:context-type:ims/lis/Group",
            ]
        );
    }

    #[test]
    fn skips_junk() {
        assert!(parse_context_types("").is_empty());
        assert!(parse_context_types(" , ,").is_empty());
        assert!(parse_context_types("Club,urn:,Course Section,x:has space").is_empty());
    }

    #[test]
    fn every_handle_has_its_urn() {
        for (handle, urn) in CONTEXT_TYPE_HANDLES {
            assert_eq!(*urn, format!("urn:lti:context-type:ims/lis/{handle}"));
            assert_eq!(context_type_urn(handle), Some(*urn));
        }
    }
}
