//! The admin console's forms and their validation (spec QN-3, QN-9: limits
//! are checked before anything is stored, and blank key or secret means
//! "generate one", never an empty value).

use serde::Deserialize;

/// Longest consumer handle, in characters (Pyslet's column: 64).
pub(crate) const MAX_HANDLE_CHARS: usize = 64;
/// Longest consumer key, in characters.
pub(crate) const MAX_KEY_CHARS: usize = 256;
/// Shortest consumer secret an owner may choose, in characters.
pub(crate) const MIN_SECRET_CHARS: usize = 12;
/// Longest consumer secret, in characters.
pub(crate) const MAX_SECRET_CHARS: usize = 256;

/// The login form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    pub(crate) email: String,
    pub(crate) password: String,
}

/// The add-consumer form: blank key or secret are generated.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ConsumerForm {
    pub(crate) handle: String,
    pub(crate) key: String,
    pub(crate) secret: String,
}

/// The edit-handle form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct HandleForm {
    pub(crate) handle: String,
}

/// The new-secret form: blank is generated.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SecretForm {
    pub(crate) secret: String,
}

/// The enable/disable form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EnabledForm {
    pub(crate) enabled: String,
}

impl EnabledForm {
    /// `Some(true)` for `true`/`1`/`on`, `Some(false)` for
    /// `false`/`0`/`off`, `None` for anything else.
    pub(crate) fn value(&self) -> Option<bool> {
        match self.enabled.trim() {
            "true" | "1" | "on" => Some(true),
            "false" | "0" | "off" => Some(false),
            _ => None,
        }
    }
}

/// A validation error tied to a form field (the field's element id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: &'static str,
    pub(crate) message: String,
}

/// The errors of one form, in field order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldErrors(pub(crate) Vec<FieldError>);

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// Keeps `result`'s value, or records its error against `field`.
    pub(crate) fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if any (for `aria-describedby`).
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }
}

/// A handle: trimmed, 1 to 64 characters, no control characters.
pub(crate) fn handle(text: &str) -> Result<String, String> {
    let handle = text.trim();
    let chars = handle.chars().count();
    if chars == 0 {
        return Err("Give the consumer a name (its handle).".into());
    }
    if chars > MAX_HANDLE_CHARS {
        return Err(format!(
            "The handle must have at most {MAX_HANDLE_CHARS} characters (it has {chars})."
        ));
    }
    if handle.chars().any(char::is_control) {
        return Err("The handle must not contain control characters.".into());
    }
    Ok(handle.to_owned())
}

/// A consumer key, or `None` (generate one) when blank: 1 to 256
/// printable ASCII characters without spaces.
pub(crate) fn key(text: &str) -> Result<Option<String>, String> {
    let key = text.trim();
    if key.is_empty() {
        return Ok(None);
    }
    let chars = key.chars().count();
    if chars > MAX_KEY_CHARS {
        return Err(format!(
            "The key must have at most {MAX_KEY_CHARS} characters (it has {chars})."
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "The key may only contain printable ASCII characters (letters, digits, \
             punctuation), without spaces."
                .into(),
        );
    }
    Ok(Some(key.to_owned()))
}

/// A consumer secret, or `None` (generate one) when blank: 12 to 256
/// characters, no control characters.
pub(crate) fn secret(text: &str) -> Result<Option<String>, String> {
    let secret = text.trim();
    if secret.is_empty() {
        return Ok(None);
    }
    let chars = secret.chars().count();
    if chars < MIN_SECRET_CHARS {
        return Err(format!(
            "A secret must have at least {MIN_SECRET_CHARS} characters (it has {chars}); \
             leave it blank to have one generated."
        ));
    }
    if chars > MAX_SECRET_CHARS {
        return Err(format!(
            "A secret must have at most {MAX_SECRET_CHARS} characters (it has {chars})."
        ));
    }
    if secret.chars().any(char::is_control) {
        return Err("The secret must not contain control characters.".into());
    }
    Ok(Some(secret.to_owned()))
}

/// A generated key or secret: 128 random bits in the `generate_key`
/// format (spec §8.1).
pub(crate) fn generate() -> Result<String, String> {
    lti_core::generate_key(lti_core::DEFAULT_KEY_BITS).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert_eq!(handle("  Moodle  ").as_deref(), Ok("Moodle"));
        assert!(handle("").is_err());
        assert!(handle("   ").is_err());
        assert!(handle(&"h".repeat(64)).is_ok());
        assert!(handle(&"h".repeat(65)).is_err_and(|e| e.contains("at most 64")));
        assert!(handle(&"é".repeat(64)).is_ok(), "characters, not bytes");
        assert!(handle("a\u{7}b").is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(key(""), Ok(None));
        assert_eq!(key("  "), Ok(None));
        assert_eq!(key(" abc.DEF-123_~! "), Ok(Some("abc.DEF-123_~!".into())));
        assert!(key("a b").is_err());
        assert!(key("clé").is_err());
        assert!(key("a\tb").is_err());
        assert!(key(&"k".repeat(256)).is_ok());
        assert!(key(&"k".repeat(257)).is_err());
    }

    #[test]
    fn secrets() {
        assert_eq!(secret(""), Ok(None));
        assert!(secret("short").is_err_and(|e| e.contains("at least 12")));
        assert_eq!(
            secret("a long secret value"),
            Ok(Some("a long secret value".to_owned()))
        );
        assert!(secret(&"s".repeat(257)).is_err());
    }

    #[test]
    fn enabled_values() {
        let form = |v: &str| EnabledForm {
            enabled: v.to_owned(),
        };
        assert_eq!(form("true").value(), Some(true));
        assert_eq!(form("0").value(), Some(false));
        assert_eq!(form("maybe").value(), None);
    }

    #[test]
    fn generated_values_pass_the_rules() {
        let value = generate().expect("randomness");
        assert!(matches!(key(&value), Ok(Some(_))));
        assert!(matches!(secret(&value), Ok(Some(_))));
    }
}
