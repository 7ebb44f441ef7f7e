//! The PostgreSQL backend, for several tool instances sharing one database.
//!
//! Function names match the SQLite backend one for one; the SQL is written
//! here in PostgreSQL's dialect, next to the function that runs it.

mod admin;
mod hot;
mod launch;
mod owners;
mod record_launch;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lti_core::StoreResult;
use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPool, PgPoolOptions, PgTransaction};

use crate::error::map_sqlx_error;
use crate::options::{DEFAULT_POSTGRES_MAX_CONNECTIONS, StoreOptions};

/// The PostgreSQL migrations (`migrations/postgres`), embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a pooled connection may sit idle before it is pinged on
/// acquire (see [`PgStore::connect`]). Under load connections are reused
/// within microseconds and never pinged; a quiet pool pings as before.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A store on a PostgreSQL database.
#[derive(Clone)]
pub(crate) struct PgStore {
    pool: PgPool,
    /// Connections for the launch and page-view statements (see
    /// [`hot`]); the pool serves everything else.
    hot: Arc<hot::HotConnections>,
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
        let max_connections = options
            .max_connections
            .unwrap_or(DEFAULT_POSTGRES_MAX_CONNECTIONS);
        // `max_connections` is shared: half for sqlx's pool (the admin
        // operations, migrations, a tool's own tables, which a tool's pages
        // may query as often as the framework's), the rest for the launch
        // and page-view statements (with one of each at least).
        let pool_connections = (max_connections / 2).max(1);
        let hot = hot::HotConnections::new(
            connect.clone(),
            max_connections.saturating_sub(pool_connections).max(1),
            options.acquire_timeout,
        );
        let pool = PgPoolOptions::new()
            .max_connections(pool_connections)
            .acquire_timeout(options.acquire_timeout)
            // sqlx's default `test_before_acquire(true)` pings (a `Sync`
            // round trip to the server backend) every connection it hands
            // out; with the ping sqlx always sends when a connection comes
            // back, a page view cost three round trips for one query.
            // Connections are now pinged on acquire only after sitting idle
            // for `PING_IF_IDLE_FOR`: a dead connection is then still caught
            // before use after a quiet spell (a server restarted overnight).
            // A connection that dies within that time of its last use
            // (the server restarted or `pg_terminate_backend` under load)
            // fails the one statement that next runs on it, with
            // `StoreError::Unavailable` (503); the release ping then finds it
            // broken and the pool closes it, so no connection fails twice.
            // `find_visit`, the page view's read, retries on another
            // connection, so a page view does not fail at all. Writes do not: after a lost connection one cannot tell
            // whether the statement committed. The store tests
            // `postgres::tests::*_after_backends_are_killed` check both.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(connect)
            .await
            .map_err(map_sqlx_error)?;
        Ok(Self {
            pool,
            hot: Arc::new(hot),
        })
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

