//! Application cipher: round trips, tamper detection, key numbers, secrets
//! and redaction.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lti_core::{AppCipher, AppSecret, AppSecretError, CipherError, MIN_APP_SECRET_LEN};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_700_000_000;
const SECRET_ONE: &str = "first application secret, long enough";
const SECRET_TWO: &str = "second application secret, also long";

fn cipher(keynum: u32, secret: &str) -> AppCipher {
    AppCipher::new(
        keynum,
        AppSecret::new(secret).expect("test secrets are long enough"),
    )
}

/// A cipher whose current key is 2, with key 1 still in the chain.
fn two_key_cipher() -> AppCipher {
    cipher(1, SECRET_ONE)
        .rotate(2, AppSecret::new(SECRET_TWO).expect("long enough"), NOW)
        .expect("rotation works")
        .cipher
}

fn split(text: &str) -> (&str, Vec<u8>) {
    let (keynum, data) = text.split_once(':').expect("has a key number");
    (keynum, STANDARD.decode(data).expect("valid base64"))
}

#[test]
fn bytes_round_trip() -> TestResult {
    let cipher = cipher(7, SECRET_ONE);
    let plaintext = b"\x00\x01binary\xff data";
    let text = cipher.encrypt(plaintext, NOW)?;
    assert_eq!(cipher.decrypt(&text)?, plaintext);
    Ok(())
}

#[test]
fn strings_round_trip() -> TestResult {
    let cipher = cipher(7, SECRET_ONE);
    for plaintext in ["secret", "ünïcödé ✓ 🔑", ""] {
        let text = cipher.encrypt_str(plaintext, NOW)?;
        assert_eq!(cipher.decrypt_str(&text)?, plaintext);
    }
    Ok(())
}

#[test]
fn empty_plaintext_round_trips_and_has_minimum_length() -> TestResult {
    let cipher = cipher(0, SECRET_ONE);
    let text = cipher.encrypt(b"", NOW)?;
    let (keynum, blob) = split(&text);
    assert_eq!(keynum, "0");
    assert_eq!(blob.len(), 12 + 16);
    assert_eq!(cipher.decrypt(&text)?, b"");
    Ok(())
}

#[test]
fn large_plaintext_round_trips() -> TestResult {
    let cipher = cipher(3, SECRET_ONE);
    let plaintext: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    let text = cipher.encrypt(&plaintext, NOW)?;
    assert_eq!(split(&text).1.len(), 12 + plaintext.len() + 16);
    assert_eq!(cipher.decrypt(&text)?, plaintext);
    Ok(())
}

#[test]
fn text_form_is_keynum_colon_padded_standard_base64() -> TestResult {
    let cipher = cipher(42, SECRET_ONE);
    let text = cipher.encrypt(b"hello", NOW)?;
    let (keynum, blob) = split(&text);
    assert_eq!(keynum, "42");
    assert_eq!(blob.len(), 12 + 5 + 16);
    // 33 bytes encode to 44 characters, with padding.
    assert_eq!(text.len(), "42:".len() + 44);
    assert_eq!(text, format!("42:{}", STANDARD.encode(&blob)));
    Ok(())
}

#[test]
fn nonces_are_fresh() -> TestResult {
    let cipher = cipher(1, SECRET_ONE);
    let a = cipher.encrypt(b"same", NOW)?;
    let b = cipher.encrypt(b"same", NOW)?;
    assert_ne!(a, b);
    assert_ne!(split(&a).1[..12], split(&b).1[..12]);
    Ok(())
}

#[test]
fn flipping_any_bit_of_the_blob_fails_authentication() -> TestResult {
    let cipher = cipher(5, SECRET_ONE);
    let text = cipher.encrypt(b"consumer secret", NOW)?;
    let (_, blob) = split(&text);
    for i in 0..blob.len() {
        for bit in 0..8 {
            let mut tampered = blob.clone();
            tampered[i] ^= 1 << bit;
            let tampered = format!("5:{}", STANDARD.encode(&tampered));
            assert_eq!(
                cipher.decrypt(&tampered),
                Err(CipherError::AuthenticationFailed(5)),
                "byte {i} bit {bit}"
            );
        }
    }
    Ok(())
}

#[test]
fn truncated_or_extended_blob_fails() -> TestResult {
    let cipher = cipher(5, SECRET_ONE);
    let (_, blob) = split(&cipher.encrypt(b"consumer secret", NOW)?);
    let shorter = format!("5:{}", STANDARD.encode(&blob[..blob.len() - 1]));
    assert_eq!(
        cipher.decrypt(&shorter),
        Err(CipherError::AuthenticationFailed(5))
    );
    let mut longer = blob.clone();
    longer.push(0);
    let longer = format!("5:{}", STANDARD.encode(&longer));
    assert_eq!(
        cipher.decrypt(&longer),
        Err(CipherError::AuthenticationFailed(5))
    );
    Ok(())
}

#[test]
fn relabelling_the_key_number_fails() -> TestResult {
    let cipher = two_key_cipher();
    // Written with key 1 (the switch-over is in the future) …
    let text = cipher.encrypt(b"consumer secret", NOW - 1)?;
    assert!(text.starts_with("1:"));
    assert_eq!(cipher.decrypt(&text)?, b"consumer secret");
    // … and relabelled as key 2, which the cipher also holds.
    let relabelled = text.replacen("1:", "2:", 1);
    assert_eq!(
        cipher.decrypt(&relabelled),
        Err(CipherError::AuthenticationFailed(2))
    );
    Ok(())
}

