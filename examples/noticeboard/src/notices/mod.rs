//! The `notices` table: [`Notices`], one backend module per database with
//! the same function names (STYLE.md "SQL"), reached through the pools of
//! the framework's [`Db`].

mod postgres;
mod sqlite;

use std::fmt;

use axum::extract::FromRequestParts;
use axum_lti::core::{ContextKey, StoreError, UserKey};
use axum_lti::{LtiRejection, LtiState};
use http::request::Parts;
use lti_store::Db;

/// A notice's id (in URLs as `?id=<decimal>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoticeId(pub i64);

impl fmt::Display for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A stored notice, with its author's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its id.
    pub id: NoticeId,
    /// The context (course) it was posted in.
    pub context: ContextKey,
    /// Its author.
    pub author: UserKey,
    /// The author's name for display (see [`display_name`]).
    pub author_name: String,
    /// 1 to 64 characters.
    pub title: String,
    /// 1 to 256 characters, or none.
    pub description: Option<String>,
    /// When it was posted (unix seconds).
    pub created: i64,
    /// When it was last changed (unix seconds); `created` until edited.
    pub updated: i64,
}

/// A notice to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice<'a> {
    /// The context to post in.
    pub context: ContextKey,
    /// The author.
    pub author: UserKey,
    /// The checked title.
    pub title: &'a str,
    /// The checked description.
    pub description: Option<&'a str>,
    /// The time (unix seconds), for both `created` and `updated`.
    pub now: i64,
}

/// A row of the notice queries (same columns on both backends).
#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: i64,
    context_key: i64,
    user_key: i64,
    title: String,
    description: Option<String>,
    created: i64,
    updated: i64,
    given_name: Option<String>,
    family_name: Option<String>,
    full_name: Option<String>,
    email: Option<String>,
}

impl From<NoticeRow> for Notice {
    fn from(row: NoticeRow) -> Self {
        let author_name = display_name(
            row.full_name.as_deref(),
            row.given_name.as_deref(),
            row.family_name.as_deref(),
            row.email.as_deref(),
        );
        Self {
            id: NoticeId(row.id),
            context: ContextKey(row.context_key),
            author: UserKey(row.user_key),
            author_name,
            title: row.title,
            description: row.description,
            created: row.created,
            updated: row.updated,
        }
    }
}

/// A person's name for display, as the framework's `Visit::display_name`
/// computes it (spec §6.4): full name, else given and family name, else
/// given name, else email, else `"Unnamed user"`.
pub fn display_name(
    full: Option<&str>,
    given: Option<&str>,
    family: Option<&str>,
    email: Option<&str>,
) -> String {
    fn nonempty(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|s| !s.is_empty())
    }
    if let Some(full) = nonempty(full) {
        return full.to_owned();
    }
    match (nonempty(given), nonempty(family)) {
        (Some(given), Some(family)) => format!("{given} {family}"),
        (Some(given), None) => given.to_owned(),
        _ => nonempty(email).unwrap_or("Unnamed user").to_owned(),
    }
}

/// One mapping from sqlx errors to the framework's store errors, so that
/// `?` in a handler answers 503 (try again) or 500 as the framework does.
fn store_error(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

/// The notices of the tool's database; also an extractor, from the
/// database the framework opened ([`LtiState::db`]).
#[derive(Clone, Debug)]
pub struct Notices {
    db: Db,
}

/// Calls the same-named function of the backend in use.
macro_rules! dispatch {
    ($self:ident . $function:ident ( $($arg:expr),* )) => {
        if let Some(pool) = $self.db.sqlite_pool() {
            sqlite::$function(pool, $($arg),*).await.map_err(store_error)
        } else if let Some(pool) = $self.db.postgres_pool() {
            postgres::$function(pool, $($arg),*).await.map_err(store_error)
        } else {
            Err(StoreError::Backend("the database has no pool of a known backend".into()))
        }
    };
}

impl Notices {
    /// The notices of this database (migrated with
    /// [`MIGRATIONS`](crate::MIGRATIONS)).
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// A context's notices, most recently updated first (spec §10.2).
    pub async fn list(&self, context: ContextKey) -> Result<Vec<Notice>, StoreError> {
        let rows = dispatch!(self.list_notices(context.0))?;
        Ok(rows.into_iter().map(Notice::from).collect())
    }

    /// The notice with this id, if it is in this context: a notice of
    /// another context is not found.
    pub async fn find(
        &self,
        context: ContextKey,
        id: NoticeId,
    ) -> Result<Option<Notice>, StoreError> {
        let row = dispatch!(self.find_notice(context.0, id.0))?;
        Ok(row.map(Notice::from))
    }

    /// Posts a notice; returns its id.
    pub async fn insert(&self, notice: &NewNotice<'_>) -> Result<NoticeId, StoreError> {
        dispatch!(self.insert_notice(notice)).map(NoticeId)
    }

    /// Changes the title and description of a notice of this context and
    /// author; false when there is none (deleted meanwhile).
    pub async fn update(
        &self,
        context: ContextKey,
        id: NoticeId,
        author: UserKey,
        title: &str,
        description: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let changed =
            dispatch!(self.update_notice(context.0, id.0, author.0, title, description, now))?;
        Ok(changed > 0)
    }

    /// Deletes a notice of this context; false when there is none.
    pub async fn delete(&self, context: ContextKey, id: NoticeId) -> Result<bool, StoreError> {
        let deleted = dispatch!(self.delete_notice(context.0, id.0))?;
        Ok(deleted > 0)
    }

    /// How many notices the database holds, in every context.
    pub async fn count_all(&self) -> Result<i64, StoreError> {
        dispatch!(self.count_notices())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Notices {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lti = LtiState::from_request_parts(parts, state).await?;
        let db = lti.db().ok_or_else(|| {
            LtiRejection::Internal(
                "the noticeboard needs the database itself: build the tool with \
                 noticeboard::configure and let the framework open the database (or with_db)"
                    .into(),
            )
        })?;
        Ok(Self::new(db.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_fall_back_in_order() {
        assert_eq!(
            display_name(Some("Ada L."), Some("Ada"), Some("Lovelace"), None),
            "Ada L."
        );
        assert_eq!(
            display_name(Some(" "), Some("Ada"), Some("Lovelace"), None),
            "Ada Lovelace"
        );
        assert_eq!(display_name(None, Some("Ada"), None, None), "Ada");
        assert_eq!(
            display_name(None, None, Some("Lovelace"), Some("ada@example.edu")),
            "ada@example.edu"
        );
        assert_eq!(display_name(None, None, None, None), "Unnamed user");
    }
}
