//! The `roles` launch parameter as a whole (spec §6.2, L-5).

use std::fmt;

use super::{IgnoredRole, Role, is_subrole, parse_role};

/// Parses the `roles` launch parameter item by item: split on `,`, each item
/// trimmed, each yielding a [`Role`] or an [`IgnoredRole`] (spec §6.2).
///
/// A blank value yields nothing (no roles, nothing to warn about); an empty
/// item inside a non-blank value (`Instructor,`) yields an ignored item.
///
/// ```
/// use lti_core::{parse_roles, IgnoreReason, Role};
///
/// let items: Vec<_> = parse_roles("Instructor, ,Teacher").collect();
/// assert_eq!(items[0], Ok(Role::INSTRUCTOR));
/// assert_eq!(items[1].as_ref().map_err(|e| e.reason()), Err(IgnoreReason::Empty));
/// assert_eq!(items[2].as_ref().map_err(|e| e.reason()), Err(IgnoreReason::UnknownHandle));
/// assert_eq!(parse_roles("  ").count(), 0);
/// ```
pub fn parse_roles(value: &str) -> impl Iterator<Item = Result<Role, IgnoredRole>> + '_ {
    let blank = value.trim().is_empty();
    value.split(',').take_while(move |_| !blank).map(parse_role)
}

/// The parsed `roles` of a launch: the roles understood, in the order sent
/// without duplicates, and the items ignored (to log as warnings, L-5).
///
/// ```
/// use lti_core::{Role, RoleList};
///
/// let roles = RoleList::parse("Instructor/Lecturer,urn:lti:instrole:ims/lis/Faculty,Wizard");
/// assert_eq!(roles.len(), 2);
/// assert!(roles.has_role(&Role::INSTRUCTOR));
/// assert!(!roles.has_role(&Role::LEARNER));
/// assert_eq!(roles.ignored()[0].raw(), "Wizard");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleList {
    roles: Vec<Role>,
    ignored: Vec<IgnoredRole>,
}

impl RoleList {
    /// Parses a `roles` value; see [`parse_roles`].
    #[must_use]
    pub fn parse(value: &str) -> Self {
        let mut list = RoleList::default();
        for item in parse_roles(value) {
            match item {
                Ok(role) if !list.roles.contains(&role) => list.roles.push(role),
                Ok(_) => {}
                Err(ignored) => list.ignored.push(ignored),
            }
        }
        list
    }

    /// The roles understood, in the order sent, without duplicates.
    #[must_use]
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The items that were not understood.
    #[must_use]
    pub fn ignored(&self) -> &[IgnoredRole] {
        &self.ignored
    }

    /// The number of roles understood.
    #[must_use]
    pub fn len(&self) -> usize {
        self.roles.len()
    }

    /// Whether no role was understood.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
    }

    /// The roles understood.
    pub fn iter(&self) -> std::slice::Iter<'_, Role> {
        self.roles.iter()
    }

    /// Whether exactly `role` was sent.
    #[must_use]
    pub fn contains(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }

    /// Whether `parent` or one of its sub-roles was sent ([`is_subrole`]).
    #[must_use]
    pub fn has_role(&self, parent: &Role) -> bool {
        self.roles.iter().any(|role| is_subrole(role, parent))
    }
}

impl<'a> IntoIterator for &'a RoleList {
    type Item = &'a Role;
    type IntoIter = std::slice::Iter<'a, Role>;

    fn into_iter(self) -> Self::IntoIter {
        self.roles.iter()
    }
}

impl FromIterator<Role> for RoleList {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut list = RoleList::default();
        for role in iter {
            if !list.roles.contains(&role) {
                list.roles.push(role);
            }
        }
        list
    }
}

/// The role URNs joined with `,`, a valid `roles` value.
impl fmt::Display for RoleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, role) in self.roles.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{role}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IgnoreReason;

    #[test]
    fn keeps_order_and_drops_duplicates() {
        let list = RoleList::parse("Learner,Instructor,urn:lti:role:ims/lis/Learner");
        assert_eq!(list.roles(), &[Role::LEARNER, Role::INSTRUCTOR]);
        assert_eq!(
            list.to_string(),
            "urn:lti:role:ims/lis/Learner,urn:lti:role:ims/lis/Instructor"
        );
    }

    #[test]
    fn trailing_comma_and_blank() {
        let list = RoleList::parse("Instructor,");
        assert_eq!(list.roles(), &[Role::INSTRUCTOR]);
        assert_eq!(list.ignored().len(), 1);
        assert_eq!(list.ignored()[0].reason(), IgnoreReason::Empty);
        assert!(RoleList::parse("").is_empty());
        assert!(RoleList::parse(" \t").ignored().is_empty());
        assert_eq!(RoleList::parse(",").ignored().len(), 2);
    }

    #[test]
    fn collects_from_roles() {
        let list: RoleList = [Role::LEARNER, Role::LEARNER, Role::MENTOR]
            .into_iter()
            .collect();
        assert_eq!(list.len(), 2);
        assert!(list.contains(&Role::MENTOR));
        assert_eq!(list.iter().count(), 2);
        assert_eq!((&list).into_iter().count(), 2);
    }
}
