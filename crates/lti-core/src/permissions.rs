//! Permission bits and the model that derives them from roles (spec §6.2).
//!
//! ```
//! use lti_core::{DefaultPermissionModel, PermissionModel, Permissions, RoleList};
//!
//! let roles = RoleList::parse("Learner,Instructor/Lecturer");
//! let granted = DefaultPermissionModel.permissions(roles.roles());
//! assert_eq!(granted, Permissions::READ | Permissions::WRITE | Permissions::CONFIGURE);
//! assert!(granted.contains(Permissions::WRITE));
//! ```

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

use crate::roles::{Role, is_subrole};

/// A set of permission bits, stored with a visit at launch (spec §6.2).
///
/// The bits are Pyslet's: [`READ`](Self::READ) = 1, [`WRITE`](Self::WRITE) =
/// 2, [`CONFIGURE`](Self::CONFIGURE) = 4. They are advisory: what a page
/// allows is the tool's decision (spec §6.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u32);

impl Permissions {
    /// No permissions.
    pub const NONE: Permissions = Permissions(0);
    /// May view the resource (Pyslet `READ_PERMISSION`, 0x1).
    pub const READ: Permissions = Permissions(0x1);
    /// May change the resource's content (Pyslet `WRITE_PERMISSION`, 0x2).
    pub const WRITE: Permissions = Permissions(0x2);
    /// May change the resource's settings (Pyslet `CONFIGURE_PERMISSION`,
    /// 0x4).
    pub const CONFIGURE: Permissions = Permissions(0x4);
    /// Every permission defined here.
    pub const ALL: Permissions = Permissions(0x7);

    const NAMED: [(Permissions, &'static str); 3] = [
        (Self::READ, "READ"),
        (Self::WRITE, "WRITE"),
        (Self::CONFIGURE, "CONFIGURE"),
    ];

    /// The raw bits, e.g. to store in a database column.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The permissions whose bits are set in `bits`; unknown bits are
    /// dropped.
    ///
    /// ```
    /// use lti_core::Permissions;
    ///
    /// assert_eq!(Permissions::from_bits_truncate(0xff), Permissions::ALL);
    /// assert_eq!(Permissions::from_bits_truncate(1), Permissions::READ);
    /// ```
    #[must_use]
    pub const fn from_bits_truncate(bits: u32) -> Permissions {
        Permissions(bits & Self::ALL.0)
    }

    /// The permissions of `bits`, or `None` when an unknown bit is set.
    #[must_use]
    pub const fn from_bits(bits: u32) -> Option<Permissions> {
        if bits & !Self::ALL.0 == 0 {
            Some(Permissions(bits))
        } else {
            None
        }
    }

    /// Whether every permission in `other` is also in `self`.
    #[must_use]
    pub const fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no permission is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in `self` or `other`.
    #[must_use]
    pub const fn union(self, other: Permissions) -> Permissions {
        Permissions(self.0 | other.0)
    }

    /// The permissions in both `self` and `other`.
    #[must_use]
    pub const fn intersection(self, other: Permissions) -> Permissions {
        Permissions(self.0 & other.0)
    }

    /// Writes the names joined by `sep`, or `NONE`.
    fn write_names(self, f: &mut fmt::Formatter<'_>, sep: &str) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("NONE");
        }
        let mut first = true;
        for (flag, name) in Self::NAMED {
            if self.contains(flag) {
                if !first {
                    f.write_str(sep)?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl BitOr for Permissions {
    type Output = Permissions;

    fn bitor(self, rhs: Permissions) -> Permissions {
        self.union(rhs)
    }
}

impl BitOrAssign for Permissions {
    fn bitor_assign(&mut self, rhs: Permissions) {
        *self = self.union(rhs);
    }
}

impl BitAnd for Permissions {
    type Output = Permissions;

    fn bitand(self, rhs: Permissions) -> Permissions {
        self.intersection(rhs)
    }
}

impl FromIterator<Permissions> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permissions>>(iter: I) -> Self {
        iter.into_iter().fold(Permissions::NONE, Permissions::union)
    }
}

/// `READ|WRITE`, or `NONE`.
impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_names(f, "|")
    }
}

/// `Permissions(READ | WRITE)`.
impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permissions(")?;
        self.write_names(f, " | ")?;
        f.write_str(")")
    }
}

/// How a launch's roles become permissions (spec §6.2, Pyslet's
/// overridable `get_permissions`).
///
/// Tool authors replace [`DefaultPermissionModel`] by implementing
/// [`role_permissions`](Self::role_permissions); the permissions of a launch
/// are those of its roles OR-combined by
/// [`permissions`](Self::permissions). Only the roles understood reach the
/// model: ignored items of `roles` (L-5) grant nothing.
///
/// ```
/// use lti_core::{PermissionModel, Permissions, Role, RoleVocabulary};
///
/// /// Teaching assistants may edit; everyone in the institution may read.
/// struct Generous;
///
/// impl PermissionModel for Generous {
///     fn role_permissions(&self, role: &Role) -> Permissions {
///         if role.is_subrole_of(&Role::TEACHING_ASSISTANT) {
///             Permissions::READ | Permissions::WRITE
///         } else if role.vocabulary() == RoleVocabulary::Institution {
///             Permissions::READ
///         } else {
///             lti_core::DefaultPermissionModel.role_permissions(role)
///         }
///     }
/// }
///
/// let roles = lti_core::RoleList::parse("TeachingAssistant,Student");
/// assert_eq!(Generous.permissions(roles.roles()), Permissions::READ | Permissions::WRITE);
/// ```
pub trait PermissionModel: Send + Sync + 'static {
    /// The permissions one role grants.
    fn role_permissions(&self, role: &Role) -> Permissions;

