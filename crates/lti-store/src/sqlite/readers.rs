//! [`Readers`]: SQLite connections that run reads on the calling thread.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lti_core::{StoreError, StoreResult};
use rusqlite::Connection;

use super::direct::Target;

/// A stack of idle read connections. [`read`](Self::read) takes one (or
/// opens one), runs the read on the caller's thread and puts it back.
///
/// A read is one indexed statement of a few microseconds; running it in
/// place, without a hand-off to another thread and back, is what makes a
/// page view cheap (PERFORMANCE.md). In WAL mode a reader never waits for
/// the writer, so the caller's thread is not held up; in an in-memory
/// database a reader may wait out a commit in progress (microseconds).
pub(crate) struct Readers {
    target: Target,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
    closed: AtomicBool,
}

impl Readers {
    /// Readers of `target`, keeping up to `max_idle` connections open.
    pub(crate) fn new(target: Target, busy_timeout: Duration, max_idle: usize) -> Self {
        Self {
            target,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
            closed: AtomicBool::new(false),
        }
    }

    /// Runs `work` on a read connection, on this thread.
    pub(crate) fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable("the store is closed".to_owned()));
        }
        let conn = match self.lock().pop() {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = work(&conn);
        if !self.closed.load(Ordering::Acquire) {
            let mut idle = self.lock();
            if idle.len() < self.max_idle {
                idle.push(conn);
            }
        }
        result
    }

    /// Closes the idle connections; later reads fail as unavailable.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.lock().clear();
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = self.target.open(self.busy_timeout)?;
        // A reader never writes; make a mistake loud.
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(super::direct::map_error)?;
        Ok(conn)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while the lock was held cannot leave the stack half
        // changed (push and pop are atomic), so a poisoned lock is usable.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
