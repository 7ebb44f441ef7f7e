//! Helpers for this crate's unit tests.

use lti_core::{AppCipher, AppSecret};

pub(crate) fn cipher_with_secret(secret: &str) -> AppCipher {
    AppCipher::new(
        1,
        AppSecret::new(secret).expect("test secrets are long enough"),
    )
}

pub(crate) fn cipher() -> AppCipher {
    cipher_with_secret("a test application secret, long enough")
}
