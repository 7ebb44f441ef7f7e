//! The SQLite backend: a file database in WAL mode, or a private in-memory
//! database for development and tests.
//!
//! Function names match the PostgreSQL backend one for one; the SQL is
//! written here in SQLite's dialect, next to the function that runs it.
//!
//! Two kinds of connection reach the one database: sqlx's pool for
//! migrations, the admin operations and a tool's own tables, and direct
//! connections ([`direct`]) for the launch and page-view paths: reads on
//! the caller's thread ([`readers`]), writes on one writer thread with
//! group commit ([`writer`]).

mod admin;
mod decode;
mod direct;
mod launch;
mod owners;
mod readers;
mod writer;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use lti_core::{StoreError, StoreResult};
use sqlx::ConnectOptions;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::error::map_sqlx_error;
use crate::options::{DEFAULT_SQLITE_MAX_CONNECTIONS, StoreOptions};

/// The SQLite migrations (`migrations/sqlite`), embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// A store on a SQLite database.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    /// Reads of the launch and page-view paths, on the caller's thread.
    readers: Arc<readers::Readers>,
    /// Writes of the launch path (nonces, launches, sessions): one thread,
    /// one connection, group commit. SQLite has one writer at a time;
    /// queueing writers here, in order and without sleeping, replaces the
    /// busy handler's back-off sleeps (1, 2, 5 … 100 ms) that several
    /// connections racing for the write lock would take (PERFORMANCE.md).
    writer: Arc<writer::Writer>,
    /// The commit count the readers' snapshots follow.
    commits: Arc<readers::Commits>,
    /// For an in-memory database: one connection outside the pool, held for
    /// the store's lifetime. SQLite drops a shared in-memory database when
    /// its last connection closes, and the pool may close and reopen its
    /// connections at will.
    _keeper: Option<Arc<Mutex<SqliteConnection>>>,
}

impl SqliteStore {
    /// Opens the database a `sqlite:` URL names, creating the file if
    /// needed. `sqlite::memory:` (or `mode=memory`) opens a new, empty
    /// in-memory database that lives as long as the store.
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::Invalid(format!("not a sqlite URL: {url:?}")))?;
        let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
        let in_memory = path == ":memory:" || params.split('&').any(|p| p == "mode=memory");
        if in_memory {
            Self::connect_memory(options).await
        } else if path.is_empty() {
            Err(StoreError::Invalid(format!(
                "sqlite URL {url:?} names no file; use sqlite:PATH or sqlite::memory:"
            )))
        } else {
            Self::connect_file(url, options).await
        }
    }

    async fn connect_file(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(map_sqlx_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let max_connections = options
            .max_connections
            .unwrap_or(DEFAULT_SQLITE_MAX_CONNECTIONS);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(options.acquire_timeout)
            // No ping before each acquire: a SQLite connection is a local
            // file handle that cannot go stale, and each ping is one more
            // hand-off to the connection's thread (see PERFORMANCE.md).
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await
            .map_err(map_sqlx_error)?;
        let target = direct::Target::File(PathBuf::from(connect.get_filename()));
        Self::with_direct(pool, target, options, max_connections as usize, None)
    }

    /// Adds the direct connections to a pool on the same database.
    fn with_direct(
        pool: SqlitePool,
        target: direct::Target,
        options: &StoreOptions,
        max_readers: usize,
        keeper: Option<SqliteConnection>,
    ) -> StoreResult<Self> {
        let commits = Arc::new(readers::Commits::default());
        let readers = Arc::new(readers::Readers::new(
            target.clone(),
            options.busy_timeout,
            max_readers,
            commits.clone(),
        ));
        let writer = writer::Writer::start(
            target,
            options.busy_timeout,
            commits.clone(),
            Some(readers.clone()),
        )?;
        Ok(Self {
            pool,
            readers,
            commits,
            writer: Arc::new(writer),
            _keeper: keeper.map(|keeper| Arc::new(Mutex::new(keeper))),
        })
    }

    async fn connect_memory(options: &StoreOptions) -> StoreResult<Self> {
        // A name of our own (not sqlx's per-process counter) so two stores
        // never share a database, even across sqlx versions.
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|err| {
            StoreError::Backend(format!("no randomness for a database name: {err}"))
        })?;
        let hex: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        // SQLite's `memdb` VFS shares a database among the process's
        // connections by a name starting with `/`, with ordinary locking
        // (busy timeout and all), unlike a shared-cache `:memory:`
        // database, whose table locks fail at once. It has no WAL, and its
        // rollback journal must stay in memory, never on disk.
        let name = format!("/lti-memdb-{hex}");
        let connect = SqliteConnectOptions::new()
            .filename(&name)
            .vfs("memdb")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Memory)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let keeper = connect.connect().await.map_err(map_sqlx_error)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(connect)
            .await
            .map_err(map_sqlx_error)?;
        Self::with_direct(pool, direct::Target::Memory(name), options, 4, Some(keeper))
    }

    /// Counts a write made through sqlx's pool, so that the direct
    /// readers' next reads see it.
    pub(crate) fn pool_wrote(&self) {
        self.commits.committed();
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs `migrator`; returns every version the migrations table then
    /// holds, the framework's and a tool's.
    pub(crate) async fn migrate(&self, migrator: &Migrator) -> StoreResult<Vec<i64>> {
        // sqlx's default table name, which `migrate!` keeps without a
        // sqlx.toml.
        const APPLIED_VERSIONS: &str = "SELECT version FROM _sqlx_migrations ORDER BY version";
        migrator
            .run(&self.pool)
            .await
            .map_err(|err| map_sqlx_error(err.into()))?;
        sqlx::query_scalar(APPLIED_VERSIONS)
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx_error)
    }

    /// Closes the pool (and, for an in-memory database, lets it go once the
    /// last clone of the store is dropped).
    pub(crate) async fn close(&self) {
        self.writer.close().await;
        self.readers.close();
        self.pool.close().await;
    }
}
