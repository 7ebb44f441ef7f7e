//! The parameters of an LTI 1.x launch and the LTI checks on them (spec
//! §5.4, L-1..L-3).
//!
//! [`LaunchParams`] keeps every parameter as sent, in order and with
//! duplicates (Canvas copies launch-URL query parameters into the body, field
//! survey §1c), and offers a typed accessor for each LTI 1.1 basic launch
//! parameter. Pyslet dropped blank values and joined repeated names with `,`
//! (QL-17); here the raw multimap is kept and the accessors treat a blank
//! value as absent (L-8 / QL-8).
//!
//! ```
//! use lti_core::{LaunchParams, Role};
//!
//! let params: LaunchParams = [
//!     ("lti_message_type", "basic-lti-launch-request"),
//!     ("lti_version", "LTI-1p0"),
//!     ("resource_link_id", "120988f929-274612"),
//!     ("roles", "Instructor"),
//!     ("lis_person_name_given", "Jane"),
//!     ("lis_person_name_family", "Public"),
//!     ("custom_Chapter", "3"),
//! ]
//! .into_iter()
//! .collect();
//!
//! params.check_basic_launch()?;
//! assert_eq!(params.resource_link_id(), Some("120988f929-274612"));
//! assert!(params.roles().has_role(&Role::INSTRUCTOR));
//! assert_eq!(params.display_name().as_deref(), Some("Jane Public"));
//! assert_eq!(params.custom("chapter"), Some("3"));
//! # Ok::<(), lti_core::LaunchError>(())
//! ```

mod accessors;
mod checks;
mod stored;
mod url;

use std::borrow::Cow;

pub use checks::*;
pub use stored::StoredParams;
pub use url::*;

/// All parameters of a launch, in the order sent, duplicates kept.
///
/// Build one from the decoded form body (and query string) with
/// [`LaunchParams::new`], [`From`] or [`FromIterator`]. Names are compared
/// exactly (LTI parameter names are case-sensitive), except by
/// [`custom`](Self::custom). Values are kept exactly as sent, including
/// CR/LF and surrounding spaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchParams {
    params: Vec<(String, String)>,
}

impl LaunchParams {
    /// Wraps decoded parameters.
    #[must_use]
    pub fn new(params: Vec<(String, String)>) -> Self {
        LaunchParams { params }
    }

    /// The first value of `name`, exactly as sent (possibly empty).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in the order sent.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.params
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name` that is not blank (empty or whitespace
    /// only), as sent. The typed accessors use this: a blank value counts
    /// as absent (L-8 / QL-8).
    #[must_use]
    pub fn get_nonblank(&self, name: &str) -> Option<&str> {
        first_nonblank(&self.params, name)
    }

    /// Whether `name` was sent at all (even blank).
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.params.iter().any(|(n, _)| n == name)
    }

    /// Every parameter as `(name, value)`, in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of parameters, counting duplicates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether there are no parameters.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The parameters, as sent.
    #[must_use]
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.params
    }

    /// The parameters without `oauth_signature`: what is worth keeping with
    /// a visit (QL-17).
    #[must_use]
    pub fn without_signature(mut self) -> Self {
        self.params.retain(|(n, _)| n != "oauth_signature");
        self
    }

    /// The value of the custom parameter `name` (LTI 1.1 §3, custom
    /// parameters), or `None` when absent or blank.
    ///
    /// Consumers send a custom parameter `Chapter` as `custom_chapter`: LTI
    /// 1.1 lower-cases the name and replaces every character that is not a
    /// letter or digit with `_`. Some (Moodle with `$tolower` off) keep the
    /// case. So `name` is mapped the same way and compared ignoring ASCII
    /// case: `custom("Chapter")` finds `custom_chapter` and `custom_Chapter`,
    /// `custom("due-date")` finds `custom_due_date`. Pass the name without
    /// the `custom_` prefix.
    ///
    /// ```
    /// use lti_core::LaunchParams;
    ///
    /// let params: LaunchParams = [("custom_due_date", "2024-05-01")].into_iter().collect();
    /// assert_eq!(params.custom("Due-Date"), Some("2024-05-01"));
    /// assert_eq!(params.custom("due"), None);
    /// ```
    #[must_use]
    pub fn custom(&self, name: &str) -> Option<&str> {
        self.params.iter().find_map(|(n, v)| {
            let suffix = strip_prefix_ignore_ascii_case(n, "custom_")?;
            (custom_names_match(suffix, name) && !is_blank(v)).then_some(v.as_str())
        })
    }

