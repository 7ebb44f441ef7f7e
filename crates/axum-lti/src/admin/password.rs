//! Owner passwords: the length rule, Argon2id hashing and verification.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`) with the
//! `argon2` crate's defaults, which are OWASP's minimum recommendation for
//! Argon2id (19 MiB, 2 passes, 1 lane). Verification reads the parameters
//! from the stored string, so a later change of defaults keeps old hashes
//! valid. Both run on the blocking thread pool: a hash takes tens of
//! milliseconds of CPU, which must not stall the async workers.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use lti_core::PasswordHash;

/// The fewest characters an owner password may have.
pub(crate) const MIN_PASSWORD_CHARS: usize = 12;

/// The most bytes of a password that are accepted (hashing is linear in
/// the length; nobody types more).
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;

/// Why an owner password was not accepted or could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OwnerPasswordError {
    /// Fewer than 12 characters.
    #[error("the password must have at least {min} characters (it has {chars})")]
    TooShort {
        /// The minimum.
        min: usize,
        /// How many it has.
        chars: usize,
    },
    /// More than 1024 bytes.
    #[error("the password must have at most {max} bytes")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// The hasher failed (no randomness for the salt, a task panicked).
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// Checks the password rules; the error says what is wrong in plain words.
pub(crate) fn check_password(password: &str) -> Result<(), OwnerPasswordError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(OwnerPasswordError::TooShort {
            min: MIN_PASSWORD_CHARS,
            chars,
        });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(OwnerPasswordError::TooLong {
            max: MAX_PASSWORD_BYTES,
        });
    }
    Ok(())
}

/// Checks an admin console password against the rules (at least 12
/// characters, at most 1024 bytes) and hashes it with Argon2id, for
/// [`Store::create_owner`](lti_core::Store::create_owner) and
/// [`Store::set_owner_password`](lti_core::Store::set_owner_password).
/// The `owners add` command uses it; so can a tool that makes owners
/// itself. Hashing runs on the blocking thread pool.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let hash = axum_lti::hash_owner_password("correct horse battery").await?;
/// assert!(hash.as_phc().starts_with("$argon2id$"));
/// assert!(axum_lti::hash_owner_password("too short").await.is_err());
/// # Ok::<(), axum_lti::OwnerPasswordError>(())
/// # }).unwrap();
/// ```
pub async fn hash_owner_password(password: &str) -> Result<PasswordHash, OwnerPasswordError> {
    check_password(password)?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|err| OwnerPasswordError::Hash(err.to_string()))?
}

fn hash_now(password: &str) -> Result<PasswordHash, OwnerPasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| PasswordHash::from_phc(hash.to_string()))
        .map_err(|err| OwnerPasswordError::Hash(err.to_string()))
}

/// A hash of a random password, verified against when the email is unknown
/// so that an unknown account costs as much time as a wrong password
/// (account enumeration by timing).
static DUMMY_HASH: LazyLock<Option<PasswordHash>> = LazyLock::new(|| {
    let password = lti_core::generate_key(128).ok()?;
    hash_now(&password).ok()
});

/// True when `password` matches `hash`; with no hash (unknown account) the
/// dummy hash is checked and the answer is false. Runs on the blocking
/// pool.
pub(crate) async fn verify_password(password: String, hash: Option<PasswordHash>) -> bool {
    let known = hash.is_some();
    tokio::task::spawn_blocking(move || {
        let Some(hash) = hash.or_else(|| DUMMY_HASH.clone()) else {
            return false;
        };
        let matched = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_phc())
            .is_ok();
        matched && known
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert!(check_password("short").is_err());
        assert!(check_password("elevenchars").is_err());
        assert!(check_password("twelve chars").is_ok());
        // Characters, not bytes: twelve two-byte letters pass.
        assert!(check_password(&"é".repeat(12)).is_ok());
        assert!(check_password(&"é".repeat(11)).is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        let err = check_password("abc").expect_err("too short");
        assert!(err.to_string().contains("at least 12 characters"), "{err}");
    }

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id() {
        let hash = hash_owner_password("correct horse battery")
            .await
            .expect("hashes");
        assert!(hash.as_phc().starts_with("$argon2id$v=19$"), "{hash:?}");
        assert!(!hash.as_phc().contains("correct horse"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("correct horse battery".into(), None).await);
        let again = hash_owner_password("correct horse battery")
            .await
            .expect("hashes");
        assert_ne!(hash, again, "salted");
    }

    #[tokio::test]
    async fn a_garbled_hash_never_verifies() {
        let garbled = PasswordHash::from_phc("$argon2id$v=19$nonsense");
        assert!(!verify_password("anything at all".into(), Some(garbled)).await);
    }
}