    /// The permissions of a list of roles: each role's permissions
    /// OR-combined. No roles gives [`Permissions::NONE`].
    fn permissions(&self, roles: &[Role]) -> Permissions {
        roles
            .iter()
            .map(|role| self.role_permissions(role))
            .collect()
    }
}

/// Pyslet's permission model (spec §6.2).
///
/// * the context role `Instructor` and its sub-roles: `READ | WRITE |
///   CONFIGURE`;
/// * the context role `Learner` and its sub-roles, including
///   `Learner/Instructor`: `READ`;
/// * everything else (`TeachingAssistant`, `Mentor`, `Administrator`,
///   `ContentDeveloper`, every system and institution role such as
///   `urn:lti:instrole:ims/lis/Instructor`): nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultPermissionModel;

impl PermissionModel for DefaultPermissionModel {
    fn role_permissions(&self, role: &Role) -> Permissions {
        if is_subrole(role, &Role::INSTRUCTOR) {
            Permissions::ALL
        } else if is_subrole(role, &Role::LEARNER) {
            Permissions::READ
        } else {
            Permissions::NONE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_names() {
        assert_eq!(Permissions::READ.bits(), 1);
        assert_eq!(Permissions::WRITE.bits(), 2);
        assert_eq!(Permissions::CONFIGURE.bits(), 4);
        assert_eq!((Permissions::READ | Permissions::CONFIGURE).bits(), 5);
        assert_eq!(Permissions::ALL.to_string(), "READ|WRITE|CONFIGURE");
        assert_eq!(Permissions::NONE.to_string(), "NONE");
        assert_eq!(
            format!("{:?}", Permissions::READ | Permissions::WRITE),
            "Permissions(READ | WRITE)"
        );
        assert_eq!(Permissions::from_bits(8), None);
        assert_eq!(
            Permissions::from_bits(3),
            Some(Permissions::READ | Permissions::WRITE)
        );
        assert_eq!(Permissions::default(), Permissions::NONE);
    }

    #[test]
    fn set_operations() {
        let mut p = Permissions::NONE;
        assert!(p.is_empty());
        p |= Permissions::WRITE;
        assert!(p.contains(Permissions::WRITE));
        assert!(!p.contains(Permissions::READ | Permissions::WRITE));
        assert!(p.contains(Permissions::NONE));
        assert_eq!(Permissions::ALL & Permissions::READ, Permissions::READ);
    }

    #[test]
    fn model_is_object_safe() {
        let model: Box<dyn PermissionModel> = Box::new(DefaultPermissionModel);
        assert_eq!(model.permissions(&[Role::LEARNER]), Permissions::READ);
        assert_eq!(model.permissions(&[]), Permissions::NONE);
    }
}
