//! [`StoredParams`]: the launch parameters a visit keeps, as stored.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::RoleList;

/// The launch parameters stored with a visit (all but the OAuth signature,
/// in order, duplicates kept), in their stored form: a JSON array of
/// `[name, value]` pairs.
///
/// A page view reads its visit on every request, and most pages never look
/// at the launch parameters, or only at the roles. So the stored text is
/// kept as it is and decoded when first asked for ([`pairs`](Self::pairs)),
/// once; [`roles`](Self::roles) finds its one value without building the
/// list. A text that does not decode (no store writes one) gives an empty
/// list.
///
/// ```
/// use lti_core::StoredParams;
///
/// let pairs = vec![
///     ("roles".to_owned(), "Instructor".to_owned()),
///     ("custom_x".to_owned(), "a \"quoted\" value".to_owned()),
/// ];
/// let stored = StoredParams::encode(&pairs);
/// assert_eq!(StoredParams::from_json(stored.json().to_owned()).pairs(), pairs);
/// assert_eq!(stored.roles().roles().len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct StoredParams {
    json: String,
    pairs: OnceLock<Vec<(String, String)>>,
}

impl StoredParams {
    /// The stored form of `pairs`.
    #[must_use]
    pub fn encode(pairs: &[(String, String)]) -> Self {
        // Serialising strings into a string cannot fail.
        let json = serde_json::to_string(pairs).unwrap_or_else(|_| "[]".to_owned());
        Self::from_json(json)
    }

    /// Parameters as read back from the database.
    #[must_use]
    pub fn from_json(json: String) -> Self {
        Self {
            json,
            pairs: OnceLock::new(),
        }
    }

    /// The stored text.
    #[must_use]
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Every parameter, decoded on first use.
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        self.pairs
            .get_or_init(|| serde_json::from_str(&self.json).unwrap_or_default())
    }

    /// The first value of `name` that is not blank, as
    /// [`LaunchParams`](crate::LaunchParams)' accessors read it.
    ///
    /// Before the list is decoded, this looks for the pair in the text
    /// itself: in the compact JSON the stores write, `["roles",` can only be
    /// the start of a pair named `roles` (a `"` inside a string is always
    /// escaped), so only the values of that name are decoded.
    #[must_use]
    pub fn first_nonblank(&self, name: &str) -> Option<String> {
        if let Some(pairs) = self.pairs.get() {
            return super::first_nonblank(pairs, name).map(str::to_owned);
        }
        let quoted = serde_json::to_string(name).ok()?;
        let opening = format!("[{quoted},");
        self.json.match_indices(&opening).find_map(|(at, _)| {
            let rest = self.json.get(at + opening.len()..)?;
            let mut value = serde_json::Deserializer::from_str(rest);
            let value = Cow::<str>::deserialize(&mut value).ok()?;
            (!super::is_blank(&value)).then(|| value.into_owned())
        })
    }

    /// The launch's roles (the `roles` parameter), as
    /// [`LaunchParams::roles`](crate::LaunchParams::roles) parses them.
    #[must_use]
    pub fn roles(&self) -> RoleList {
        RoleList::parse(self.first_nonblank("roles").as_deref().unwrap_or_default())
    }
}

impl PartialEq for StoredParams {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json || self.pairs() == other.pairs()
    }
}

impl Eq for StoredParams {}

impl fmt::Debug for StoredParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.pairs()).finish()
    }
}

impl From<Vec<(String, String)>> for StoredParams {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let stored = Self::encode(&pairs);
        let _ = stored.pairs.set(pairs);
        stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_stored_text_round_trips_with_escapes_duplicates_and_order() {
        let list = pairs(&[
            ("b", "line\nbreak \u{e9} \"q\" \\ /"),
            ("a", ""),
            ("b", "second"),
        ]);
        let stored = StoredParams::encode(&list);
        assert!(stored.json().starts_with("[[\"b\","), "{}", stored.json());
        let back = StoredParams::from_json(stored.json().to_owned());
        assert_eq!(back.pairs(), list);
        assert_eq!(back, StoredParams::from(list));
    }

    #[test]
    fn roles_are_found_without_decoding_the_list() {
        let stored = StoredParams::encode(&pairs(&[
            ("roles", "  "),
            ("user_id", "u"),
            ("roles", "urn:lti:role:ims/lis/Instructor,Learner"),
        ]));
        let fresh = StoredParams::from_json(stored.json().to_owned());
        let roles = fresh.roles();
        assert!(roles.has_role(&Role::INSTRUCTOR), "{roles:?}");
        assert!(roles.has_role(&Role::LEARNER), "{roles:?}");
        assert!(fresh.pairs.get().is_none(), "roles alone decoded the list");
        // A value that looks like a pair is not one.
        let tricky = StoredParams::encode(&pairs(&[
            ("custom_x", "[\"roles\",\"Instructor\"]"),
            ("roles", "Learner"),
        ]));
        let tricky = StoredParams::from_json(tricky.json().to_owned());
        assert!(!tricky.roles().has_role(&Role::INSTRUCTOR));
        assert!(tricky.roles().has_role(&Role::LEARNER));
        assert_eq!(
            tricky.first_nonblank("custom_x").as_deref(),
            Some("[\"roles\",\"Instructor\"]")
        );
        assert_eq!(fresh.first_nonblank("user_id").as_deref(), Some("u"));
        assert_eq!(fresh.first_nonblank("missing"), None);
        // Once decoded, the list answers.
        assert_eq!(fresh.pairs().len(), 3);
        assert_eq!(fresh.roles(), roles);
    }

    #[test]
    fn a_text_that_does_not_decode_is_no_parameters() {
        for text in [
            "",
            "{",
            "[[\"b\"]]",
            "[[1,2]]",
            "{\"a\":\"b\"}",
            "[[\"a\",1]]",
        ] {
            let stored = StoredParams::from_json(text.to_owned());
            assert!(stored.pairs().is_empty(), "{text}");
            assert_eq!(stored.first_nonblank("a"), None, "{text}");
            assert!(stored.roles().roles().is_empty(), "{text}");
        }
    }
}
