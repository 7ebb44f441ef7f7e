//! The application cipher: secrets at rest, session-cookie and CSRF MACs, and
//! key rotation.
//!
//! This replaces Pyslet's `AppCipher` (spec §8.3–§8.5), keeping its ideas —
//! numbered application keys, a chain of older keys each encrypted under its
//! successor, a switch-over time so a rotation can be rolled out — and fixing
//! its weaknesses: AES-CFB without a MAC becomes AES-256-GCM, the keyed hash
//! `SHA-256(data ‖ key)` becomes HMAC-SHA256 compared in constant time, and
//! no key is ever used for two jobs (DESIGN §3 "Secrets").
//!
//! # Keys
//!
//! The operator configures an [`AppSecret`] (at least [`MIN_APP_SECRET_LEN`]
//! bytes) and a key number. Three 32-byte keys are derived from the secret
//! with HKDF-SHA256 (RFC 5869), a fixed salt and one `info` label per job:
//!
//! | `info` label                              | used as                           |
//! |-------------------------------------------|-----------------------------------|
//! | `axum-lti v1 encryption aes-256-gcm`      | AES-256-GCM key                   |
//! | `axum-lti v1 session-cookie hmac-sha256`  | HMAC key for [`MacPurpose::SessionCookie`] |
//! | `axum-lti v1 csrf-token hmac-sha256`      | HMAC key for [`MacPurpose::Csrf`] |
//!
//! So a CSRF token can never be replayed as a cookie signature, and neither
//! reveals anything about the encryption key or the secret.
//!
//! # Ciphertext text form
//!
//! `<keynum>:<base64(nonce ‖ ciphertext ‖ tag)>` — the key number in
//! canonical decimal (no sign, no leading zeros), then standard base64 with
//! padding of a 12-byte random nonce from the OS, the AES-256-GCM ciphertext
//! (as long as the plaintext) and the 16-byte tag. The associated data is
//! `"axum-lti/app-cipher/v1" ‖ keynum (u32, big-endian) ‖ binding`, so a
//! ciphertext relabelled with another key number fails to authenticate, and
//! a caller may bind a ciphertext to the row it belongs to (a consumer key,
//! say) with [`AppCipher::encrypt_bound`] so it cannot be copied to another
//! row. Older keys in the chain are wrapped with a different label
//! (`"axum-lti/app-key-wrap/v1"`) and bound to their own key number, so a
//! wrapped key can never be decrypted as ordinary data nor moved to another
//! record.
//!
//! # MAC tags
//!
//! [`AppCipher::sign`] returns a [`MacTag`]: the key number it was made with
//! and `HMAC-SHA256(derived key for the purpose, keynum (u32 BE) ‖ message)`.
//! Its text form is `<keynum>.<base64url without padding>` (43 characters
//! after the dot), safe in cookies, form fields, headers and URLs without
//! escaping. [`AppCipher::verify`] uses the key the tag names, so cookies
//! signed before a rotation keep verifying while that key is in the chain.
//!
//! # Rotation procedure
//!
//! 1. Run the rotate command once, against the shared database: it calls
//!    [`AppCipher::rotate`] with a new key number, a new secret and a
//!    switch-over time comfortably in the future (long enough to restart
//!    every instance), and stores the returned [`AppKeyRecord`] — the outgoing
//!    secret encrypted under the new key — deleting the records listed in
//!    [`KeyRotation::retired`] in the same transaction.
//! 2. Give every instance the new key number and secret and restart them,
//!    one by one. On start each calls [`AppCipher::from_chain`], which unwraps
//!    the older keys and sees that the switch-over is still in the future, so
//!    it keeps **encrypting and signing with the old key**. Instances that
//!    are not restarted yet can therefore read everything the restarted ones
//!    write, and restarted ones can read everything (any key of the chain).
//! 3. At the switch-over time every instance starts writing with the new key
//!    by itself; no second restart is needed.
//! 4. Optionally re-encrypt stored data with [`AppCipher::reencrypt`] so old
//!    keys can eventually leave the chain.
//!
//! The chain keeps at most [`MAX_CHAIN_DEPTH`] older keys; a rotation that
//! pushes a key past that depth drops it (data still encrypted under it then
//! fails with [`CipherError::KeyTooOld`] until restart and
//! [`CipherError::UnknownKey`] after). Key numbers must not repeat within the
//! chain.
//!
//! [`AppCipher::from_chain`] fails loudly — it refuses to start — on
//! anything inconsistent: duplicate key numbers, forks, loops, records it
//! cannot reach from the current key, chains deeper than [`MAX_CHAIN_DEPTH`],
//! records that do not decrypt, and a configured key that a record says has
//! already been replaced (an instance started with a stale configuration).
//! Silently ignoring such a record would leave data undecryptable at some
//! later, less convenient moment; a start-up failure names the key number to
//! look at.

mod app;
mod chain;
mod error;
mod keys;
mod mac;
mod secret;

pub use app::AppCipher;
pub use chain::{AppKeyRecord, KeyRotation, MAX_CHAIN_DEPTH};
pub use error::{CipherError, KeyChainError, MalformedText};
pub use mac::{MacPurpose, MacTag};
pub use secret::{AppSecret, AppSecretError, MIN_APP_SECRET_LEN};
