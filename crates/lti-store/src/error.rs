//! The one mapping from sqlx errors to [`StoreError`], shared by both
//! backends (STYLE.md "Errors").
//!
//! Constraint violations are recognised by their kind
//! ([`sqlx::error::DatabaseError::kind`]), never by constraint name: SQLite
//! does not report names. Connection trouble of any sort becomes
//! [`StoreError::Unavailable`] so the web layer answers 503 and the client
//! can try again.

use std::future::Future;

use lti_core::StoreError;
use sqlx::error::{DatabaseError, ErrorKind};

/// Maps a sqlx error to the store's error type.
pub(crate) fn map_sqlx_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => map_database_error(db.as_ref()),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
        sqlx::Error::Configuration(_) | sqlx::Error::InvalidArgument(_) => {
            StoreError::Invalid(error.to_string())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

fn map_database_error(db: &dyn DatabaseError) -> StoreError {
    let message = db.message().to_owned();
    match db.kind() {
        ErrorKind::UniqueViolation => return StoreError::Conflict(message),
        ErrorKind::ForeignKeyViolation => {
            return StoreError::NotFound(format!("a referenced record does not exist ({message})"));
        }
        ErrorKind::NotNullViolation | ErrorKind::CheckViolation => {
            return StoreError::Invalid(message);
        }
        _ => {}
    }
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if pg_code_is_unavailable(pg.code()) {
            return StoreError::Unavailable(message);
        }
    } else if let Some(code) = db.code().and_then(|code| code.parse::<i32>().ok())
        && sqlite_code_is_unavailable(code)
    {
        return StoreError::Unavailable(message);
    }
    StoreError::Backend(message)
}

/// PostgreSQL SQLSTATEs that mean "not now" rather than "never".
fn pg_code_is_unavailable(code: &str) -> bool {
    // Class 08: connection exception; class 53: insufficient resources
    // (53300 too_many_connections among them); class 57P: the server is
    // shutting down, crashed or starting (57P01 admin_shutdown, 57P02
    // crash_shutdown, 57P03 cannot_connect_now); 40001/40P01: serialization
    // failure and deadlock, which a retry resolves; 25P03: this session was
    // ended by idle_in_transaction_session_timeout; 57014: query cancelled
    // (statement_timeout).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || matches!(code, "40001" | "40P01" | "25P03" | "57014")
}

/// SQLite primary result codes that mean "not now" rather than "never".
pub(crate) fn sqlite_code_is_unavailable(extended: i32) -> bool {
    // The low byte of an extended result code is the primary code:
    // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_NOMEM (7), SQLITE_IOERR
    // (10), SQLITE_FULL (13), SQLITE_CANTOPEN (14).
    matches!(extended & 0xff, 5 | 6 | 7 | 10 | 13 | 14)
}

/// Runs `work` to completion on its own task, so that dropping the caller's
/// future (a client disconnecting mid-request) cannot interrupt it.
///
/// Every multi-statement write goes through here. Cancelling a sqlx
/// transaction at the wrong moment can leave a pooled PostgreSQL connection
/// inside an open transaction (sqlx 0.9.0, launchbadge/sqlx#4393: a
/// cancellation during `BEGIN` skips the rollback); the pool then hands out
/// a connection whose locks block everyone else, and what it later writes is
/// never committed. A spawned task is never cancelled by its awaiting
/// caller, so the transaction always reaches `COMMIT` or `ROLLBACK`.
pub(crate) async fn run_detached<T, F>(work: F) -> Result<T, StoreError>
where
    F: Future<Output = Result<T, StoreError>> + Send + 'static,
    T: Send + 'static,
{
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => {
            Err(StoreError::Backend("a database task panicked".to_owned()))
        }
        Err(join) => Err(StoreError::Backend(format!(
            "a database task was cancelled: {join}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_errors_are_unavailable() {
        assert!(map_sqlx_error(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(map_sqlx_error(sqlx::Error::PoolClosed).is_unavailable());
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(map_sqlx_error(sqlx::Error::Io(refused)).is_unavailable());
    }

    #[test]
    fn other_errors_are_backend_errors() {
        assert!(matches!(
            map_sqlx_error(sqlx::Error::RowNotFound),
            StoreError::Backend(_)
        ));
        assert!(matches!(
            map_sqlx_error(sqlx::Error::Protocol("x".into())),
            StoreError::Backend(_)
        ));
    }

    #[test]
    fn server_codes() {
        for code in [
            "57P01", "57P02", "57P03", "08006", "53300", "40P01", "25P03",
        ] {
            assert!(pg_code_is_unavailable(code), "{code}");
        }
        for code in ["23505", "42P01", "22001"] {
            assert!(!pg_code_is_unavailable(code), "{code}");
        }
        assert!(sqlite_code_is_unavailable(5));
        assert!(sqlite_code_is_unavailable(5 | (2 << 8))); // SQLITE_BUSY_SNAPSHOT
        assert!(sqlite_code_is_unavailable(6));
        assert!(!sqlite_code_is_unavailable(19)); // SQLITE_CONSTRAINT
        assert!(!sqlite_code_is_unavailable(1));
    }

    #[tokio::test]
    async fn detached_work_survives_a_dropped_caller() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let caller = run_detached(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let _ = tx.send(());
            Ok(())
        });
        // Poll once, then drop the caller, as a disconnecting client would.
        let _ = tokio::time::timeout(std::time::Duration::from_millis(1), caller).await;
        assert!(
            rx.await.is_ok(),
            "the work finished after its caller went away"
        );
    }

    /// A session ended by the server mid-query (57P01 admin_shutdown, as in
    /// a restart or `pg_terminate_backend`) is Unavailable, not a 500.
    #[cfg(feature = "testing")]
    #[tokio::test]
    async fn postgres_admin_shutdown_is_unavailable() -> Result<(), sqlx::Error> {
        use sqlx::Connection;
        use sqlx::postgres::PgConnection;

        let Some(url) = crate::testing::postgres_url() else {
            return Ok(());
        };
        let mut victim = PgConnection::connect(&url).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut victim)
            .await?;
        let sleeping = tokio::spawn(async move {
            sqlx::query("SELECT pg_sleep(30)")
                .execute(&mut victim)
                .await
        });
        let mut killer = PgConnection::connect(&url).await?;
        // Wait until the victim is inside its query, then end it.
        loop {
            let active: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity \
                 WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active')",
            )
            .bind(pid)
            .fetch_one(&mut killer)
            .await?;
            if active {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut killer)
            .await?;
        let error = match sleeping.await {
            Ok(Err(error)) => error,
            other => panic!("the query should have failed: {other:?}"),
        };
        let mapped = map_sqlx_error(error);
        assert!(mapped.is_unavailable(), "{mapped:?}");
        Ok(())
    }

    #[tokio::test]
    async fn a_panicking_task_is_a_backend_error() {
        let result: Result<(), _> = run_detached(async { panic!("boom") }).await;
        assert!(matches!(result, Err(StoreError::Backend(_))));
    }
}
