//! Key derivation and the low-level seal, open and MAC operations.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{AppSecret, CipherError, MacPurpose, MalformedText};

/// Length of every derived key.
pub(super) const KEY_LEN: usize = 32;
/// AES-GCM nonce length.
pub(super) const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub(super) const TAG_LEN: usize = 16;
/// HMAC-SHA256 output length.
pub(super) const MAC_LEN: usize = 32;

/// HKDF salt (RFC 5869 §3.1: a fixed, application-specific salt is fine).
const HKDF_SALT: &[u8] = b"axum-lti application secret v1";
pub(super) const INFO_ENCRYPTION: &[u8] = b"axum-lti v1 encryption aes-256-gcm";
pub(super) const INFO_SESSION_COOKIE: &[u8] = b"axum-lti v1 session-cookie hmac-sha256";
pub(super) const INFO_CSRF: &[u8] = b"axum-lti v1 csrf-token hmac-sha256";

/// Associated-data labels: ordinary data and wrapped keys never mix.
const AAD_DATA: &[u8] = b"axum-lti/app-cipher/v1";
const AAD_KEY_WRAP: &[u8] = b"axum-lti/app-key-wrap/v1";

/// What a ciphertext holds, which selects its associated-data label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sealed {
    /// Application data (consumer secrets and the like).
    Data,
    /// An older application secret in the key chain.
    KeyWrap,
}

type HmacSha256 = Hmac<Sha256>;

/// The keys derived from one application secret. Wiped on drop.
#[derive(Clone)]
pub(super) struct DerivedKeys {
    encryption: Zeroizing<[u8; KEY_LEN]>,
    session_cookie: Zeroizing<[u8; KEY_LEN]>,
    csrf: Zeroizing<[u8; KEY_LEN]>,
}

impl DerivedKeys {
    /// HKDF-SHA256 with one `info` label per job.
    pub(super) fn derive(secret: &AppSecret) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret.expose());
        let expand = |info: &[u8]| {
            let mut okm = Zeroizing::new([0u8; KEY_LEN]);
            hkdf.expand(info, okm.as_mut_slice())
                .expect("32 bytes is far below HKDF-SHA256's 8160-byte limit");
            okm
        };
        Self {
            encryption: expand(INFO_ENCRYPTION),
            session_cookie: expand(INFO_SESSION_COOKIE),
            csrf: expand(INFO_CSRF),
        }
    }

    fn mac_key(&self, purpose: MacPurpose) -> &[u8; KEY_LEN] {
        match purpose {
            MacPurpose::SessionCookie => &self.session_cookie,
            MacPurpose::Csrf => &self.csrf,
        }
    }

    /// The AEAD, built per use so no unwiped key schedule outlives the call
    /// (`aes-gcm` is built without its `zeroize` feature).
    fn aead(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(self.encryption.as_slice())
            .expect("the derived encryption key is 32 bytes, AES-256's key size")
    }

    fn hmac(&self, purpose: MacPurpose, keynum: u32) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(self.mac_key(purpose))
            .expect("HMAC accepts keys of any length");
        mac.update(&keynum.to_be_bytes());
        mac
    }

    /// Encrypts `plaintext` into the text form `<keynum>:<base64>`.
    pub(super) fn seal(
        &self,
        keynum: u32,
        kind: Sealed,
        binding: &[u8],
        plaintext: &[u8],
    ) -> Result<String, CipherError> {
        // Checked first so the library never copies a plaintext it cannot encrypt.
        if u64::try_from(plaintext.len()).map_or(true, |len| len > aes_gcm::P_MAX) {
            return Err(CipherError::PlaintextTooLong);
        }
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| CipherError::Random(e.to_string()))?;
        let aad = associated_data(kind, keynum, binding);
        let sealed = self
            .aead()
            .encrypt(
                &Nonce::<Aes256Gcm>::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::PlaintextTooLong)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(format!("{keynum}:{}", STANDARD.encode(&blob)))
    }

    /// Decrypts a blob (`nonce ‖ ciphertext ‖ tag`) made by [`Self::seal`]
    /// under `keynum`.
    pub(super) fn open(
        &self,
        keynum: u32,
        kind: Sealed,
        binding: &[u8],
        blob: &[u8],
    ) -> Result<Vec<u8>, CipherError> {
        let (nonce, sealed) = blob
            .split_first_chunk::<NONCE_LEN>()
            .filter(|(_, sealed)| sealed.len() >= TAG_LEN)
            .ok_or(MalformedText::Length)?;
        let aad = associated_data(kind, keynum, binding);
        self.aead()
            .decrypt(
                &Nonce::<Aes256Gcm>::from(*nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::AuthenticationFailed(keynum))
    }

    /// `HMAC-SHA256(key for purpose, keynum (u32 BE) ‖ msg)`.
    pub(super) fn mac(&self, purpose: MacPurpose, keynum: u32, msg: &[u8]) -> [u8; MAC_LEN] {
        let mut mac = self.hmac(purpose, keynum);
        mac.update(msg);
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of a tag made by [`Self::mac`].
    pub(super) fn verify_mac(
        &self,
        purpose: MacPurpose,
        keynum: u32,
        msg: &[u8],
        tag: &[u8; MAC_LEN],
    ) -> bool {
        let mut mac = self.hmac(purpose, keynum);
        mac.update(msg);
        mac.verify_slice(tag).is_ok()
    }
}

/// `label ‖ keynum (u32 BE) ‖ binding`: the label and key number have fixed
/// lengths, so the encoding is unambiguous.
fn associated_data(kind: Sealed, keynum: u32, binding: &[u8]) -> Vec<u8> {
    let label = match kind {
        Sealed::Data => AAD_DATA,
        Sealed::KeyWrap => AAD_KEY_WRAP,
    };
    let mut aad = Vec::with_capacity(label.len() + 4 + binding.len());
    aad.extend_from_slice(label);
    aad.extend_from_slice(&keynum.to_be_bytes());
    aad.extend_from_slice(binding);
    aad
}

/// Parses a canonical decimal key number: ASCII digits only, no sign, no
/// leading zeros (so each ciphertext has exactly one spelling), in `u32`.
pub(super) fn parse_keynum(text: &str) -> Result<u32, MalformedText> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text.len() == 1 || !text.starts_with('0'));
    if !canonical {
        return Err(MalformedText::KeyNumber);
    }
    text.parse().map_err(|_| MalformedText::KeyNumber)
}

