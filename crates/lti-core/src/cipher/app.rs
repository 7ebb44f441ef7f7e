//! [`AppCipher`]: encryption, decryption, signing and verification with the
//! keys of a rotation chain.

use core::fmt;

use super::keys::{DerivedKeys, Sealed, parse_ciphertext};
use super::secret::wipe;
use super::{AppSecret, CipherError, MacPurpose, MacTag};

/// The application cipher: AES-256-GCM for secrets at rest and HMAC-SHA256
/// for session cookies and CSRF tokens, under numbered application keys with
/// rotation (spec §8, redone; the module documentation describes the formats
/// and the rotation procedure in full).
///
/// Ciphertexts look like `<keynum>:<base64(nonce ‖ ciphertext ‖ tag)>`.
/// Writing (encrypting, signing) uses the current key, or the previous one
/// while a rotation's switch-over time lies in the future; reading
/// (decrypting, verifying) accepts any key of the chain. Operations that
/// depend on the time take `now` in unix seconds from the application's
/// clock.
///
/// `Debug` shows key numbers only. The cipher is cheap enough to clone, but
/// is usually shared behind an `Arc`.
///
/// ```
/// use lti_core::{AppCipher, AppSecret, MacPurpose};
///
/// let secret = AppSecret::new("correct horse battery staple, 2024")?;
/// let cipher = AppCipher::new(1, secret);
/// let now = 1_700_000_000;
///
/// let stored = cipher.encrypt_str("consumer secret", now)?;
/// assert!(stored.starts_with("1:"));
/// assert_eq!(cipher.decrypt_str(&stored)?, "consumer secret");
///
/// let tag = cipher.sign(MacPurpose::Csrf, b"session id", now);
/// assert!(cipher.verify_text(MacPurpose::Csrf, b"session id", &tag.to_string()));
/// assert!(!cipher.verify(MacPurpose::SessionCookie, b"session id", &tag));
///
/// // Rotation: key 2 takes over one hour from now.
/// let rotation = cipher.rotate(2, AppSecret::new("another long random secret!")?, now + 3600)?;
/// let cipher = rotation.cipher;
/// assert_eq!(cipher.write_keynum(now), 1);
/// assert_eq!(cipher.write_keynum(now + 3600), 2);
/// assert_eq!(cipher.decrypt_str(&stored)?, "consumer secret");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AppCipher {
    /// The secret of `chain[0]`, kept to wrap it when it is rotated out.
    pub(super) secret: AppSecret,
    /// The keys, newest (the configured current key) first; index = depth.
    /// Never empty.
    pub(super) chain: Vec<ChainKey>,
    /// Keys dropped from the chain by rotations in this process.
    pub(super) retired: Vec<u32>,
}

/// One key of the chain.
#[derive(Clone)]
pub(super) struct ChainKey {
    pub(super) keynum: u32,
    pub(super) keys: DerivedKeys,
    /// When this key's successor takes over writing (from the record that
    /// wraps this key); `None` for the newest key.
    pub(super) switch_over: Option<i64>,
}

impl AppCipher {
    /// A cipher with a single key and no history.
    #[must_use]
    pub fn new(keynum: u32, secret: AppSecret) -> Self {
        Self {
            chain: vec![ChainKey {
                keynum,
                keys: DerivedKeys::derive(&secret),
                switch_over: None,
            }],
            secret,
            retired: Vec::new(),
        }
    }

    /// The configured (newest) key number, whether or not it is writing yet.
    #[must_use]
    pub fn current_keynum(&self) -> u32 {
        self.chain[0].keynum
    }

    /// The key number used to encrypt and sign at time `now`.
    #[must_use]
    pub fn write_keynum(&self, now: i64) -> u32 {
        self.write_key(now).keynum
    }

    /// When the next pending switch-over happens, if one is still ahead of
    /// `now` (useful for a start-up log line).
    #[must_use]
    pub fn pending_switch_over(&self, now: i64) -> Option<i64> {
        self.chain
            .iter()
            .filter_map(|key| key.switch_over)
            .filter(|&at| at > now)
            .min()
    }

