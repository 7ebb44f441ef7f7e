//! [`Readers`]: SQLite connections that run reads on the calling thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lti_core::{StoreError, StoreResult};
use rusqlite::Connection;

use super::direct::{Target, map_error};

/// How long a reader may keep reading from one snapshot of a database file
/// while the store has written nothing: the most a write made outside the
/// store (another process, such as a `consumers disable` command) can go
/// unseen.
const MAX_SNAPSHOT_AGE: Duration = Duration::from_millis(5);

/// A stack of idle read connections. [`read`](Self::read) takes one (or
/// opens one), runs the read on the caller's thread and puts it back.
///
/// A read is one indexed statement of a few microseconds; running it in
/// place, without a hand-off to another thread and back, is what makes a
/// page view cheap (PERFORMANCE.md). In WAL mode a reader never waits for
/// the writer, so the caller's thread is not held up; in an in-memory
/// database a reader may wait out a commit in progress (microseconds).
///
/// On a database file, starting and ending a read transaction (WAL
/// read-mark locks, a system call each way) cost as much as the read
/// itself, so a reader keeps its read transaction, its *snapshot*, for the
/// next reads, until the store writes anything (the count of writes,
/// [`Commits`], moves on), or [`MAX_SNAPSHOT_AGE`] passes. Whatever the
/// store wrote is therefore visible to every read that starts after the
/// write returned: a page requested after a launch sees that launch, a
/// launch after a consumer was disabled sees it disabled. Writes made
/// outside the store (another process, a tool's own statements) are seen
/// within [`MAX_SNAPSHOT_AGE`]. Idle snapshots are let go before every
/// checkpoint and every second when the store is quiet
/// ([`release_idle_snapshots`](Self::release_idle_snapshots), called by the
/// writer's checkpoint thread), so they never hold the WAL back for long.
pub(crate) struct Readers {
    target: Target,
    busy_timeout: Duration,
    idle: Mutex<Vec<Reader>>,
    max_idle: usize,
    closed: AtomicBool,
    commits: Arc<Commits>,
    keep_snapshots: bool,
}

/// A count of the writes the readers' snapshots must not miss: every
/// commit of the writer thread, and every write of the store through
/// sqlx's pool (the admin operations, migrations).
#[derive(Debug, Default)]
pub(crate) struct Commits(AtomicU64);

impl Commits {
    /// Counts a commit; called before the committed units are answered.
    pub(crate) fn committed(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

struct Reader {
    conn: Connection,
    snapshot: Option<Snapshot>,
}

struct Snapshot {
    commits: u64,
    taken: Instant,
}

impl Reader {
    /// Ends the read transaction, if one is open. A reader whose
    /// transaction cannot be ended is not reused.
    fn end_snapshot(&mut self) -> StoreResult<()> {
        if self.snapshot.take().is_some() && !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT").map_err(map_error)?;
        }
        Ok(())
    }
}

impl Readers {
    /// Readers of `target`, keeping up to `max_idle` connections open;
    /// `commits` is the writer thread's commit count.
    pub(crate) fn new(
        target: Target,
        busy_timeout: Duration,
        max_idle: usize,
        commits: Arc<Commits>,
    ) -> Self {
        // An in-memory database has no WAL: there an open read transaction
        // would hold off the writer's commit.
        let keep_snapshots = matches!(target, Target::File(_));
        Self {
            target,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            max_idle: max_idle.max(1),
            closed: AtomicBool::new(false),
            commits,
            keep_snapshots,
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
        let mut reader = match self.lock().pop() {
            Some(reader) => reader,
            None => self.open()?,
        };
        self.refresh(&mut reader)?;
        let result = work(&reader.conn);
        if result.is_err() {
            // Start afresh after any failure.
            reader.end_snapshot()?;
        }
        if !self.closed.load(Ordering::Acquire) {
            let mut idle = self.lock();
            if idle.len() < self.max_idle {
                idle.push(reader);
            }
        }
        result
    }

    /// Ends the snapshot of every idle reader, so that a checkpoint can
    /// copy the whole WAL back into the database.
    pub(crate) fn release_idle_snapshots(&self) {
        let mut idle = self.lock();
        idle.retain_mut(|reader| reader.end_snapshot().is_ok());
    }

    /// Closes the idle connections; later reads fail as unavailable.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.lock().clear();
    }

