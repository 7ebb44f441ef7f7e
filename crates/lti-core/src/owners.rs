//! Owners: the people who run a silo and log in to the tool's admin
//! console (spec §10.4 `MultiTenantTPApp`, with its bugs fixed), and what
//! the console shows before it deletes a consumer.
//!
//! An owner is not an LTI user: LMS users arrive by launch and live per
//! consumer; an owner has an email address and a password, is created by
//! an administrator's command and manages one silo's consumers.
//!
//! Passwords never reach the store: a [`PasswordHash`] holds an Argon2id
//! PHC string made by the caller, and its `Debug` does not print it.

use std::fmt;

use crate::{ConsumerId, SiloId};

/// An owner's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerId(pub i64);

/// A password hash in PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
///
/// The store keeps and returns it as it is; only a password hasher can
/// check a password against it. `Debug` does not print it: a hash is not
/// the password, but it is what an offline guesser needs.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string, as produced by the hasher or read back from the
    /// database.
    pub fn from_phc(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The PHC string, for storing or verifying.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// An owner as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRecord {
    /// Database id.
    pub id: OwnerId,
    /// The silo the owner runs.
    pub silo: SiloId,
    /// The login name: an email address, trimmed and lower-cased
    /// ([`normalize_email`]), unique across all silos.
    pub email: String,
    /// The password hash (redacted in `Debug`).
    pub password: PasswordHash,
    /// Admin sessions carry the epoch they were opened in; logging out
    /// and setting a password move it on, which ends every session opened
    /// before (the session cookie is signed, not stored, so this counter is
    /// what the server can revoke).
    pub session_epoch: i64,
    /// When it was created (unix seconds).
    pub created: i64,
    /// When its password or session epoch last changed (unix seconds).
    pub updated: i64,
}

/// What is needed to create an owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOwner {
    /// The silo the owner runs.
    pub silo: SiloId,
    /// The email address; the store normalizes it ([`normalize_email`]).
    pub email: String,
    /// The password hash.
    pub password: PasswordHash,
    /// Creation time (unix seconds).
    pub now: i64,
}

/// The form in which owner email addresses are stored and looked up:
/// surrounding white space removed, lower case. Addresses differing only
/// in case are one login.
///
/// ```
/// assert_eq!(lti_core::normalize_email("  Ada@Example.EDU \n"), "ada@example.edu");
/// ```
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What deleting a consumer takes with it (the admin console's confirmation
/// page says so before it deletes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerUsage {
    /// The consumer counted.
    pub consumer: ConsumerId,
    /// Its contexts (courses, groups).
    pub contexts: u64,
    /// Its resource links.
    pub resources: u64,
    /// Its users.
    pub users: u64,
    /// The visits to its resources.
    pub visits: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_hash() {
        let owner = OwnerRecord {
            id: OwnerId(1),
            silo: SiloId(2),
            email: "a@b.c".into(),
            password: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
            session_epoch: 0,
            created: 1,
            updated: 1,
        };
        let text = format!("{owner:?}");
        assert!(!text.contains("argon2id"), "{text}");
        assert!(text.contains("a@b.c"), "{text}");
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(normalize_email("A@B.C"), "a@b.c");
        assert_eq!(normalize_email("\ta@b.c "), "a@b.c");
    }
}
