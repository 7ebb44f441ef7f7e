//! Test support (feature `testing`): run one store test on every backend.
//!
//! [`store_tests!`](crate::store_tests) takes test functions written once and
//! generates a `sqlite_file`, a `sqlite_memory` and a `postgres` module with
//! one `#[test]` each:
//!
//! ```text
//! use lti_core::Store;
//! use lti_store::testing::TestResult;
//!
//! lti_store::store_tests! {
//!     async fn silos_round_trip(store) {
//!         let silo = store.create_silo("s").await?;
//!         assert_eq!(store.list_silos().await?, vec![silo]);
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Every test gets a fresh, migrated database, removed afterwards even when
//! the test fails:
//!
//! * SQLite file: a new directory under [`std::env::temp_dir`];
//! * SQLite in memory: a new private in-memory database;
//! * PostgreSQL: a new schema `lti_test_<random>` on the server named by
//!   `LTI_TEST_DATABASE_URL` (e.g.
//!   `LTI_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`),
//!   every connection's `search_path` set to it, dropped with `CASCADE` at
//!   the end. Without the variable the PostgreSQL tests fail, unless
//!   `LTI_SKIP_POSTGRES=1` says to skip them.
//!
//! The pieces ([`TempDir`], [`PgSchema`], [`TestDb`]) are public for other
//! crates' tests and benchmarks.

use std::error::Error;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lti_core::{
    ConsumerId, ConsumerRecord, LaunchRecord, NewConsumer, Permissions, ResourceData, SealedSecret,
    Store, StoreError, StoreResult,
};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

use crate::{Db, StoreOptions};

/// What a stamped test returns.
pub type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

/// The environment variable naming the PostgreSQL server for tests.
pub const DATABASE_URL_VAR: &str = "LTI_TEST_DATABASE_URL";
/// Set to `1` to skip (loudly) the PostgreSQL tests when no server is given.
pub const SKIP_POSTGRES_VAR: &str = "LTI_SKIP_POSTGRES";

/// The backends a stamped test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A SQLite file in a temporary directory, pool of 4 connections.
    SqliteFile,
    /// An in-memory SQLite database.
    SqliteMemory,
    /// A throw-away schema on the `LTI_TEST_DATABASE_URL` server.
    Postgres,
}

/// A random lower-case hex string of `bytes` random bytes.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).unwrap_or_else(|err| panic!("no OS randomness: {err}"));
    buf.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The PostgreSQL URL for tests, or `None` when they are to be skipped.
///
/// # Panics
///
/// When `LTI_TEST_DATABASE_URL` is unset and `LTI_SKIP_POSTGRES` is not
/// `1`: a test that needs a service it cannot find fails loudly.
pub fn postgres_url() -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var(SKIP_POSTGRES_VAR).is_ok_and(|v| v == "1") => {
            eprintln!(
                "\n!!!! SKIPPED a PostgreSQL store test: {SKIP_POSTGRES_VAR}=1 and no \
                 {DATABASE_URL_VAR}. CI never skips these. !!!!\n"
            );
            None
        }
        _ => panic!(
            "the PostgreSQL store tests need a server: set {DATABASE_URL_VAR}, e.g. \
             {DATABASE_URL_VAR}=postgres://postgres@127.0.0.1:5432/test \
             (or {SKIP_POSTGRES_VAR}=1 to skip them locally)"
        ),
    }
}

/// A directory under [`std::env::temp_dir`], removed with its contents on
/// drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<temp>/<prefix>-<random>`.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", random_hex(8)));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.path) {
            eprintln!("could not remove {}: {err}", self.path.display());
        }
    }
}

/// A PostgreSQL schema `lti_test_<random>`, dropped with `CASCADE` on drop.
///
/// The drop runs on a thread of its own with its own runtime, so it works
/// inside or outside a tokio runtime and after a panic.
#[derive(Debug)]
pub struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    /// Creates a new schema on the server `url` names.
    pub async fn create(url: &str) -> StoreResult<Self> {
        let name = format!("lti_test_{}", random_hex(8));
        let mut conn = PgConnection::connect(url)
            .await
            .map_err(|err| StoreError::Unavailable(format!("{DATABASE_URL_VAR}: {err}")))?;
        // The name is ours (hex digits), so quoting it is enough.
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{name}\"")))
            .execute(&mut conn)
            .await
            .map_err(|err| StoreError::Backend(err.to_string()))?;
        let _ = conn.close().await;
        Ok(Self {
            url: url.to_owned(),
            name,
        })
    }

    /// The schema's name (use it as the `search_path`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Options for a store whose tables live in this schema.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions::new()
            .with_search_path(self.name.clone())
            .with_application_name(self.name.clone())
    }

    async fn drop_schema(url: &str, name: &str) -> Result<(), sqlx::Error> {
        let mut conn = PgConnection::connect(url).await?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime
                .block_on(Self::drop_schema(&url, &name))
                .map_err(std::io::Error::other)
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not drop test schema {}: {err}", self.name),
            Err(_) => eprintln!("dropping test schema {} panicked", self.name),
        }
    }
}

