//! MAC purposes and tags for the session layer.

use core::fmt;
use core::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::MalformedText;
use super::keys::{MAC_LEN, parse_keynum};

/// What a MAC protects. Each purpose has its own derived key, so a tag made
/// for one is worthless for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MacPurpose {
    /// The signed session cookie (DESIGN §3 "Sessions").
    SessionCookie,
    /// CSRF tokens: `HMAC(key, session id)`, never the raw id (W-9).
    Csrf,
}

/// A MAC tag and the number of the key that made it.
///
/// Text form (`Display` / `FromStr`): `<keynum>.<base64url, no padding>`,
/// e.g. `3.` followed by 43 characters. Every character is allowed unescaped
/// in cookie values, form fields, HTTP headers and URLs. The tag is not
/// secret, but `Debug` still omits it so it stays out of logs.
///
/// Compare tags only through [`AppCipher::verify`](super::AppCipher::verify)
/// (constant time); `MacTag` deliberately has no `PartialEq`.
#[derive(Clone)]
pub struct MacTag {
    keynum: u32,
    tag: [u8; MAC_LEN],
}

impl MacTag {
    pub(super) fn new(keynum: u32, tag: [u8; MAC_LEN]) -> Self {
        Self { keynum, tag }
    }

    /// The number of the application key that made (or claims to have made)
    /// this tag.
    #[must_use]
    pub fn keynum(&self) -> u32 {
        self.keynum
    }

    /// The raw 32-byte HMAC-SHA256 tag.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; MAC_LEN] {
        &self.tag
    }

    /// Builds a tag from its parts, e.g. when the session layer stores the
    /// key number and the tag separately. `None` unless `tag` is 32 bytes.
    #[must_use]
    pub fn from_parts(keynum: u32, tag: &[u8]) -> Option<Self> {
        Some(Self::new(keynum, tag.try_into().ok()?))
    }
}

impl fmt::Display for MacTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.keynum, URL_SAFE_NO_PAD.encode(self.tag))
    }
}

impl FromStr for MacTag {
    type Err = MalformedText;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (keynum, tag) = text.split_once('.').ok_or(MalformedText::Separator)?;
        if tag.contains('.') {
            return Err(MalformedText::Separator);
        }
        let keynum = parse_keynum(keynum)?;
        // 32 bytes encode to exactly 43 characters; checking first bounds the
        // work done on hostile input.
        if tag.len() != 43 {
            return Err(MalformedText::Length);
        }
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| MalformedText::Base64)?;
        Self::from_parts(keynum, &tag).ok_or(MalformedText::Length)
    }
}

impl fmt::Debug for MacTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacTag")
            .field("keynum", &self.keynum)
            .finish_non_exhaustive()
    }
}