#[test]
fn the_key_number_is_bound_even_when_two_keys_share_a_secret() -> TestResult {
    // Same secret under numbers 1 and 2: only the associated data tells them
    // apart.
    let cipher = cipher(1, SECRET_ONE)
        .rotate(2, AppSecret::new(SECRET_ONE)?, NOW)?
        .cipher;
    let text = cipher.encrypt(b"consumer secret", NOW - 1)?;
    assert!(text.starts_with("1:"));
    let relabelled = text.replacen("1:", "2:", 1);
    assert_eq!(
        cipher.decrypt(&relabelled),
        Err(CipherError::AuthenticationFailed(2))
    );
    Ok(())
}

#[test]
fn unknown_key_number_is_a_typed_error() -> TestResult {
    let cipher = cipher(1, SECRET_ONE);
    let text = cipher.encrypt(b"x", NOW)?.replacen("1:", "9:", 1);
    assert_eq!(cipher.decrypt(&text), Err(CipherError::UnknownKey(9)));
    Ok(())
}

#[test]
fn same_number_other_secret_fails_authentication() -> TestResult {
    let text = cipher(1, SECRET_ONE).encrypt(b"x", NOW)?;
    assert_eq!(
        cipher(1, SECRET_TWO).decrypt(&text),
        Err(CipherError::AuthenticationFailed(1))
    );
    Ok(())
}

#[test]
fn bound_ciphertexts_only_open_with_their_binding() -> TestResult {
    let cipher = cipher(1, SECRET_ONE);
    let text = cipher.encrypt_bound(b"secret of consumer A", b"consumer-a", NOW)?;
    assert_eq!(
        cipher.decrypt_bound(&text, b"consumer-a")?,
        b"secret of consumer A"
    );
    assert_eq!(
        cipher.decrypt_bound(&text, b"consumer-b"),
        Err(CipherError::AuthenticationFailed(1))
    );
    assert_eq!(
        cipher.decrypt(&text),
        Err(CipherError::AuthenticationFailed(1))
    );
    // An empty binding is plain encryption.
    let plain = cipher.encrypt(b"p", NOW)?;
    assert_eq!(cipher.decrypt_bound(&plain, b"")?, b"p");
    Ok(())
}

#[test]
fn invalid_utf8_is_a_typed_error() -> TestResult {
    let cipher = cipher(1, SECRET_ONE);
    let text = cipher.encrypt(b"\xff\xfe not utf-8", NOW)?;
    assert_eq!(cipher.decrypt_str(&text), Err(CipherError::InvalidUtf8));
    assert_eq!(cipher.decrypt(&text)?, b"\xff\xfe not utf-8");
    Ok(())
}

#[test]
fn reencrypt_moves_data_to_the_write_key() -> TestResult {
    let cipher = two_key_cipher();
    let old = cipher.encrypt_bound(b"v", b"row", NOW - 1)?;
    assert!(old.starts_with("1:"));
    // Before the switch-over key 1 is still the write key: nothing to do.
    assert_eq!(cipher.reencrypt(&old, b"row", NOW - 1)?, None);
    let new = cipher
        .reencrypt(&old, b"row", NOW)?
        .ok_or("should re-encrypt")?;
    assert!(new.starts_with("2:"));
    assert_eq!(cipher.decrypt_bound(&new, b"row")?, b"v");
    assert_eq!(cipher.reencrypt(&new, b"row", NOW)?, None);
    assert!(cipher.reencrypt(&old, b"other row", NOW).is_err());
    Ok(())
}

#[test]
fn secrets_shorter_than_the_minimum_are_refused() {
    assert_eq!(MIN_APP_SECRET_LEN, 16);
    assert!(matches!(AppSecret::new(""), Err(AppSecretError::Empty)));
    assert!(matches!(
        AppSecret::new("secret"),
        Err(AppSecretError::TooShort { len: 6 })
    ));
    assert!(matches!(
        AppSecret::new([0u8; 15]),
        Err(AppSecretError::TooShort { len: 15 })
    ));
    assert!(AppSecret::new([0u8; 16]).is_ok());
    assert!(AppSecret::try_from(String::from("sixteen chars!!!")).is_ok());
    assert!(AppSecret::try_from(vec![7u8; 64]).is_ok());
    assert!(AppSecret::try_from(&b"short"[..]).is_err());
    assert!("sixteen chars!!!".parse::<AppSecret>().is_ok());
    // 16 bytes of UTF-8, 8 characters.
    assert!(AppSecret::try_from("é".repeat(8).as_str()).is_ok());
}

#[test]
fn debug_output_contains_no_key_material() -> TestResult {
    let secret = AppSecret::new(SECRET_ONE)?;
    assert_eq!(format!("{secret:?}"), "AppSecret(<redacted>)");
    assert_eq!(format!("{secret:#?}"), "AppSecret(<redacted>)");

    let rotation = cipher(1, SECRET_ONE).rotate(2, AppSecret::new(SECRET_TWO)?, NOW)?;
    let wrapped_data = rotation
        .record
        .wrapped
        .split_once(':')
        .ok_or("form")?
        .1
        .to_owned();
    for shown in [
        format!("{:?}", rotation.cipher),
        format!("{:#?}", rotation.cipher),
        format!("{rotation:?}"),
        format!("{:?}", rotation.record),
    ] {
        for secret in [SECRET_ONE, SECRET_TWO] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(!shown.contains(&hex(secret.as_bytes())), "{shown}");
            assert!(!shown.contains(&STANDARD.encode(secret)), "{shown}");
            // No fragment of it either.
            assert!(!shown.contains(&secret[..8]), "{shown}");
        }
        assert!(!shown.contains(&wrapped_data), "{shown}");
        // Nothing that looks like a key: no long run of hex or base64.
        let longest_run = shown
            .split(|c: char| !c.is_ascii_alphanumeric())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest_run < 16, "{shown}");
    }
    let shown = format!("{:?}", rotation.cipher);
    assert!(shown.contains("current_keynum: 2"), "{shown}");
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