/// What to remove once the store is closed; held for its `Drop`.
#[derive(Default)]
struct Cleanup {
    _dir: Option<TempDir>,
    _schema: Option<PgSchema>,
}

/// A migrated store on a throw-away database; the database goes when this
/// is dropped.
pub struct TestDb {
    db: Db,
    // Dropped after `db` has been closed by `close`, or on drop.
    _cleanup: Cleanup,
}

impl TestDb {
    /// Opens a fresh store on `backend`, or `None` when PostgreSQL tests are
    /// skipped.
    pub async fn open(backend: TestBackend) -> StoreResult<Option<Self>> {
        Self::open_with(backend, |options| options).await
    }

    /// Like [`open`](Self::open), adjusting the options first.
    pub async fn open_with(
        backend: TestBackend,
        adjust: impl FnOnce(StoreOptions) -> StoreOptions,
    ) -> StoreResult<Option<Self>> {
        match backend {
            TestBackend::SqliteFile => {
                let dir = TempDir::new("lti-store-test")
                    .map_err(|err| StoreError::Backend(format!("temp dir: {err}")))?;
                let url = format!("sqlite://{}", dir.path().join("lti.sqlite3").display());
                let options = adjust(StoreOptions::new().with_max_connections(4));
                let db = Db::open(&url, &options).await?;
                Ok(Some(Self {
                    db,
                    _cleanup: Cleanup {
                        _dir: Some(dir),
                        _schema: None,
                    },
                }))
            }
            TestBackend::SqliteMemory => {
                let db = Db::open("sqlite::memory:", &adjust(StoreOptions::new())).await?;
                Ok(Some(Self {
                    db,
                    _cleanup: Cleanup::default(),
                }))
            }
            TestBackend::Postgres => {
                let Some(url) = postgres_url() else {
                    return Ok(None);
                };
                let schema = PgSchema::create(&url).await?;
                let options = adjust(schema.store_options());
                let db = Db::open(&url, &options).await?;
                Ok(Some(Self {
                    db,
                    _cleanup: Cleanup {
                        _dir: None,
                        _schema: Some(schema),
                    },
                }))
            }
        }
    }

    /// The store.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Closes the pool, then removes the database.
    pub async fn close(self) {
        self.db.close().await;
        drop(self);
    }
}

/// Runs one stamped test on `backend`: opens a fresh store, runs `test` on
/// its own task, closes and removes the database whatever happened, then
/// re-raises the test's panic or fails with its error.
///
/// # Panics
///
/// When the test fails, panics or cannot get its database.
pub fn run<F, Fut>(backend: TestBackend, test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("tokio runtime: {err}"));
    let outcome = runtime.block_on(async {
        let test_db = match TestDb::open(backend).await {
            Ok(Some(test_db)) => test_db,
            Ok(None) => return None,
            Err(err) => panic!("could not open a {backend:?} test database: {err}"),
        };
        let outcome = tokio::spawn(test(test_db.db().clone())).await;
        test_db.close().await;
        Some(outcome)
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    match outcome {
        None | Some(Ok(Ok(()))) => {}
        Some(Ok(Err(err))) => panic!("{backend:?}: {err}"),
        Some(Err(join)) => match join.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(join) => panic!("{backend:?}: test task cancelled: {join}"),
        },
    }
}

/// A table of the schema, for [`count_rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `app_keys`
    AppKeys,
    /// `silos`
    Silos,
    /// `consumers`
    Consumers,
    /// `nonces`
    Nonces,
    /// `contexts`
    Contexts,
    /// `resources`
    Resources,
    /// `users`
    Users,
    /// `visits`
    Visits,
    /// `owners`
    Owners,
}

