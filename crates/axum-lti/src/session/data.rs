//! The session value and its signed cookie form (spec §4.2, done with
//! HMAC-SHA256 instead of Pyslet's salted hash).
//!
//! Session string (also the `s` parameter of the cookie test):
//! `<sid>-<0|1>-<created>-<last seen>-<payload>` where `sid` is 128 random
//! bits in the `generate_key` format, the flag says whether the session is
//! established, times are unix seconds and the payload is the base64url of a
//! small JSON object of tool data (empty when there is none).
//!
//! Cookie value: `<session string>~<MAC tag>`, the tag being the application
//! cipher's session-cookie MAC over the session string.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lti_core::{AppCipher, MacPurpose, MacTag};

/// Largest cookie value we sign or accept, in bytes. Browsers keep about
/// 4 KiB per cookie; a larger value would be dropped silently.
pub(crate) const MAX_COOKIE_LEN: usize = 3800;

/// A session as carried in the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionData {
    pub(crate) id: String,
    pub(crate) established: bool,
    pub(crate) created: i64,
    pub(crate) last_seen: i64,
    pub(crate) payload: BTreeMap<String, String>,
}

impl SessionData {
    /// A fresh, unestablished session.
    pub(crate) fn new(now: i64) -> Self {
        Self {
            id: new_session_id(),
            established: false,
            created: now,
            last_seen: now,
            payload: BTreeMap::new(),
        }
    }

    /// The session string (no signature).
    pub(crate) fn encode(&self) -> String {
        let payload = if self.payload.is_empty() {
            String::new()
        } else {
            // A map of strings always serialises.
            let json = serde_json::to_vec(&self.payload).unwrap_or_default();
            URL_SAFE_NO_PAD.encode(json)
        };
        format!(
            "{}-{}-{}-{}-{}",
            self.id,
            u8::from(self.established),
            self.created,
            self.last_seen,
            payload
        )
    }

    /// Parses a session string; `None` for anything malformed.
    pub(crate) fn decode(text: &str) -> Option<Self> {
        let mut fields = text.splitn(5, '-');
        let id = fields.next()?;
        let established = match fields.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let created = parse_time(fields.next()?)?;
        let last_seen = parse_time(fields.next()?)?;
        let payload_text = fields.next()?;
        if !is_session_id(id) || last_seen < created {
            return None;
        }
        let payload = if payload_text.is_empty() {
            BTreeMap::new()
        } else {
            let json = URL_SAFE_NO_PAD.decode(payload_text).ok()?;
            serde_json::from_slice(&json).ok()?
        };
        Some(Self {
            id: id.to_owned(),
            established,
            created,
            last_seen,
            payload,
        })
    }

    /// The signed cookie value.
    pub(crate) fn to_cookie(&self, cipher: &AppCipher, now: i64) -> String {
        let message = self.encode();
        let tag = cipher.sign(MacPurpose::SessionCookie, message.as_bytes(), now);
        format!("{message}~{tag}")
    }

    /// Verifies and parses a cookie value; `None` when it is malformed,
    /// too long or its signature does not verify (tampering).
    pub(crate) fn from_cookie(value: &str, cipher: &AppCipher) -> Option<Self> {
        if value.len() > MAX_COOKIE_LEN {
            return None;
        }
        let (message, tag) = value.rsplit_once('~')?;
        let tag: MacTag = tag.parse().ok()?;
        if !cipher.verify(MacPurpose::SessionCookie, message.as_bytes(), &tag) {
            return None;
        }
        Self::decode(message)
    }
}

