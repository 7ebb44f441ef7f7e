//! Roles: the LIS role URNs and handles of LTI 1.x, sub-role rules, the
//! `roles` launch parameter and the context types (spec §6.1, §5.4).
//!
//! A role names a vocabulary (context, system or institution), a type and an
//! optional sub-type, and prints as its URN:
//!
//! ```
//! use lti_core::{Role, RoleVocabulary};
//!
//! let role: Role = "Instructor/Lecturer".parse().expect("a context handle");
//! assert_eq!(role.vocabulary(), RoleVocabulary::Context);
//! assert_eq!(role.role_type(), "Instructor");
//! assert_eq!(role.subtype(), Some("Lecturer"));
//! assert_eq!(role.to_string(), "urn:lti:role:ims/lis/Instructor/Lecturer");
//! assert!(role.is_subrole_of(&Role::INSTRUCTOR));
//! ```
//!
//! What one item of `roles` may be, and what is ignored, is described at
//! [`parse_role`].

mod context_types;
mod lis2;
mod list;
mod parse;
mod tables;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

pub use context_types::*;
pub use list::*;
pub use parse::*;
pub use tables::*;

/// The three LIS role vocabularies of LTI 1.x (spec §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleVocabulary {
    /// Roles in a context (course, group): `urn:lti:role:ims/lis/…`.
    Context,
    /// System roles: `urn:lti:sysrole:ims/lis/…`.
    System,
    /// Institution roles: `urn:lti:instrole:ims/lis/…`.
    Institution,
}

impl RoleVocabulary {
    /// The vocabulary's name inside the URN: `role`, `sysrole` or `instrole`.
    #[must_use]
    pub const fn urn_name(self) -> &'static str {
        match self {
            Self::Context => "role",
            Self::System => "sysrole",
            Self::Institution => "instrole",
        }
    }

    /// Finds a vocabulary by its URN name, ignoring ASCII case.
    fn from_urn_name(name: &str) -> Option<Self> {
        [Self::Context, Self::System, Self::Institution]
            .into_iter()
            .find(|v| v.urn_name().eq_ignore_ascii_case(name))
    }
}

/// One LIS role: a vocabulary, a type and an optional sub-type.
///
/// [`Display`](fmt::Display) gives the URN, e.g.
/// `urn:lti:role:ims/lis/Learner/GuestLearner`. Parse one with
/// [`str::parse`] (same as [`parse_role`], which says what is accepted) or
/// [`Role::from_urn`] (URNs only).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Role {
    vocabulary: RoleVocabulary,
    role_type: Cow<'static, str>,
    subtype: Option<Cow<'static, str>>,
}

impl Role {
    /// The context role `Learner`.
    pub const LEARNER: Role = Role::context_const("Learner");
    /// The context role `Instructor`.
    pub const INSTRUCTOR: Role = Role::context_const("Instructor");
    /// The context role `ContentDeveloper`.
    pub const CONTENT_DEVELOPER: Role = Role::context_const("ContentDeveloper");
    /// The context role `Member`.
    pub const MEMBER: Role = Role::context_const("Member");
    /// The context role `Manager`.
    pub const MANAGER: Role = Role::context_const("Manager");
    /// The context role `Mentor`.
    pub const MENTOR: Role = Role::context_const("Mentor");
    /// The context role `Administrator`.
    pub const ADMINISTRATOR: Role = Role::context_const("Administrator");
    /// The context role `TeachingAssistant`.
    pub const TEACHING_ASSISTANT: Role = Role::context_const("TeachingAssistant");

    const fn context_const(role_type: &'static str) -> Role {
        Role {
            vocabulary: RoleVocabulary::Context,
            role_type: Cow::Borrowed(role_type),
            subtype: None,
        }
    }

    pub(super) const fn from_static(
        vocabulary: RoleVocabulary,
        role_type: &'static str,
        subtype: Option<&'static str>,
    ) -> Role {
        let subtype = match subtype {
            Some(s) => Some(Cow::Borrowed(s)),
            None => None,
        };
        Role {
            vocabulary,
            role_type: Cow::Borrowed(role_type),
            subtype,
        }
    }