/// A silo `silo-<key>` holding one consumer with that key (handle
/// `consumer <key>`, a placeholder sealed secret), created at `now`.
pub async fn new_consumer(db: &Db, key: &str, now: i64) -> StoreResult<ConsumerRecord> {
    let silo = db.create_silo(&format!("silo-{key}")).await?;
    db.create_consumer(NewConsumer {
        silo: silo.id,
        handle: format!("consumer {key}"),
        key: key.to_owned(),
        secret: SealedSecret::from_cipher_text("0:c2VhbGVk"),
        now,
    })
    .await
}

/// A launch of `link` in `session` that names no context or user and
/// keeps no parameters, at time 0.
pub fn bare_launch(consumer: ConsumerId, session: &str, link: &str) -> LaunchRecord {
    LaunchRecord {
        consumer,
        context: None,
        resource: ResourceData {
            link_id: link.to_owned(),
            ..ResourceData::default()
        },
        user: None,
        session: session.to_owned(),
        new_session: false,
        permissions: Permissions::READ,
        user_agent: None,
        parameters: Vec::new(),
        now: 0,
    }
}

/// How many rows `table` holds (same SQL on both backends).
pub async fn count_rows(db: &Db, table: Table) -> StoreResult<i64> {
    let sql = match table {
        Table::AppKeys => "SELECT COUNT(*) FROM app_keys",
        Table::Silos => "SELECT COUNT(*) FROM silos",
        Table::Consumers => "SELECT COUNT(*) FROM consumers",
        Table::Nonces => "SELECT COUNT(*) FROM nonces",
        Table::Contexts => "SELECT COUNT(*) FROM contexts",
        Table::Resources => "SELECT COUNT(*) FROM resources",
        Table::Users => "SELECT COUNT(*) FROM users",
        Table::Visits => "SELECT COUNT(*) FROM visits",
        Table::Owners => "SELECT COUNT(*) FROM owners",
    };
    scalar_i64(db, sql).await
}

/// Runs a query returning one `BIGINT`/`INTEGER`, on either backend.
pub async fn scalar_i64(db: &Db, sql: &'static str) -> StoreResult<i64> {
    let backend_error = |err: sqlx::Error| StoreError::Backend(err.to_string());
    if let Some(pool) = db.sqlite_pool() {
        sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .map_err(backend_error)
    } else if let Some(pool) = db.postgres_pool() {
        sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .map_err(backend_error)
    } else {
        Err(StoreError::Backend("no pool".to_owned()))
    }
}

/// The raw `consumers.secret` column of a consumer, as stored.
pub async fn raw_consumer_secret(db: &Db, id: ConsumerId) -> StoreResult<String> {
    const SQL: &str = "SELECT secret FROM consumers WHERE id = $1";
    let backend_error = |err: sqlx::Error| StoreError::Backend(err.to_string());
    if let Some(pool) = db.sqlite_pool() {
        sqlx::query_scalar(SQL)
            .bind(id.0)
            .fetch_one(pool)
            .await
            .map_err(backend_error)
    } else if let Some(pool) = db.postgres_pool() {
        sqlx::query_scalar(SQL)
            .bind(id.0)
            .fetch_one(pool)
            .await
            .map_err(backend_error)
    } else {
        Err(StoreError::Backend("no pool".to_owned()))
    }
}

/// Writes a test once and runs it on every backend: a SQLite file, an
/// in-memory SQLite database and PostgreSQL (see the [module
/// docs](crate::testing)). Each test is `async fn name(store) { … }` with
/// `store: lti_store::Db`, returning [`TestResult`].
#[macro_export]
macro_rules! store_tests {
    ($($(#[$attr:meta])* async fn $name:ident($store:ident) $body:block)*) => {
        $crate::store_tests!(@module sqlite_file, SqliteFile;
            $($(#[$attr])* async fn $name($store) $body)*);
        $crate::store_tests!(@module sqlite_memory, SqliteMemory;
            $($(#[$attr])* async fn $name($store) $body)*);
        $crate::store_tests!(@module postgres, Postgres;
            $($(#[$attr])* async fn $name($store) $body)*);
    };
    (@module $module:ident, $backend:ident;
        $($(#[$attr:meta])* async fn $name:ident($store:ident) $body:block)*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    $crate::testing::run(
                        $crate::testing::TestBackend::$backend,
                        |$store: $crate::Db| async move $body,
                    );
                }
            )*
        }
    };
}

/// The file names in a migration folder, sorted: for the tests that keep a
/// tool's (or the framework's) SQLite and PostgreSQL folders in lockstep.
///
/// # Panics
///
/// When the folder cannot be read (a broken checkout, in a test).
pub fn migration_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
