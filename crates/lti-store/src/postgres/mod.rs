//! The PostgreSQL backend, for several tool instances sharing one database.
//!
//! Function names match the SQLite backend one for one; the SQL is written
//! here in PostgreSQL's dialect, next to the function that runs it.

mod admin;
mod launch;
mod owners;
mod record_launch;

use std::str::FromStr;

use lti_core::StoreResult;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgTransaction};

use crate::error::map_sqlx_error;
use crate::options::{DEFAULT_POSTGRES_MAX_CONNECTIONS, StoreOptions};

/// The PostgreSQL migrations (`migrations/postgres`), embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// A store on a PostgreSQL database.
#[derive(Clone)]
pub(crate) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database a `postgres://` or `postgresql://` URL
    /// names.
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let mut connect = PgConnectOptions::from_str(url).map_err(map_sqlx_error)?;
        // The options' name, else the URL's `application_name`, else ours:
        // an operator can tell the instances apart in pg_stat_activity.
        let name = options
            .application_name
            .clone()
            .or_else(|| connect.get_application_name().map(str::to_owned))
            .unwrap_or_else(|| "lti-store".to_owned());
        connect = connect.application_name(&name);
        // Startup parameters, so every connection the pool ever opens has
        // them before its first statement. The timeout is the server-side
        // backstop against a connection left inside a transaction: the
        // server ends such a session and frees its locks.
        let idle_ms = options.idle_in_transaction_timeout.as_millis();
        connect = connect.options([("idle_in_transaction_session_timeout", idle_ms.to_string())]);
        if let Some(search_path) = &options.search_path {
            connect = connect.options([("search_path", search_path.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(
                options
                    .max_connections
                    .unwrap_or(DEFAULT_POSTGRES_MAX_CONNECTIONS),
            )
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(map_sqlx_error)?;
        Ok(Self { pool })
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &PgPool {
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

    /// Closes the pool.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// Starts a write transaction (READ COMMITTED: the upserts' `ON CONFLICT`
/// waits for a concurrent inserter and then sees its row).
async fn begin_write(pool: &PgPool) -> StoreResult<PgTransaction<'static>> {
    pool.begin().await.map_err(map_sqlx_error)
}

/// Commits on success, rolls back explicitly on failure.
async fn finish<T>(tx: PgTransaction<'static>, result: StoreResult<T>) -> StoreResult<T> {
    match result {
        Ok(value) => {
            tx.commit().await.map_err(map_sqlx_error)?;
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    }
}
