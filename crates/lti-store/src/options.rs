//! Opening options and database URLs.

use std::fmt;
use std::time::Duration;

use lti_core::{StoreError, StoreResult};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite: `sqlite:path`, `sqlite://path` or `sqlite::memory:`.
    Sqlite,
    /// PostgreSQL: `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// The backend a database URL names, from its scheme.
    ///
    /// ```
    /// use lti_store::Backend;
    /// assert_eq!(Backend::from_url("sqlite::memory:").ok(), Some(Backend::Sqlite));
    /// assert_eq!(Backend::from_url("postgresql://db/lti").ok(), Some(Backend::Postgres));
    /// assert!(Backend::from_url("mysql://db/lti").is_err());
    /// ```
    pub fn from_url(url: &str) -> StoreResult<Self> {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(StoreError::Invalid(format!(
                "unsupported database URL {:?}: expected sqlite:PATH, sqlite::memory: or \
                 postgres://…",
                redact_url(url)
            ))),
        }
    }

    /// A short lower-case name: `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A URL with any password replaced by `***`, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Pool sizes, timeouts and start-up behaviour of a store.
///
/// Every value has a default suited to one tool instance; change them with
/// the `with_*` methods.
///
/// ```
/// use std::time::Duration;
/// use lti_store::StoreOptions;
///
/// let options = StoreOptions::new()
///     .with_max_connections(20)
///     .with_acquire_timeout(Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    pub(crate) max_connections: Option<u32>,
    pub(crate) acquire_timeout: Duration,
    pub(crate) busy_timeout: Duration,
    pub(crate) idle_in_transaction_timeout: Duration,
    pub(crate) migrate: bool,
    pub(crate) search_path: Option<String>,
    pub(crate) application_name: Option<String>,
}

/// Default pool size of a SQLite file database: one writer at a time, the
/// rest read concurrently under WAL.
pub const DEFAULT_SQLITE_MAX_CONNECTIONS: u32 = 8;
/// Default pool size of a PostgreSQL database (per instance; mind the
/// server's `max_connections` when running several instances).
pub const DEFAULT_POSTGRES_MAX_CONNECTIONS: u32 = 10;

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
            idle_in_transaction_timeout: Duration::from_secs(30),
            migrate: true,
            search_path: None,
            application_name: None,
        }
    }
}

impl StoreOptions {
    /// The defaults: pool of [`DEFAULT_SQLITE_MAX_CONNECTIONS`] or
    /// [`DEFAULT_POSTGRES_MAX_CONNECTIONS`], 10 s acquire timeout, 5 s
    /// SQLite busy timeout, 30 s PostgreSQL
    /// `idle_in_transaction_session_timeout`, migrations run at open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Most connections the store opens. On PostgreSQL half go to sqlx's
    /// pool and half to the launch and page-view statements (at least one
    /// each, so one means two). On SQLite it is the size of sqlx's pool and
    /// how many idle direct read connections are kept; an in-memory
    /// database's pool always has one. Zero is taken as one.
    #[must_use]
    pub fn with_max_connections(mut self, max: u32) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// How long an operation waits for a free connection before failing with
    /// [`StoreError::Unavailable`].
    #[must_use]
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// SQLite: how long a statement waits for another connection's write lock
    /// before failing with [`StoreError::Unavailable`].
    #[must_use]
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// PostgreSQL: the server ends any of our sessions that sits inside a
    /// transaction without a statement for this long
    /// (`idle_in_transaction_session_timeout`), releasing its locks. A
    /// last-resort guard against a connection stuck in a transaction; zero
    /// turns it off.
    #[must_use]
    pub fn with_idle_in_transaction_timeout(mut self, timeout: Duration) -> Self {
        self.idle_in_transaction_timeout = timeout;
        self
    }

    /// Whether [`open`](crate::open) applies pending migrations (default
    /// true). When false, run [`Db::migrate`](crate::Db::migrate) yourself.
    #[must_use]
    pub fn with_migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// PostgreSQL: the `search_path` of every connection, so the tables live
    /// in (and are created in) the first schema named. The schema must
    /// exist. Used by the tests to give each test its own schema.
    #[must_use]
    pub fn with_search_path(mut self, search_path: impl Into<String>) -> Self {
        self.search_path = Some(search_path.into());
        self
    }

    /// PostgreSQL: the `application_name` the connections report (shown in
    /// `pg_stat_activity`); default `lti-store`.
    #[must_use]
    pub fn with_application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = Some(name.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        for url in [
            "sqlite:lti.db",
            "sqlite://lti.db",
            "sqlite:///var/lib/lti.db",
            "sqlite::memory:",
            "SQLITE::memory:",
        ] {
            assert_eq!(Backend::from_url(url).ok(), Some(Backend::Sqlite), "{url}");
        }
        for url in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db?sslmode=disable",
        ] {
            assert_eq!(
                Backend::from_url(url).ok(),
                Some(Backend::Postgres),
                "{url}"
            );
        }
        for url in ["", "lti.db", "mysql://h/db", "http://h/"] {
            assert!(
                matches!(Backend::from_url(url), Err(StoreError::Invalid(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let err = Backend::from_url("mysql://me:hunter2@h/db");
        let text = format!("{err:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(
            redact_url("postgres://me:pw@h:5432/db?x=1"),
            "postgres://me:***@h:5432/db?x=1"
        );
        assert_eq!(redact_url("postgres://me@h/db"), "postgres://me@h/db");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }
}