    /// Closes the pool and the hot connections.
    pub(crate) async fn close(&self) {
        self.hot.close().await;
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

/// Whether `error` says the connection was lost, rather than that the
/// statement was refused: an I/O error, or the server ending the session
/// (`57P01` admin shutdown, as after `pg_terminate_backend` or a fast
/// restart; `57P02`, `57P03`; class `08` connection exceptions).
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.try_downcast_ref::<PgDatabaseError>().is_some_and(|pg| {
            let code = pg.code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use lti_core::{ConsumerId, LaunchRecord, Store, StoreError};
    use sqlx::postgres::PgConnection;

    use crate::testing::{TestBackend, TestDb, TestResult, bare_launch, new_consumer};
    use crate::{Db, StoreOptions};

    const POOL: u32 = 3;

    fn launch(consumer: ConsumerId, session: &str) -> LaunchRecord {
        bare_launch(consumer, session, "r")
    }

    /// A store of at most `POOL` connections with its pool's all open, one launch in
    /// session `s`, and a monitoring connection of its own.
    async fn setup()
    -> Result<Option<(TestDb, ConsumerId, PgConnection)>, Box<dyn std::error::Error + Send + Sync>>
    {
        let Some(test_db) = TestDb::open_with(TestBackend::Postgres, |o: StoreOptions| {
            o.with_max_connections(POOL)
        })
        .await?
        else {
            return Ok(None);
        };
        let db = test_db.db().clone();
        let consumer = new_consumer(&db, "c", 0).await?.id;
        db.record_launch(launch(consumer, "s")).await?;
        // Open every connection of the pool.
        let pool = db.postgres_pool().ok_or("not PostgreSQL")?.clone();
        let size = pool.options().get_max_connections();
        let held = futures::future::try_join_all((0..size).map(|_| pool.acquire())).await?;
        drop(held);
        let monitor =
            <PgConnection as sqlx::Connection>::connect_with(&pool.connect_options()).await?;
        Ok(Some((test_db, consumer, monitor)))
    }

    /// Ends the server backends of every pooled connection (as a server
    /// restart or `pg_terminate_backend` would) and waits until they are
    /// gone; returns how many there were.
    async fn kill_backends(db: &Db, monitor: &mut PgConnection) -> Result<i64, sqlx::Error> {
        const KILL: &str = "\
            SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
            WHERE application_name = current_setting('application_name') \
              AND pid <> pg_backend_pid()";
        const LEFT: &str = "\
            SELECT COUNT(*) FROM pg_stat_activity \
            WHERE application_name = current_setting('application_name') \
              AND pid <> pg_backend_pid()";
        // Wait until the pool's release pings have returned every
        // connection, so that none is killed mid-ping.
        let size = db
            .postgres_pool()
            .map_or(0, |pool| pool.options().get_max_connections() as usize);
        while db.postgres_pool().map_or(0, |pool| pool.num_idle()) < size {
            tokio::task::yield_now().await;
        }
        let killed: i64 = sqlx::query_scalar(KILL).fetch_one(&mut *monitor).await?;
        while sqlx::query_scalar::<_, i64>(LEFT)
            .fetch_one(&mut *monitor)
            .await?
            > 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        Ok(killed)
    }

    /// Without a ping before every use, page views still never fail when
    /// the server backends of every connection are gone: the read moves on
    /// to the next connection.
    #[tokio::test]
    async fn views_survive_after_backends_are_killed() -> TestResult {
        let Some((test_db, _, mut monitor)) = setup().await? else {
            return Ok(());
        };
        let db = test_db.db().clone();
        let resource = db.session_visits("s").await?.remove(0).resource;
        for _ in 0..3 {
            // At least the hot connection the reads use (see `hot`).
            assert!(kill_backends(&db, &mut monitor).await? >= 1);
            for _ in 0..2 * POOL {
                assert!(db.find_visit("s", resource).await?.is_some());
            }
        }
        test_db.close().await;
        Ok(())
    }

    /// The nonce statement relaxes `synchronous_commit` for its own
    /// transaction only: the connection's next statement commits as
    /// configured.
    #[tokio::test]
    async fn the_nonce_statement_relaxes_only_its_own_commit() -> TestResult {
        let Some((test_db, consumer, mut monitor)) = setup().await? else {
            return Ok(());
        };
        let mut conn = <PgConnection as sqlx::Connection>::connect_with(
            &test_db
                .db()
                .postgres_pool()
                .ok_or("not PostgreSQL")?
                .connect_options(),
        )
        .await?;
        let done = sqlx::query(super::admin::RECORD_NONCE)
            .bind(consumer.0)
            .bind("n-1")
            .bind(1_000_i64)
            .bind(lti_core::NONCE_WINDOW_SECS)
            .execute(&mut conn)
            .await?;
        assert_eq!(done.rows_affected(), 1);
        let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut conn)
            .await?;
        assert_eq!(setting, "on");
        let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nonces WHERE nonce = 'n-1'")
            .fetch_one(&mut monitor)
            .await?;
        assert_eq!(seen, 1, "visible to other sessions at once");
        test_db.close().await;
        Ok(())
    }

    /// A launch on a connection whose backend is gone fails as
    /// `Unavailable` (503), at most once per such connection: the pool
    /// closes each one after its failure, and then serves new ones.
    #[tokio::test]
    async fn launches_fail_at_most_once_per_connection_after_backends_are_killed() -> TestResult {
        let Some((test_db, consumer, mut monitor)) = setup().await? else {
            return Ok(());
        };
        let db = test_db.db().clone();
        // Launches run on hot connections (see `hot`): open some first.
        for i in 0..POOL {
            db.record_launch(launch(consumer, &format!("h{i}"))).await?;
        }
        let killed = kill_backends(&db, &mut monitor).await?;
        assert!(killed >= 2, "the pool's and the launches' connections");
        let mut failed = 0;
        for i in 0..3 * POOL {
            match db.record_launch(launch(consumer, &format!("s{i}"))).await {
                Ok(_) => {}
                Err(StoreError::Unavailable(_)) => failed += 1,
                Err(other) => return Err(other.into()),
            }
        }
        assert!(
            failed <= killed,
            "{failed} failures for {killed} connections"
        );
        // Afterwards every launch succeeds.
        for i in 0..2 * POOL {
            db.record_launch(launch(consumer, &format!("t{i}"))).await?;
        }
        test_db.close().await;
        Ok(())
    }
}
