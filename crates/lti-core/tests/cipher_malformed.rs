//! Application cipher: malformed texts are typed errors, never panics.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lti_core::{AppCipher, AppSecret, CipherError, MacPurpose, MacTag, MalformedText};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;

fn cipher() -> AppCipher {
    AppCipher::new(
        1,
        AppSecret::new("a test secret that is long enough").expect("long enough"),
    )
}

fn malformed(reason: MalformedText) -> Result<Vec<u8>, CipherError> {
    Err(CipherError::Malformed(reason))
}

#[test]
fn malformed_texts_are_rejected() {
    let cipher = cipher();
    let valid = cipher.encrypt(b"payload", NOW).expect("encrypts");
    let data = valid.split_once(':').expect("form").1;
    let cases: Vec<(String, MalformedText)> = vec![
        (String::new(), MalformedText::Separator),
        (data.to_owned(), MalformedText::Separator),
        (format!("1:{data}:"), MalformedText::Separator),
        (format!("1::{data}"), MalformedText::Separator),
        (format!("1:2:{data}"), MalformedText::Separator),
        (format!(":{data}"), MalformedText::KeyNumber),
        (format!("x:{data}"), MalformedText::KeyNumber),
        (format!("-1:{data}"), MalformedText::KeyNumber),
        (format!("+1:{data}"), MalformedText::KeyNumber),
        (format!(" 1:{data}"), MalformedText::KeyNumber),
        (format!("01:{data}"), MalformedText::KeyNumber),
        (format!("1.0:{data}"), MalformedText::KeyNumber),
        (format!("0x1:{data}"), MalformedText::KeyNumber),
        (format!("4294967296:{data}"), MalformedText::KeyNumber),
        (
            format!("99999999999999999999999:{data}"),
            MalformedText::KeyNumber,
        ),
        ("1:".to_owned(), MalformedText::Length),
        ("1:not base64!".to_owned(), MalformedText::Base64),
        (
            format!("1:{}", data.trim_end_matches('=')),
            MalformedText::Base64,
        ),
        (format!("1: {data}"), MalformedText::Base64),
        (format!("1:{data}\n"), MalformedText::Base64),
        (
            format!("1:{}", data.replace('+', "-").replace('/', "_")),
            MalformedText::Base64,
        ),
        (
            format!("1:{}", STANDARD.encode([0u8; 27])),
            MalformedText::Length,
        ),
        (
            format!("1:{}", STANDARD.encode([0u8; 1])),
            MalformedText::Length,
        ),
    ];
    for (text, reason) in cases {
        // The `+`/`/` replacement is a no-op for ciphertexts without them.
        if text == valid {
            continue;
        }
        assert_eq!(cipher.decrypt(&text), malformed(reason), "{text:?}");
        assert!(cipher.decrypt_str(&text).is_err());
    }
}

#[test]
fn a_blob_of_exactly_nonce_and_tag_is_well_formed_but_not_authentic() {
    let text = format!("1:{}", STANDARD.encode([0u8; 28]));
    assert_eq!(
        cipher().decrypt(&text),
        Err(CipherError::AuthenticationFailed(1))
    );
}

#[test]
fn malformed_mac_tags_are_rejected() {
    let cipher = cipher();
    let tag = cipher.sign(MacPurpose::Csrf, b"m", NOW).to_string();
    let data = tag.split_once('.').expect("form").1.to_owned();
    for (text, reason) in [
        (data.clone(), MalformedText::Separator),
        (format!("1.{data}."), MalformedText::Separator),
        (format!("01.{data}"), MalformedText::KeyNumber),
        (format!("a.{data}"), MalformedText::KeyNumber),
        (format!("1.{}", &data[1..]), MalformedText::Length),
        (format!("1.{data}A"), MalformedText::Length),
        (format!("1.{}=", &data[1..]), MalformedText::Base64),
        (format!("1.{}+", &data[1..]), MalformedText::Base64),
    ] {
        assert_eq!(text.parse::<MacTag>().map(|_| ()), Err(reason), "{text:?}");
        assert!(!cipher.verify_text(MacPurpose::Csrf, b"m", &text));
    }
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let cipher = cipher();
        prop_assert!(cipher.decrypt(&text).is_err());
        prop_assert!(cipher.decrypt_str(&text).is_err());
        prop_assert!(cipher.decrypt_bound(&text, b"binding").is_err());
        prop_assert!(cipher.reencrypt(&text, b"", NOW).is_err());
        let _ = text.parse::<MacTag>();
        prop_assert!(!cipher.verify_text(MacPurpose::SessionCookie, b"m", &text));
    }

    #[test]
    fn plausible_looking_texts_never_panic(
        text in "[0-9]{0,12}[:.]{0,2}[A-Za-z0-9+/_=-]{0,96}",
    ) {
        let cipher = cipher();
        prop_assert!(cipher.decrypt(&text).is_err());
        prop_assert!(!cipher.verify_text(MacPurpose::Csrf, b"m", &text));
    }

    #[test]
    fn well_formed_random_blobs_fail_authentication(
        keynum in 0u32..3,
        blob in proptest::collection::vec(any::<u8>(), 28..200),
    ) {
        let text = format!("{keynum}:{}", STANDARD.encode(&blob));
        let expected = if keynum == 1 {
            CipherError::AuthenticationFailed(1)
        } else {
            CipherError::UnknownKey(keynum)
        };
        prop_assert_eq!(cipher().decrypt(&text), Err(expected));
    }

    #[test]
    fn any_plaintext_and_binding_round_trip(
        plaintext in proptest::collection::vec(any::<u8>(), 0..512),
        binding in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let cipher = cipher();
        let text = cipher.encrypt_bound(&plaintext, &binding, NOW).expect("encrypts");
        prop_assert_eq!(cipher.decrypt_bound(&text, &binding).expect("decrypts"), plaintext);
    }

    #[test]
    fn any_mutation_of_a_valid_text_is_an_error(index in 0usize..64, replacement in any::<char>()) {
        let cipher = cipher();
        let text = cipher.encrypt(b"consumer secret", NOW).expect("encrypts");
        let mut chars: Vec<char> = text.chars().collect();
        let index = index % chars.len();
        prop_assume!(chars[index] != replacement);
        chars[index] = replacement;
        let mutated: String = chars.into_iter().collect();
        prop_assert!(cipher.decrypt(&mutated).is_err(), "{}", mutated);
    }
}
