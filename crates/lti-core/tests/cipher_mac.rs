//! Application cipher: MAC tags for session cookies and CSRF tokens.

use lti_core::{AppCipher, AppSecret, MacPurpose, MacTag};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_700_000_000;
const PURPOSES: [MacPurpose; 2] = [MacPurpose::SessionCookie, MacPurpose::Csrf];

fn cipher(keynum: u32, secret: &str) -> AppCipher {
    AppCipher::new(
        keynum,
        AppSecret::new(secret).expect("test secrets are long enough"),
    )
}

#[test]
fn tags_verify_for_their_purpose_and_message() {
    let cipher = cipher(4, "the application secret for MAC tests");
    for purpose in PURPOSES {
        let tag = cipher.sign(purpose, b"session 1234", NOW);
        assert_eq!(tag.keynum(), 4);
        assert!(cipher.verify(purpose, b"session 1234", &tag));
        assert!(!cipher.verify(purpose, b"session 1235", &tag));
        assert!(!cipher.verify(purpose, b"", &tag));
    }
    assert!(cipher.verify(
        MacPurpose::Csrf,
        b"",
        &cipher.sign(MacPurpose::Csrf, b"", NOW)
    ));
}

#[test]
fn tags_fail_for_the_other_purpose() {
    let cipher = cipher(4, "the application secret for MAC tests");
    let cookie = cipher.sign(MacPurpose::SessionCookie, b"m", NOW);
    let csrf = cipher.sign(MacPurpose::Csrf, b"m", NOW);
    assert_ne!(cookie.as_bytes(), csrf.as_bytes());
    assert!(!cipher.verify(MacPurpose::Csrf, b"m", &cookie));
    assert!(!cipher.verify(MacPurpose::SessionCookie, b"m", &csrf));
}

#[test]
fn tags_are_deterministic_per_key_and_differ_between_secrets() {
    let a = cipher(1, "one application secret of length");
    let b = cipher(1, "another application secret, long");
    let tag = a.sign(MacPurpose::SessionCookie, b"m", NOW);
    assert_eq!(
        tag.as_bytes(),
        a.sign(MacPurpose::SessionCookie, b"m", NOW).as_bytes()
    );
    assert!(!b.verify(MacPurpose::SessionCookie, b"m", &tag));
}

#[test]
fn tags_fail_under_another_or_unknown_key_number() -> TestResult {
    let cipher = cipher(1, "one application secret of length")
        .rotate(2, AppSecret::new("another application secret, long")?, NOW)?
        .cipher;
    let tag = cipher.sign(MacPurpose::Csrf, b"m", NOW - 1);
    assert_eq!(tag.keynum(), 1);
    assert!(cipher.verify(MacPurpose::Csrf, b"m", &tag));
    for keynum in [2, 3, 0, u32::MAX] {
        let relabelled = MacTag::from_parts(keynum, tag.as_bytes()).ok_or("32 bytes")?;
        assert!(
            !cipher.verify(MacPurpose::Csrf, b"m", &relabelled),
            "{keynum}"
        );
    }
    // Flipping any bit of the tag fails.
    for i in 0..32 {
        let mut bytes = *tag.as_bytes();
        bytes[i] ^= 0x80;
        let flipped = MacTag::from_parts(1, &bytes).ok_or("32 bytes")?;
        assert!(!cipher.verify(MacPurpose::Csrf, b"m", &flipped));
    }
    Ok(())
}

#[test]
fn the_key_number_is_bound_even_when_two_keys_share_a_secret() -> TestResult {
    let secret = "one application secret of length";
    let cipher = cipher(1, secret)
        .rotate(2, AppSecret::new(secret)?, NOW)?
        .cipher;
    let tag = cipher.sign(MacPurpose::SessionCookie, b"m", NOW - 1);
    assert_eq!(tag.keynum(), 1);
    let relabelled = MacTag::from_parts(2, tag.as_bytes()).ok_or("32 bytes")?;
    assert!(!cipher.verify(MacPurpose::SessionCookie, b"m", &relabelled));
    Ok(())
}

#[test]
fn tags_signed_before_a_rotation_still_verify() -> TestResult {
    let old = cipher(1, "one application secret of length");
    let tag = old.sign(MacPurpose::SessionCookie, b"cookie payload", NOW);
    let new = old
        .rotate(2, AppSecret::new("another application secret, long")?, NOW)?
        .cipher;
    assert!(new.verify(MacPurpose::SessionCookie, b"cookie payload", &tag));
    // After the switch-over new tags use key 2; the old cipher can't read them.
    let fresh = new.sign(MacPurpose::SessionCookie, b"cookie payload", NOW);
    assert_eq!(fresh.keynum(), 2);
    assert!(!old.verify(MacPurpose::SessionCookie, b"cookie payload", &fresh));
    Ok(())
}

#[test]
fn text_form_round_trips_and_is_cookie_safe() -> TestResult {
    let cipher = cipher(12, "the application secret for MAC tests");
    let tag = cipher.sign(MacPurpose::SessionCookie, b"m", NOW);
    let text = tag.to_string();
    let (keynum, data) = text.split_once('.').ok_or("separator")?;
    assert_eq!(keynum, "12");
    assert_eq!(data.len(), 43);
    assert!(
        data.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let parsed: MacTag = text.parse()?;
    assert_eq!(parsed.keynum(), 12);
    assert_eq!(parsed.as_bytes(), tag.as_bytes());
    assert!(cipher.verify_text(MacPurpose::SessionCookie, b"m", &text));
    assert!(!cipher.verify_text(MacPurpose::Csrf, b"m", &text));
    assert!(!cipher.verify_text(MacPurpose::SessionCookie, b"n", &text));
    Ok(())
}

#[test]
fn from_parts_requires_32_bytes() {
    assert!(MacTag::from_parts(1, &[0u8; 31]).is_none());
    assert!(MacTag::from_parts(1, &[0u8; 33]).is_none());
    assert!(MacTag::from_parts(1, &[0u8; 32]).is_some());
}

#[test]
fn tag_debug_omits_the_tag() {
    let tag = cipher(3, "the application secret for MAC tests").sign(MacPurpose::Csrf, b"m", NOW);
    let shown = format!("{tag:?}");
    let text = tag.to_string();
    let data = text.split_once('.').map_or("", |(_, data)| data);
    assert!(!shown.contains(data), "{shown}");
    assert!(shown.contains("keynum: 3"), "{shown}");
}
