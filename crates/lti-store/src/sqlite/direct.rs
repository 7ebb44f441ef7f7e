//! Direct (rusqlite) connections to the store's SQLite database, for the hot
//! paths: opening them with the store's settings, and mapping their errors.
//!
//! sqlx runs every SQLite statement on a worker thread of its own, one
//! thread per connection, so each statement costs two thread hand-offs;
//! profiles of a launch showed more time in those hand-offs than in SQLite
//! (PERFORMANCE.md). The launch and page-view paths therefore use plain
//! SQLite connections: reads on the request's own thread
//! ([`Readers`](super::readers::Readers)), writes as one unit of work on a
//! dedicated writer thread ([`Writer`](super::writer::Writer)). sqlx keeps
//! the rest (migrations, the admin operations, a tool's own tables).

use std::path::PathBuf;
use std::time::Duration;

use lti_core::StoreError;
use rusqlite::{Connection, OpenFlags};

/// Which database the direct connections open.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// A database file, in WAL mode.
    File(PathBuf),
    /// A private in-memory database in SQLite's `memdb` VFS, shared by the
    /// process's connections under this name (which starts with `/`).
    Memory(String),
}

impl Target {
    /// Opens a connection: foreign keys on, the busy timeout, and the
    /// journal mode the target needs (WAL for a file, an in-memory rollback
    /// journal for `memdb`, which has no WAL and must not spill a journal
    /// file to disk).
    pub(crate) fn open(&self, busy_timeout: Duration) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match self {
            Self::File(path) => Connection::open_with_flags(path, flags),
            Self::Memory(name) => Connection::open_with_flags_and_vfs(name, flags, c"memdb"),
        }
        .map_err(map_error)?;
        conn.busy_timeout(busy_timeout).map_err(map_error)?;
        let journal = match self {
            Self::File(_) => "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            Self::Memory(_) => "PRAGMA journal_mode = MEMORY;",
        };
        conn.execute_batch(journal).map_err(map_error)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(map_error)?;
        Ok(conn)
    }
}

/// Maps a rusqlite error to the store's error type, by the same rules as
/// [`map_sqlx_error`](crate::error::map_sqlx_error): unique violations are
/// conflicts, foreign-key violations are missing records, busy, locked,
/// I/O, full and out-of-memory are "try again later".
pub(crate) fn map_error(error: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                StoreError::Conflict(error.to_string())
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                StoreError::NotFound(format!("a referenced record does not exist ({error})"))
            }
            ffi::SQLITE_CONSTRAINT_NOTNULL | ffi::SQLITE_CONSTRAINT_CHECK => {
                StoreError::Invalid(error.to_string())
            }
            code if crate::error::sqlite_code_is_unavailable(code) => {
                StoreError::Unavailable(error.to_string())
            }
            _ => StoreError::Backend(error.to_string()),
        },
        _ => StoreError::Backend(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_and_busy_errors_map_like_sqlx_errors() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY); \
             CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id), \
             name TEXT NOT NULL UNIQUE); INSERT INTO p VALUES (1); \
             INSERT INTO c VALUES (1, 1, 'a');",
        )
        .unwrap();
        let run = |sql: &str| map_error(conn.execute_batch(sql).unwrap_err());
        assert!(matches!(
            run("INSERT INTO c VALUES (2, 1, 'a')"),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            run("INSERT INTO c VALUES (1, 1, 'b')"),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            run("INSERT INTO c VALUES (3, 9, 'c')"),
            StoreError::NotFound(_)
        ));
        assert!(matches!(
            run("INSERT INTO c VALUES (4, 1, NULL)"),
            StoreError::Invalid(_)
        ));
        assert!(matches!(
            run("SELECT * FROM nowhere"),
            StoreError::Backend(_)
        ));
    }

    #[test]
    fn memdb_databases_are_shared_by_name_and_private_otherwise() {
        let name = "/lti-direct-test-shared".to_owned();
        let one = Target::Memory(name.clone())
            .open(Duration::from_secs(1))
            .unwrap();
        one.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);")
            .unwrap();
        let two = Target::Memory(name).open(Duration::from_secs(1)).unwrap();
        let x: i64 = two.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(x, 7);
        let other = Target::Memory("/lti-direct-test-other".to_owned())
            .open(Duration::from_secs(1))
            .unwrap();
        assert!(
            other
                .query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0))
                .is_err()
        );
    }
}