fn parse_time(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A new session id: 128 bits from the OS RNG in the `generate_key` format
/// (spec §8.1), e.g. `6C87.7D7E.0A8D.52D3.EA51.155C.0CE5.BD75`.
pub(crate) fn new_session_id() -> String {
    // 128 is a valid key length, so this cannot fail.
    lti_core::generate_key(128).unwrap_or_else(|_| unreachable_key())
}

#[cold]
fn unreachable_key() -> String {
    // generate_key only fails for a key length below 1.
    String::from("0000.0000.0000.0000.0000.0000.0000.0000")
}

/// True for a string in the session-id format.
pub(crate) fn is_session_id(text: &str) -> bool {
    text.len() == 39
        && text.split('.').count() == 8
        && text
            .split('.')
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The fuzz target of the session-cookie parser (`fuzz/`, through
/// [`crate::fuzz_session_cookie`]): `data` as a cookie value, as a session
/// string, and as a session string signed with a fixed key (so the parser
/// behind the MAC check is reached). Whatever parses must re-encode to
/// itself. Bad input is refused, never a panic; a panic here is a bug.
pub(crate) fn fuzz_cookie(data: &[u8]) {
    static CIPHER: std::sync::OnceLock<AppCipher> = std::sync::OnceLock::new();
    let cipher = CIPHER.get_or_init(|| {
        let secret = lti_core::AppSecret::new("the fuzzing application secret, long enough")
            .expect("a 43-byte secret is long enough");
        AppCipher::new(1, secret)
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let round_trips = |session: &SessionData| {
        assert_eq!(
            SessionData::decode(&session.encode()).as_ref(),
            Some(session)
        );
    };
    if let Some(session) = SessionData::from_cookie(text, cipher) {
        round_trips(&session);
    }
    let decoded = SessionData::decode(text);
    if let Some(session) = &decoded {
        round_trips(session);
    }
    let tag = cipher.sign(MacPurpose::SessionCookie, text.as_bytes(), 0);
    let signed = format!("{text}~{tag}");
    if signed.len() <= MAX_COOKIE_LEN {
        assert_eq!(SessionData::from_cookie(&signed, cipher), decoded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuzz_target_accepts_anything() {
        let good = SessionData::new(100);
        for input in [
            good.encode().into_bytes(),
            good.to_cookie(&cipher(), 100).into_bytes(),
            b"\xff\xfe~1.AAAA".to_vec(),
            b"~~~".to_vec(),
            Vec::new(),
        ] {
            fuzz_cookie(&input);
        }
    }

    fn cipher() -> AppCipher {
        crate::testing::cipher()
    }

    #[test]
    fn session_strings_round_trip() {
        let mut s = SessionData::new(1_700_000_000);
        s.payload.insert("owner".into(), "42".into());
        s.last_seen += 5;
        let text = s.encode();
        assert_eq!(SessionData::decode(&text), Some(s.clone()));
        s.payload.clear();
        s.established = true;
        let text = s.encode();
        assert!(text.ends_with('-'));
        assert_eq!(SessionData::decode(&text), Some(s));
    }

    #[test]
    fn malformed_session_strings_are_refused() {
        let good = SessionData::new(100).encode();
        let id = &good[..39];
        for bad in [
            String::new(),
            "x-0-1-1-".into(),
            format!("{id}-2-100-100-"),
            format!("{id}-0-100-99-"),
            format!("{id}-0--100-"),
            format!("{id}-0-100-100"),
            format!("{id}-0-+100-100-"),
            format!("{id}-0-100-100-!!!"),
            format!("{id}-0-1000000000000000-1000000000000000-"),
        ] {
            assert_eq!(SessionData::decode(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cookies_verify_and_detect_tampering() {
        let c = cipher();
        let s = SessionData::new(1_700_000_000);
        let cookie = s.to_cookie(&c, 1_700_000_000);
        assert_eq!(SessionData::from_cookie(&cookie, &c), Some(s.clone()));
        // Flip the established flag without re-signing.
        let forged = cookie.replacen("-0-", "-1-", 1);
        assert_eq!(SessionData::from_cookie(&forged, &c), None);
        // Truncated and garbage values.
        assert_eq!(
            SessionData::from_cookie(&cookie[..cookie.len() - 3], &c),
            None
        );
        assert_eq!(SessionData::from_cookie("garbage", &c), None);
        assert_eq!(SessionData::from_cookie(&"a~".repeat(4000), &c), None);
        // Another key's signature.
        let other = crate::testing::cipher_with_secret("another application secret!!");
        assert_eq!(SessionData::from_cookie(&s.to_cookie(&other, 0), &c), None);
    }

    #[test]
    fn session_ids_are_random_and_well_formed() {
        let a = new_session_id();
        let b = new_session_id();
        assert!(is_session_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(!is_session_id("6C87.7D7E.0A8D.52D3.EA51.155C.0CE5.BD7"));
        assert!(!is_session_id("6C87-7D7E.0A8D.52D3.EA51.155C.0CE5.BD75"));
    }
}
