//! The notice form: what was submitted, and the checks it must pass before
//! anything is stored (spec QN-9: Pyslet stored whatever came).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum_lti::LtiRejection;
use http::request::Parts;

/// The longest title, in characters (spec §7.3: `String(64)`).
pub const TITLE_MAX: usize = 64;
/// The longest description, in characters (spec §7.3: `String(256)`).
pub const DESCRIPTION_MAX: usize = 256;

/// The fields as submitted: kept as they are to re-show the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct NoticeInput {
    /// The title field.
    #[serde(default)]
    pub title: String,
    /// The description field.
    #[serde(default)]
    pub description: String,
}

/// What is wrong with each field, in words for the person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    /// About the title.
    pub title: Option<String>,
    /// About the description.
    pub description: Option<String>,
}

impl FieldErrors {
    /// True when every field is fine.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none()
    }
}

/// A notice's fields that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedNotice {
    /// Trimmed, 1 to 64 characters, one line.
    pub title: String,
    /// Trimmed, line breaks as `\n`, 1 to 256 characters; `None` when blank
    /// (absent values are NULL, never `''`).
    pub description: Option<String>,
}

impl NoticeInput {
    /// Checks the fields: a title of 1 to 64 characters on one line, an
    /// optional description of up to 256 characters. Lengths count
    /// characters (Unicode scalar values), after trimming and with `\r\n`
    /// counted as one line break, as a browser's `maxlength` does.
    pub fn check(&self) -> Result<CheckedNotice, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = self.title.trim();
        let title_len = title.chars().count();
        if title.is_empty() {
            errors.title = Some("Enter a title.".into());
        } else if title_len > TITLE_MAX {
            errors.title = Some(format!(
                "The title is {title_len} characters long; it can have at most {TITLE_MAX}."
            ));
        } else if title.chars().any(char::is_control) {
            errors.title = Some("The title must be a single line of text.".into());
        }
        let description = self.description.replace("\r\n", "\n").replace('\r', "\n");
        let description = description.trim();
        let description_len = description.chars().count();
        if description_len > DESCRIPTION_MAX {
            errors.description = Some(format!(
                "The description is {description_len} characters long; it can have at most \
                 {DESCRIPTION_MAX}."
            ));
        } else if description
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
        {
            errors.description =
                Some("The description contains characters that are not text.".into());
        }
        if errors.is_empty() {
            Ok(CheckedNotice {
                title: title.to_owned(),
                description: (!description.is_empty()).then(|| description.to_owned()),
            })
        } else {
            Err(errors)
        }
    }
}

/// Extracts the form body; a body that is not a form, or a malformed one,
/// is refused with the framework's pages (415, 400) rather than axum's
/// plain text.
impl<S: Send + Sync> FromRequest<S> for NoticeInput {
    type Rejection = LtiRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let found = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .to_owned();
        match Form::<NoticeInput>::from_request(request, state).await {
            Ok(Form(input)) => Ok(input),
            Err(FormRejection::InvalidFormContentType(_)) => {
                Err(LtiRejection::UnsupportedMediaType {
                    expected: "application/x-www-form-urlencoded",
                    found,
                })
            }
            Err(other) => Err(LtiRejection::BadRequest(format!(
                "The form could not be read: {}",
                other.body_text()
            ))),
        }
    }
}

/// The `id` query parameter of the edit and delete pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdParam(pub crate::NoticeId);

impl<S: Send + Sync> FromRequestParts<S> for IdParam {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let Some(id) = form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "id")
            .map(|(_, value)| value.into_owned())
        else {
            return Err(LtiRejection::BadRequest(
                "This page needs the id of a notice (?id=…).".into(),
            ));
        };
        parse_id(&id)
            .map(|id| Self(crate::NoticeId(id)))
            .ok_or_else(|| LtiRejection::BadRequest(format!("{id:?} is not the id of a notice.")))
    }
}

/// A notice id: decimal digits only, a positive `i64`.
fn parse_id(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&id| id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, description: &str) -> NoticeInput {
        NoticeInput {
            title: title.into(),
            description: description.into(),
        }
    }

    #[test]
    fn good_input_is_trimmed_and_blank_descriptions_are_none() {
        let checked = input("  Exam moved  ", " \r\n ").check().expect("valid");
        assert_eq!(checked.title, "Exam moved");
        assert_eq!(checked.description, None);
        let checked = input("T", "line 1\r\nline 2").check().expect("valid");
        assert_eq!(checked.description.as_deref(), Some("line 1\nline 2"));
    }

    #[test]
    fn lengths_count_characters() {
        assert!(input(&"é".repeat(64), &"ü".repeat(256)).check().is_ok());
        let errors = input(&"é".repeat(65), &"ü".repeat(257))
            .check()
            .expect_err("too long");
        assert!(errors.title.as_deref().is_some_and(|e| e.contains("65")));
        assert!(
            errors
                .description
                .as_deref()
                .is_some_and(|e| e.contains("257"))
        );
        // A CRLF is one line break, as the browser counted it.
        let crlf = format!("{}\r\n{}", "a".repeat(127), "b".repeat(128));
        assert!(input("T", &crlf).check().is_ok());
    }

    #[test]
    fn titles_are_required_and_on_one_line() {
        assert_eq!(
            input("   ", "")
                .check()
                .expect_err("blank")
                .title
                .as_deref(),
            Some("Enter a title.")
        );
        assert!(input("a\nb", "").check().is_err());
        assert!(input("T", "bell \u{7}").check().is_err());
    }

    #[test]
    fn ids_are_positive_decimal_integers() {
        assert_eq!(parse_id("42"), Some(42));
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1L",
            "0x10",
            "99999999999999999999",
            " 1",
        ] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }
}