    /// Builds a role from its parts, or `None` when a name is empty or holds
    /// a character other than ASCII letters, digits, `-`, `_` and `.`.
    ///
    /// LIS names are given their canonical spelling (`learner` → `Learner`).
    ///
    /// ```
    /// use lti_core::{Role, RoleVocabulary};
    ///
    /// let role = Role::new(RoleVocabulary::Institution, "faculty", None).expect("valid");
    /// assert_eq!(role.to_string(), "urn:lti:instrole:ims/lis/Faculty");
    /// assert!(Role::new(RoleVocabulary::Context, "Not valid", None).is_none());
    /// ```
    #[must_use]
    pub fn new(vocabulary: RoleVocabulary, role_type: &str, subtype: Option<&str>) -> Option<Role> {
        if !is_role_name(role_type) || !subtype.is_none_or(is_role_name) {
            return None;
        }
        let role_type = tables::canonical_type(vocabulary, role_type);
        let subtype = subtype.map(|s| tables::canonical_subtype(vocabulary, &role_type, s));
        Some(Role {
            vocabulary,
            role_type,
            subtype,
        })
    }

    /// Parses a full LTI role URN only (Pyslet's `split_role`, spec §6.1):
    /// no handles, no LIS v2 URIs.
    ///
    /// # Errors
    ///
    /// An [`IgnoredRole`] saying why: [`IgnoreReason::ForeignUrn`] for a URN
    /// whose NID is not `lti`, [`IgnoreReason::MalformedUrn`] for a
    /// `urn:lti:` URN without the `<vocab>:ims/lis/Type[/SubType]` shape, and
    /// [`IgnoreReason::NotAUrn`] for anything else.
    ///
    /// ```
    /// use lti_core::{IgnoreReason, Role};
    ///
    /// let role = Role::from_urn("urn:lti:instrole:ims/lis/Guest").expect("a URN");
    /// assert_eq!(role.role_type(), "Guest");
    /// let err = Role::from_urn("URN:ISBN:9780099512240").expect_err("not lti");
    /// assert_eq!(err.reason(), IgnoreReason::ForeignUrn);
    /// ```
    pub fn from_urn(urn: &str) -> Result<Role, IgnoredRole> {
        let text = urn.trim();
        match uri_scheme(text) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("urn") => {
                parse_urn_body(rest).map_err(|reason| IgnoredRole::new(text, reason))
            }
            _ => Err(IgnoredRole::new(text, IgnoreReason::NotAUrn)),
        }
    }

    /// The vocabulary: context, system or institution.
    #[must_use]
    pub fn vocabulary(&self) -> RoleVocabulary {
        self.vocabulary
    }

    /// The role type, e.g. `Instructor`.
    #[must_use]
    pub fn role_type(&self) -> &str {
        &self.role_type
    }

    /// The sub-type, e.g. `Lecturer` in `Instructor/Lecturer`.
    #[must_use]
    pub fn subtype(&self) -> Option<&str> {
        self.subtype.as_deref()
    }

    /// Whether this role is `parent` or one of its sub-roles; see
    /// [`is_subrole`].
    #[must_use]
    pub fn is_subrole_of(&self, parent: &Role) -> bool {
        is_subrole(self, parent)
    }
}

/// Whether `role` is a sub-role of `parent` (spec §6.1): the same vocabulary
/// and type, and `parent` has no sub-type.
///
/// A role without a sub-type counts as a sub-role of itself. A parent *with*
/// a sub-type never has sub-roles, not even itself: Pyslet's rule, kept so
/// that `Learner/Instructor` is never read as `Instructor`.
///
/// ```
/// use lti_core::{is_subrole, Role};
///
/// let lecturer: Role = "Instructor/Lecturer".parse().expect("a handle");
/// assert!(is_subrole(&lecturer, &Role::INSTRUCTOR));
/// assert!(is_subrole(&Role::INSTRUCTOR, &Role::INSTRUCTOR));
/// assert!(!is_subrole(&lecturer, &lecturer));
/// assert!(!is_subrole(&Role::INSTRUCTOR, &lecturer));
/// ```
#[must_use]
pub fn is_subrole(role: &Role, parent: &Role) -> bool {
    parent.subtype.is_none()
        && role.vocabulary == parent.vocabulary
        && role.role_type == parent.role_type
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "urn:lti:{}:ims/lis/{}",
            self.vocabulary.urn_name(),
            self.role_type
        )?;
        if let Some(subtype) = &self.subtype {
            write!(f, "/{subtype}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Role({self})")
    }
}

impl FromStr for Role {
    type Err = IgnoredRole;

    /// Parses one item of `roles`; same as [`parse_role`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_role(s)
    }
}
/// Whether `name` can be a role type or sub-type: non-empty ASCII letters,
/// digits, `-`, `_` and `.` (all LIS names are CamelCase words).
fn is_role_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Splits an absolute URI into its scheme and the rest (RFC 3986 §3.1:
/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`), or `None` when `text`
/// does not start with a scheme.
pub(crate) fn uri_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    let valid = first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some((scheme, rest))
}

/// `text` made safe to show in a message: control characters replaced by
/// `?` and anything past `max` characters cut off with `…`.
pub(crate) fn shorten_for_display(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}