/// Splits `<keynum>:<base64>` and decodes the blob; checks the blob is long
/// enough to hold a nonce and a tag.
pub(super) fn parse_ciphertext(text: &str) -> Result<(u32, Vec<u8>), MalformedText> {
    let (keynum, data) = text.split_once(':').ok_or(MalformedText::Separator)?;
    if data.contains(':') {
        return Err(MalformedText::Separator);
    }
    let keynum = parse_keynum(keynum)?;
    let blob = STANDARD.decode(data).map_err(|_| MalformedText::Base64)?;
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err(MalformedText::Length);
    }
    Ok((keynum, blob))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> AppSecret {
        AppSecret::new("0123456789abcdef0123456789abcdef").expect("32 bytes is long enough")
    }

    #[test]
    fn derived_keys_differ_from_each_other_and_the_secret() {
        let secret = secret();
        let keys = DerivedKeys::derive(&secret);
        let all: [&[u8]; 4] = [
            secret.expose(),
            keys.encryption.as_slice(),
            keys.session_cookie.as_slice(),
            keys.csrf.as_slice(),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // The secret also appears in none of the keys as a prefix.
        assert_ne!(&keys.encryption[..16], &secret.expose()[..16]);
    }

    #[test]
    fn derivation_is_deterministic_and_depends_on_the_secret() {
        let a = DerivedKeys::derive(&secret());
        let b = DerivedKeys::derive(&secret());
        assert_eq!(*a.encryption, *b.encryption);
        assert_eq!(*a.csrf, *b.csrf);
        let other = DerivedKeys::derive(
            &AppSecret::new("0123456789abcdef0123456789abcdeF").expect("long enough"),
        );
        assert_ne!(*a.encryption, *other.encryption);
        assert_ne!(*a.session_cookie, *other.session_cookie);
        assert_ne!(*a.csrf, *other.csrf);
    }

    #[test]
    fn derivation_matches_an_independent_hkdf_computation() {
        // RFC 5869 HKDF-SHA256 with L = 32 is a single HMAC block:
        // PRK = HMAC(salt, IKM); OKM = HMAC(PRK, info ‖ 0x01).
        let secret = secret();
        let keys = DerivedKeys::derive(&secret);
        let prk = <HmacSha256 as KeyInit>::new_from_slice(HKDF_SALT)
            .expect("any length")
            .chain_update(secret.expose())
            .finalize()
            .into_bytes();
        for (info, key) in [
            (INFO_ENCRYPTION, &keys.encryption),
            (INFO_SESSION_COOKIE, &keys.session_cookie),
            (INFO_CSRF, &keys.csrf),
        ] {
            let okm = <HmacSha256 as KeyInit>::new_from_slice(&prk)
                .expect("any length")
                .chain_update(info)
                .chain_update([1u8])
                .finalize()
                .into_bytes();
            assert_eq!(okm.as_slice(), key.as_slice());
        }
    }

    #[test]
    fn key_wrap_and_data_do_not_mix() {
        let keys = DerivedKeys::derive(&secret());
        let text = keys
            .seal(1, Sealed::KeyWrap, b"", b"payload")
            .expect("seal works");
        let (keynum, blob) = parse_ciphertext(&text).expect("well formed");
        assert_eq!(
            keys.open(keynum, Sealed::Data, b"", &blob),
            Err(CipherError::AuthenticationFailed(1))
        );
        assert_eq!(
            keys.open(keynum, Sealed::KeyWrap, b"", &blob)
                .expect("opens"),
            b"payload"
        );
    }

    #[test]
    fn keynum_parsing_is_canonical() {
        assert_eq!(parse_keynum("0"), Ok(0));
        assert_eq!(parse_keynum("4294967295"), Ok(u32::MAX));
        for bad in ["", "01", "+1", "-1", " 1", "1 ", "4294967296", "1a", "١"] {
            assert_eq!(parse_keynum(bad), Err(MalformedText::KeyNumber), "{bad:?}");
        }
    }
}