    /// Makes the reader's snapshot current: ends it when the writer has
    /// committed since it was taken or it is too old, and starts a new one
    /// (a deferred `BEGIN`: the snapshot is taken by the first read).
    fn refresh(&self, reader: &mut Reader) -> StoreResult<()> {
        let commits = self.commits.current();
        if let Some(snapshot) = &reader.snapshot
            && (snapshot.commits != commits || snapshot.taken.elapsed() > MAX_SNAPSHOT_AGE)
        {
            reader.end_snapshot()?;
        }
        if self.keep_snapshots && reader.snapshot.is_none() {
            reader.conn.execute_batch("BEGIN").map_err(map_error)?;
            reader.snapshot = Some(Snapshot {
                commits,
                taken: Instant::now(),
            });
        }
        Ok(())
    }

    fn open(&self) -> StoreResult<Reader> {
        let conn = self.target.open(self.busy_timeout)?;
        // A reader never writes; make a mistake loud.
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(map_error)?;
        Ok(Reader {
            conn,
            snapshot: None,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Reader>> {
        // A panic while the lock was held cannot leave the stack half
        // changed (push and pop are atomic), so a poisoned lock is usable.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        dir: std::path::PathBuf,
        readers: Readers,
        commits: Arc<Commits>,
        other: Connection,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            self.readers.close();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Readers of a new database file with a table `t`, and another
    /// connection that writes behind the store's back.
    fn fixture() -> Fixture {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("lti-readers-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target::File(dir.join("readers.db"));
        let other = target.open(Duration::from_secs(5)).unwrap();
        other
            .execute_batch("PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let commits = Arc::new(Commits::default());
        let readers = Readers::new(target, Duration::from_secs(5), 4, commits.clone());
        Fixture {
            dir,
            readers,
            commits,
            other,
        }
    }

    fn rows(readers: &Readers) -> i64 {
        readers
            .read(|conn| {
                conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
                    .map_err(map_error)
            })
            .unwrap()
    }

    #[test]
    fn a_counted_write_is_seen_by_the_next_read() {
        let f = fixture();
        assert_eq!(rows(&f.readers), 0);
        f.other.execute("INSERT INTO t VALUES (1)", []).unwrap();
        f.commits.committed();
        assert_eq!(rows(&f.readers), 1);
    }

    #[test]
    fn an_uncounted_write_is_seen_once_the_snapshot_is_too_old() {
        let f = fixture();
        assert_eq!(rows(&f.readers), 0);
        f.other.execute("INSERT INTO t VALUES (1)", []).unwrap();
        // Within the snapshot's age the reader may still see its snapshot;
        // past it, it must see the write.
        std::thread::sleep(MAX_SNAPSHOT_AGE * 2);
        assert_eq!(rows(&f.readers), 1);
    }

    #[test]
    fn idle_snapshots_are_let_go_for_a_checkpoint() {
        let f = fixture();
        assert_eq!(rows(&f.readers), 0);
        f.other.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let checkpoint = |conn: &Connection| -> (i64, i64) {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(1)?, row.get(2)?))
            })
            .unwrap()
        };
        let (log, copied) = checkpoint(&f.other);
        assert!(
            copied < log,
            "the idle reader's snapshot holds the WAL back"
        );
        f.readers.release_idle_snapshots();
        let (log, copied) = checkpoint(&f.other);
        assert_eq!(copied, log, "nothing holds the WAL back any more");
    }
}
