//! SQLite and PostgreSQL storage for axum-lti: the sqlx implementation of
//! [`lti_core::Store`].
//!
//! [`open`] picks the backend from the database URL at run time and returns
//! a [`Db`], which implements [`Store`](lti_core::Store):
//!
//! | URL | Database |
//! |---|---|
//! | `sqlite:PATH`, `sqlite://PATH` | a SQLite file (created if missing), WAL journal, `synchronous=NORMAL`, foreign keys on, busy timeout |
//! | `sqlite::memory:` | a new in-memory SQLite database, private to this store, alive as long as the store |
//! | `postgres://…`, `postgresql://…` | PostgreSQL, for any number of instances sharing one database |
//!
//! Pool sizes and timeouts are [`StoreOptions`]. Migrations run at open
//! unless turned off, and on demand with [`Db::migrate`]; [`schema_sql`]
//! prints a backend's schema (the `--sqlout` flag).
//!
//! A tool with tables of its own reaches the pools through
//! [`Db::sqlite_pool`] and [`Db::postgres_pool`] and migrates them with
//! [`Db::migrate_tool`]: its [`ToolMigrations`] are numbered from
//! [`TOOL_MIGRATIONS_START`] up and share sqlx's migrations table with the
//! framework's, each side ignoring the other's versions.
//!
//! # Schema
//!
//! Nine tables (migrations in `migrations/sqlite` and `migrations/postgres`,
//! same numbers and names, append-only): `app_keys`, `silos`, `consumers`,
//! `nonces`, `contexts`, `resources`, `users`, `visits` (`0001_initial`) and
//! `owners` (`0002_owners`: the admin console's accounts). Unique
//! constraints on the consumer key, the silo slug, the owner email, and per
//! consumer on `context_id`, `link_id` and `user_id` (spec QL-13). Deleting
//! a silo deletes its consumers and owners; deleting a consumer deletes its
//! nonces, contexts, resources, users and visits.
//!
//! | Rust | PostgreSQL | SQLite | Note |
//! |---|---|---|---|
//! | LMS ids (`context_id`, `resource_link_id`, `user_id`), consumer key | `TEXT` | `TEXT` | never parsed as numbers |
//! | surrogate keys (`SiloId`, `ConsumerId`, `ContextKey`, `UserKey`, `VisitId`) | `BIGINT GENERATED ALWAYS AS IDENTITY` | `INTEGER PRIMARY KEY` | |
//! | `ResourceId` | `BIGINT` | `INTEGER PRIMARY KEY` | random non-negative 63-bit, chosen by the store, retried on collision |
//! | times | `BIGINT` | `INTEGER` | unix seconds from the caller's clock; SQL never calls `now()` |
//! | `enabled` | `BOOLEAN` | `INTEGER` 0/1 | |
//! | `Permissions` | `BIGINT` | `INTEGER` | the permission bits |
//! | sealed secrets, wrapped keys | `TEXT` | `TEXT` | the application cipher's text form only |
//! | owner password hashes | `TEXT` | `TEXT` | Argon2id PHC strings made by the caller |
//! | launch parameters | `TEXT` | `TEXT` | JSON array of `[name, value]` pairs |
//!
//! Absent optional values are NULL, never `''` (spec QL-8): an empty string
//! given for an optional field is stored as NULL, and never overwrites a
//! stored value (spec §5.4).
//!
//! # Concurrency and cancellation
//!
//! * `record_nonce` is one `INSERT … ON CONFLICT … DO UPDATE … WHERE`
//!   statement: of any number of concurrent calls with one nonce exactly one
//!   changes a row and returns true.
//! * Contexts, resources and users are written with
//!   `INSERT … ON CONFLICT … DO UPDATE … RETURNING`, so concurrent first
//!   launches of the same link all succeed and share one row.
//! * Multi-statement writes (`record_launch`, `merge_sessions`) are all or
//!   nothing, and a caller that stops waiting (a client disconnecting
//!   mid-launch) cannot cut one short. On PostgreSQL they run in one
//!   transaction on a spawned task that the caller's future cannot cancel,
//!   never leaving a pooled connection stuck inside a transaction (sqlx
//!   0.9.0 can leave one when a transaction is cancelled during `BEGIN`,
//!   launchbadge/sqlx#4393); connections also set
//!   `idle_in_transaction_session_timeout` (default 30 s) as a backstop.
//!   On PostgreSQL, `record_launch` is a single statement (data-modifying
//!   CTEs, one round trip), atomic without a transaction, and still runs on
//!   a spawned task.
//! * `record_fresh_launch` records a nonce and, only when it is fresh, the
//!   launch, as one unit: the same statement with a nonce CTE that gates
//!   the others on PostgreSQL, one writer unit (the nonce statement, then
//!   the launch) on SQLite. A replay writes nothing; of concurrent launches
//!   with one nonce at most one is stored.
//! * On SQLite, the launch and page-view paths (nonces, consumer lookup,
//!   contexts, resources, users, visits, sessions) bypass sqlx: reads run
//!   on the caller's thread on a small stack of direct connections, and
//!   writes run on one writer thread that commits everything queued in one
//!   `BEGIN IMMEDIATE` transaction (group commit), each call in its own
//!   savepoint, so one failing call is rolled back alone and no caller hears
//!   "done" before the commit. WAL checkpoints run on a thread of their
//!   own. sqlx's pool serves migrations, the admin operations and a tool's
//!   own tables, and waits up to the busy timeout for the write lock.
//! * An in-memory SQLite database lives in SQLite's `memdb` VFS under a
//!   random name, shared by the store's connections with ordinary locking.
//!
//! # Errors
//!
//! One mapping for both backends: unique violations are
//! [`StoreError::Conflict`](lti_core::StoreError::Conflict), a missing
//! referenced row (foreign key) is `NotFound`, pool timeouts, I/O errors,
//! server shutdown (`57P01`…), SQLite `BUSY`/`LOCKED` are `Unavailable`
//! (answer 503), empty required values are `Invalid`, the rest `Backend`.
//!
//! # Testing
//!
//! With the `testing` feature, the `testing` module provides the backend stamping
//! used by this crate's own suite: `store_tests!` writes a test once and
//! runs it on a SQLite file, an in-memory SQLite database and PostgreSQL
//! (`LTI_TEST_DATABASE_URL`, one throw-away schema per test).
//!
//! # Performance
//!
//! `benches/store.rs` (criterion) times `record_nonce` (a new nonce each
//! iteration) and `find_visit` (the one-query visit bundle) on an empty
//! database and on one holding 1 000 000 nonces and 100 000 visits (1 000
//! resources), loaded with bulk `INSERT … SELECT`:
//!
//! ```text
//! LTI_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p lti-store --bench store -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Median per call, one caller at a time, release build, on a 2-core
//! machine (load average 2–3), SQLite 3.51.3 (bundled) in WAL mode on a
//! local file, PostgreSQL 15 on 127.0.0.1:
//!
//! | operation | backend | empty | large | large / empty |
//! |---|---|---|---|---|
//! | `record_nonce` | SQLite file | 89.8 µs | 90.6 µs | 1.01 |
//! | `find_visit` | SQLite file | 2.56 µs | 2.96 µs | 1.15 |
//! | `record_nonce` | PostgreSQL | 295 µs | 310 µs | 1.05 |
//! | `find_visit` | PostgreSQL | 126 µs | 131 µs | 1.04 |
//!
//! All stay within the 1.5× target: every operation is an index probe
//! (nonce primary key, visits `(session, resource_id)`, primary keys for
//! the joins), so a hundredfold more rows adds a B-tree level at most.
//! SQLite's `find_visit` runs on the caller's thread and, with nothing
//! written in between, on the reader's open snapshot; a lone
//! `record_nonce` is a whole transaction on the writer thread (under load
//! many share one commit). PostgreSQL's figures are loopback round trips.
//! (Before the direct connections, through sqlx's pool: SQLite
//! `record_nonce` 111 µs and `find_visit` 83 µs, PostgreSQL 396 µs and
//! 205 µs; see `PERFORMANCE.md`.)
//!
//! One trap, measured as `sqlite-large-analyzed`: after an `ANALYZE`,
//! `find_visit` on SQLite took 41.9 µs (16× empty; 151 µs through the old
//! pool). The bundled SQLite is
//! built with `SQLITE_ENABLE_STAT4`, and with `sqlite_stat4` present it
//! re-plans every statement whose bound parameters meet an indexed column,
//! on every execution. The store never runs `ANALYZE` (nor sqlx's
//! `optimize_on_close`); don't add one to maintenance scripts, or drop
//! `sqlite_stat4` afterwards. PostgreSQL's figures include its `ANALYZE`.

mod db;
mod error;
mod migrate;
mod options;
mod owners;
mod postgres;
mod rows;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Db, migrator, open, schema_sql};
pub use migrate::{TOOL_MIGRATIONS_START, ToolMigrations};
pub use options::{
    Backend, DEFAULT_POSTGRES_MAX_CONNECTIONS, DEFAULT_SQLITE_MAX_CONNECTIONS, StoreOptions,
};
pub use postgres::MIGRATOR as POSTGRES_MIGRATOR;
pub use rows::MAX_USER_AGENT_LEN;
pub use sqlite::MIGRATOR as SQLITE_MIGRATOR;
