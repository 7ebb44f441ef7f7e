//! [`HotConnections`]: PostgreSQL connections for the launch and page-view
//! statements, kept outside sqlx's pool.
//!
//! sqlx's pool sends a `Sync` and waits for the server's answer every time
//! a connection goes back into it (sqlx 0.9 `Floating::return_to_pool`, no
//! option turns it off). For a page view, one query, that doubles the
//! round trips and keeps a server backend busy for the second one; in the
//! profiles, loopback round trips were most of the cost (PERFORMANCE.md).
//! These connections go back onto a stack with no round trip at all.
//!
//! Safety of skipping the checks:
//! * A connection is only put back after its statement succeeded or failed
//!   with a statement error (the connection is then ready for the next
//!   one: every hot-path statement runs on its own, outside a
//!   transaction). After a lost connection, or when the caller's future is
//!   dropped mid-statement, the connection is dropped and closed instead.
//! * A connection idle for [`PING_IF_IDLE_FOR`] or longer is pinged before
//!   use, so a server restarted during a quiet spell is noticed before a
//!   statement is sent. One that died less than that before its next use
//!   fails that statement as [`StoreError::Unavailable`] (503) and is
//!   dropped; reads retry on another connection.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lti_core::{StoreError, StoreResult};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{PING_IF_IDLE_FOR, connection_lost};
use crate::error::map_sqlx_error;

/// Runs a read on a hot connection, and once more on another when its
/// connection was found lost (a read is safe to repeat; see the module
/// docs): `hot_read!(self.hot, conn => statement)`, where `statement` is a
/// future of `Result<T, sqlx::Error>` using `conn: &mut PgConnection`.
/// Evaluates to a `StoreResult<T>`; failing to get a connection returns
/// from the calling function.
macro_rules! hot_read {
    ($hot:expr, $conn:ident => $statement:expr) => {{
        let hot = &$hot;
        let mut attempts = hot.read_attempts();
        loop {
            let mut guard = hot.acquire().await?;
            let result = {
                let $conn: &mut sqlx::postgres::PgConnection = &mut guard;
                $statement.await
            };
            match guard.settle(result) {
                Err(error) if $crate::postgres::connection_lost(&error) && attempts > 1 => {
                    tracing::info!(%error, "connection lost; reading again");
                    attempts -= 1;
                }
                other => break other.map_err($crate::error::map_sqlx_error),
            }
        }
    }};
}
pub(super) use hot_read;

/// A stack of idle connections and a limit on how many are open.
pub(crate) struct HotConnections {
    options: PgConnectOptions,
    idle: Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

struct Idle {
    conn: PgConnection,
    since: Instant,
}

/// A connection in use; derefs to [`PgConnection`]. Give it back with
/// [`Hot::done`]; dropped otherwise (and closed).
pub(crate) struct Hot {
    conn: PgConnection,
    owner: Arc<HotConnections>,
    _permit: OwnedSemaphorePermit,
}

impl HotConnections {
    /// Up to `max` connections opened with `options` as needed.
    pub(crate) fn new(options: PgConnectOptions, max: u32, acquire_timeout: Duration) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max.max(1) as usize)),
            acquire_timeout,
        }
    }

    /// Takes an idle connection (pinged first if it sat idle for long) or
    /// opens one, waiting up to the acquire timeout while all are in use.
    pub(crate) async fn acquire(self: &Arc<Self>) -> StoreResult<Hot> {
        let permit =
            tokio::time::timeout(self.acquire_timeout, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| {
                    StoreError::Unavailable(
                        "timed out waiting for a database connection".to_owned(),
                    )
                })?
                .map_err(|_| StoreError::Unavailable("the store is closed".to_owned()))?;
        let idle = self.lock().pop();
        let conn = match idle {
            Some(Idle { mut conn, since }) if since.elapsed() >= PING_IF_IDLE_FOR => {
                match conn.ping().await {
                    Ok(()) => conn,
                    Err(_) => self.connect().await?,
                }
            }
            Some(Idle { conn, .. }) => conn,
            None => self.connect().await?,
        };
        Ok(Hot {
            conn,
            owner: self.clone(),
            _permit: permit,
        })
    }

    /// How many times a read tries: every idle connection may be dead
    /// (after a server restart), and one more try reaches a new one.
    pub(crate) fn read_attempts(&self) -> usize {
        self.permits.available_permits() + 2
    }

    /// Closes the idle connections and refuses new work.
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.lock());
        for Idle { conn, .. } in idle {
            let _ = conn.close().await;
        }
    }

    async fn connect(&self) -> StoreResult<PgConnection> {
        PgConnection::connect_with(&self.options)
            .await
            .map_err(map_sqlx_error)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Idle>> {
        // Push and pop cannot leave the stack half changed.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Hot {
    /// Ends the use of the connection by how its statement ended: put back
    /// after success or a statement error, dropped (closed) after a lost
    /// connection. Returns `result`.
    pub(crate) fn settle<T>(self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        match &result {
            Err(error) if connection_lost(error) => drop(self),
            _ => self.done(),
        }
        result
    }

    /// Puts the connection back for the next statement.
    pub(crate) fn done(self) {
        let Hot { conn, owner, .. } = self;
        if !owner.permits.is_closed() {
            owner.lock().push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }
}

impl Deref for Hot {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for Hot {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}