    /// The key numbers this cipher can read, newest first.
    pub fn keynums(&self) -> impl Iterator<Item = u32> + '_ {
        self.chain.iter().map(|key| key.keynum)
    }

    /// Encrypts `plaintext` under the write key at `now`.
    ///
    /// # Errors
    /// [`CipherError::Random`] if the OS random number generator fails,
    /// [`CipherError::PlaintextTooLong`] beyond 64 GiB.
    pub fn encrypt(&self, plaintext: &[u8], now: i64) -> Result<String, CipherError> {
        self.encrypt_bound(plaintext, b"", now)
    }

    /// Encrypts the UTF-8 bytes of `plaintext`; see [`Self::encrypt`].
    ///
    /// # Errors
    /// As [`Self::encrypt`].
    pub fn encrypt_str(&self, plaintext: &str, now: i64) -> Result<String, CipherError> {
        self.encrypt(plaintext.as_bytes(), now)
    }

    /// Encrypts `plaintext` bound to `binding` (for example the consumer key
    /// whose secret this is): it decrypts only with the same binding through
    /// [`Self::decrypt_bound`], so a ciphertext copied to another row fails.
    /// An empty binding is the same as [`Self::encrypt`].
    ///
    /// # Errors
    /// As [`Self::encrypt`].
    pub fn encrypt_bound(
        &self,
        plaintext: &[u8],
        binding: &[u8],
        now: i64,
    ) -> Result<String, CipherError> {
        let key = self.write_key(now);
        key.keys.seal(key.keynum, Sealed::Data, binding, plaintext)
    }

    /// Decrypts a text made by [`Self::encrypt`] under any key of the chain.
    ///
    /// # Errors
    /// [`CipherError::Malformed`], [`CipherError::UnknownKey`],
    /// [`CipherError::KeyTooOld`] or [`CipherError::AuthenticationFailed`].
    pub fn decrypt(&self, text: &str) -> Result<Vec<u8>, CipherError> {
        self.decrypt_bound(text, b"")
    }

    /// Decrypts a text whose plaintext is UTF-8.
    ///
    /// # Errors
    /// As [`Self::decrypt`], and [`CipherError::InvalidUtf8`] (the bytes are
    /// wiped).
    pub fn decrypt_str(&self, text: &str) -> Result<String, CipherError> {
        String::from_utf8(self.decrypt(text)?).map_err(|e| {
            wipe(e.into_bytes());
            CipherError::InvalidUtf8
        })
    }

    /// Decrypts a text made by [`Self::encrypt_bound`] with the same
    /// `binding`.
    ///
    /// # Errors
    /// As [`Self::decrypt`]; a different binding gives
    /// [`CipherError::AuthenticationFailed`].
    pub fn decrypt_bound(&self, text: &str, binding: &[u8]) -> Result<Vec<u8>, CipherError> {
        let (keynum, blob) = parse_ciphertext(text)?;
        self.key(keynum)?
            .keys
            .open(keynum, Sealed::Data, binding, &blob)
    }

    /// Re-encrypts `text` under the write key at `now` if it is under another
    /// key; `Ok(None)` when it already uses the write key. For maintenance
    /// after a switch-over, so old keys can leave the chain without losing
    /// data.
    ///
    /// # Errors
    /// As [`Self::decrypt_bound`] and [`Self::encrypt_bound`].
    pub fn reencrypt(
        &self,
        text: &str,
        binding: &[u8],
        now: i64,
    ) -> Result<Option<String>, CipherError> {
        let (keynum, _) = parse_ciphertext(text)?;
        let plaintext = zeroize::Zeroizing::new(self.decrypt_bound(text, binding)?);
        if keynum == self.write_keynum(now) {
            return Ok(None);
        }
        self.encrypt_bound(&plaintext, binding, now).map(Some)
    }

    /// Signs `msg` for `purpose` with the write key at `now`.
    #[must_use]
    pub fn sign(&self, purpose: MacPurpose, msg: &[u8], now: i64) -> MacTag {
        let key = self.write_key(now);
        MacTag::new(key.keynum, key.keys.mac(purpose, key.keynum, msg))
    }

    /// Checks, in constant time, that `tag` was made by [`Self::sign`] for
    /// this `purpose` and `msg` with the key it names. Unknown key numbers
    /// fail.
    #[must_use]
    pub fn verify(&self, purpose: MacPurpose, msg: &[u8], tag: &MacTag) -> bool {
        self.key(tag.keynum()).is_ok_and(|key| {
            key.keys
                .verify_mac(purpose, tag.keynum(), msg, tag.as_bytes())
        })
    }

    /// [`Self::verify`] for a tag in its text form; malformed text fails.
    #[must_use]
    pub fn verify_text(&self, purpose: MacPurpose, msg: &[u8], tag: &str) -> bool {
        tag.parse()
            .is_ok_and(|tag: MacTag| self.verify(purpose, msg, &tag))
    }

    /// The key with this number.
    fn key(&self, keynum: u32) -> Result<&ChainKey, CipherError> {
        match self.chain.iter().find(|key| key.keynum == keynum) {
            Some(key) => Ok(key),
            None if self.retired.contains(&keynum) => Err(CipherError::KeyTooOld(keynum)),
            None => Err(CipherError::UnknownKey(keynum)),
        }
    }

    /// The newest key whose switch-over has happened: walk back while the
    /// switch-over *to* the key in hand (recorded on its predecessor) is
    /// still in the future.
    fn write_key(&self, now: i64) -> &ChainKey {
        let mut depth = 0;
        while let Some(older) = self.chain.get(depth + 1) {
            match older.switch_over {
                Some(at) if at > now => depth += 1,
                _ => break,
            }
        }
        &self.chain[depth]
    }
}

impl fmt::Debug for AppCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keynums: Vec<u32> = self.keynums().collect();
        f.debug_struct("AppCipher")
            .field("current_keynum", &self.current_keynum())
            .field("keynums", &keynums)
            .field(
                "switch_overs",
                &self
                    .chain
                    .iter()
                    .filter_map(|key| key.switch_over)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