    /// The `custom_*` parameters as `(full name, value)`, in the order sent.
    pub fn custom_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.with_prefix("custom_")
    }

    /// The `ext_*` (vendor extension) parameters as `(full name, value)`, in
    /// the order sent.
    pub fn ext_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.with_prefix("ext_")
    }

    /// The `custom_*` and `ext_*` parameters as `(full name, value)`, in the
    /// order sent: what a tool usually shows or stores besides the standard
    /// fields.
    pub fn custom_and_ext_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter().filter(|(n, _)| {
            strip_prefix_ignore_ascii_case(n, "custom_").is_some()
                || strip_prefix_ignore_ascii_case(n, "ext_").is_some()
        })
    }

    fn with_prefix<'a>(&'a self, prefix: &'static str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.iter()
            .filter(move |(n, _)| strip_prefix_ignore_ascii_case(n, prefix).is_some())
    }

    /// A name to greet the user by (spec §6.4): `lis_person_name_full`, else
    /// `"<given> <family>"`, else the given name, else the family name, else
    /// `lis_person_contact_email_primary`. Blank values count as absent, so
    /// the fallbacks work (QL-8). Pyslet skipped a lone family name; showing
    /// it beats showing an e-mail address.
    #[must_use]
    pub fn display_name(&self) -> Option<Cow<'_, str>> {
        let given = self.lis_person_name_given();
        let family = self.lis_person_name_family();
        if let Some(full) = self.lis_person_name_full() {
            return Some(Cow::Borrowed(full));
        }
        match (given, family) {
            (Some(given), Some(family)) => Some(Cow::Owned(format!("{given} {family}"))),
            (Some(name), None) | (None, Some(name)) => Some(Cow::Borrowed(name)),
            (None, None) => self.lis_person_contact_email_primary().map(Cow::Borrowed),
        }
    }
}

impl From<Vec<(String, String)>> for LaunchParams {
    fn from(params: Vec<(String, String)>) -> Self {
        LaunchParams::new(params)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for LaunchParams {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        LaunchParams::new(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Empty or whitespace only.
/// [`LaunchParams::get_nonblank`] on parameters not (yet) wrapped.
fn first_nonblank<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, v)| n == name && !is_blank(v))
        .map(|(_, v)| v.as_str())
}

fn is_blank(value: &str) -> bool {
    value.trim().is_empty()
}

fn strip_prefix_ignore_ascii_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Compares a sent custom-parameter suffix with a requested name after the
/// LTI 1.1 mapping (ASCII letters and digits kept, ignoring case; every
/// other character counts as `_`).
fn custom_names_match(sent: &str, requested: &str) -> bool {
    fn fold(c: char) -> char {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        }
    }
    !requested.is_empty() && sent.chars().map(fold).eq(requested.chars().map(fold))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> LaunchParams {
        pairs.iter().copied().collect()
    }

    #[test]
    fn multimap_keeps_order_and_duplicates() {
        let p = params(&[("a", "1"), ("b", ""), ("a", "2")]);
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(p.get("b"), Some(""));
        assert_eq!(p.get_nonblank("b"), None);
        assert!(p.contains("b"));
        assert!(!p.contains("A"));
        assert_eq!(p.len(), 3);
        assert_eq!(p.clone().into_vec()[2], ("a".to_owned(), "2".to_owned()));
    }

    #[test]
    fn first_nonblank_duplicate_wins() {
        let p = params(&[
            ("context_id", " "),
            ("context_id", "c1"),
            ("context_id", "c2"),
        ]);
        assert_eq!(p.context_id(), Some("c1"));
    }

    #[test]
    fn custom_lookup() {
        let p = params(&[
            ("custom_Chapter", "3"),
            ("custom_review_chapter", ""),
            ("custom_review_chapter", "1.2"),
            ("ext_lms", "moodle-2"),
            ("Custom_Mixed", "x"),
        ]);
        assert_eq!(p.custom("chapter"), Some("3"));
        assert_eq!(p.custom("CHAPTER"), Some("3"));
        assert_eq!(p.custom("review.chapter"), Some("1.2"));
        assert_eq!(p.custom("mixed"), Some("x"));
        assert_eq!(p.custom(""), None);
        assert_eq!(p.custom("lms"), None);
        assert_eq!(p.custom_params().count(), 4);
        assert_eq!(
            p.ext_params().collect::<Vec<_>>(),
            [("ext_lms", "moodle-2")]
        );
        assert_eq!(p.custom_and_ext_params().count(), 5);
    }

    #[test]
    fn display_name_fallbacks() {
        let full = params(&[
            ("lis_person_name_full", "Jane Q. Public"),
            ("lis_person_name_given", "Jane"),
        ]);
        assert_eq!(full.display_name().as_deref(), Some("Jane Q. Public"));
        let blank_full = params(&[
            ("lis_person_name_full", ""),
            ("lis_person_name_given", "Jane"),
            ("lis_person_name_family", "Public"),
        ]);
        assert_eq!(blank_full.display_name().as_deref(), Some("Jane Public"));
        let given = params(&[
            ("lis_person_name_given", "Jane"),
            ("lis_person_contact_email_primary", "j@x"),
        ]);
        assert_eq!(given.display_name().as_deref(), Some("Jane"));
        let family = params(&[("lis_person_name_family", "Public")]);
        assert_eq!(family.display_name().as_deref(), Some("Public"));
        let email = params(&[
            ("lis_person_name_given", " "),
            ("lis_person_contact_email_primary", "j@x"),
        ]);
        assert_eq!(email.display_name().as_deref(), Some("j@x"));
        assert_eq!(params(&[]).display_name(), None);
    }

    #[test]
    fn without_signature_drops_only_the_signature() {
        let p = params(&[
            ("oauth_signature", "abc="),
            ("oauth_nonce", "n"),
            ("user_id", "u"),
        ]);
        let kept = p.without_signature();
        assert_eq!(kept.get("oauth_signature"), None);
        assert_eq!(kept.len(), 2);
    }
}
