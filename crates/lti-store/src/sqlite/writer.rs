//! [`Writer`]: the one thread that runs the hot-path writes, committing
//! whatever is queued together (group commit).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use lti_core::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::direct::{Target, map_error};
use super::readers::{Commits, Readers};

/// Most units of work committed in one transaction.
const MAX_BATCH: usize = 128;

/// Commits between two nudges to the checkpointer.
const COMMITS_PER_CHECKPOINT: u32 = 32;

/// How often the checkpoint thread, when not nudged, lets go of the idle
/// readers' snapshots.
const SNAPSHOT_SWEEP: Duration = Duration::from_secs(1);

/// What a unit of work leaves for after the commit: it sends the caller its
/// result, or the commit's error when the commit failed.
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// A unit of work queued for the writer thread.
trait Unit: Send {
    /// Runs on the writer's connection inside a savepoint; says whether it
    /// succeeded (else its savepoint is rolled back).
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Completion);
    /// Answers the caller with `err` without running.
    fn fail(self: Box<Self>, err: &StoreError);
}

type Job = Box<dyn Unit>;

/// A caller's closure and where its answer goes.
struct Work<T, F> {
    work: F,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Unit for Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Completion) {
        let Work { work, reply } = *self;
        let result = catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "a database operation panicked".to_owned(),
            ))
        });
        let succeeded = result.is_ok();
        let completion: Completion = Box::new(move |commit_error| {
            let outcome = match commit_error {
                Some(err) if succeeded => Err(err.clone()),
                _ => result,
            };
            // The caller may have gone; the work is done either way.
            let _ = reply.send(outcome);
        });
        (succeeded, completion)
    }

    fn fail(self: Box<Self>, err: &StoreError) {
        let _ = self.reply.send(Err(err.clone()));
    }
}

/// A dedicated thread owning the store's write connection.
///
/// SQLite has one writer at a time. Each caller's unit of work (a whole
/// launch, a nonce, a session re-key) is queued to this thread and runs
/// there with no thread hand-off per statement. The thread takes every unit
/// queued so far (up to [`MAX_BATCH`]), runs each in a savepoint of one
/// `BEGIN IMMEDIATE` transaction, commits once, and only then answers the
/// callers: a unit that fails is rolled back alone, a failed commit fails
/// them all, and nobody hears "done" before the data is committed. Under
/// load this is group commit: 500 simultaneous launches share a handful of
/// commits instead of queueing for 500.
///
/// A caller that stops waiting (a client disconnecting mid-launch) does not
/// cancel its unit: it is committed or rolled back whole, like any other.
///
/// On a database file, WAL checkpoints (copying the log back into the
/// database and syncing it, milliseconds each) run on a second thread with
/// its own connection, nudged every [`COMMITS_PER_CHECKPOINT`] commits,
/// instead of inside a commit of the writer (SQLite's automatic checkpoint),
/// where every launch queued behind it would wait for the disk. The same
/// thread lets go of idle readers' snapshots before each checkpoint and
/// every [`SNAPSHOT_SWEEP`] when quiet.
pub(crate) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Opens the write connection on a new thread; counts its commits in
    /// `commits`; lets go of the idle `readers`' snapshots before each
    /// checkpoint.
    pub(crate) fn start(
        target: Target,
        busy_timeout: Duration,
        commits: Arc<Commits>,
        readers: Option<Arc<Readers>>,
    ) -> StoreResult<Self> {
        let conn = target.open(busy_timeout)?;
        let checkpoints = match target {
            Target::File(_) => {
                conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")
                    .map_err(map_error)?;
                Some(Checkpointer::start(target.open(busy_timeout)?, readers)?)
            }
            Target::Memory(_) => None,
        };
        let (sender, receiver) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("lti-sqlite-writer".to_owned())
            .spawn(move || run(&conn, &receiver, &commits, checkpoints))
            .map_err(|err| StoreError::Backend(format!("cannot start the writer thread: {err}")))?;
        Ok(Self {
            jobs: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs `work` on the writer thread, inside the next transaction, and
    /// returns its result once that transaction has committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(Work { work, reply });
        let sent = match &*lock(&self.jobs) {
            Some(sender) => sender.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::Unavailable("the store is closed".to_owned()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Backend("the writer thread stopped".to_owned())))
    }

    /// Lets the queued work finish, then stops the thread and closes the
    /// connection. Later writes fail as unavailable.
    pub(crate) async fn close(&self) {
        lock(&self.jobs).take();
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::warn!("the SQLite writer thread did not stop cleanly");
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The writer thread: waits for work, then commits batches until every
/// sender is gone; then stops the checkpointer after a last checkpoint.
fn run(
    conn: &Connection,
    jobs: &mpsc::Receiver<Job>,
    commits: &Commits,
    checkpoints: Option<Checkpointer>,
) {
    let mut since_checkpoint = 0u32;
    while let Ok(first) = jobs.recv() {
        let mut batch = Vec::with_capacity(8);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(conn, batch, commits);
        since_checkpoint += 1;
        if since_checkpoint >= COMMITS_PER_CHECKPOINT
            && let Some(checkpoints) = &checkpoints
        {
            checkpoints.nudge();
            since_checkpoint = 0;
        }
    }
    if let Some(checkpoints) = checkpoints {
        checkpoints.stop();
    }
}

/// The checkpoint thread of a database file.
struct Checkpointer {
    nudges: mpsc::SyncSender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    fn start(conn: Connection, readers: Option<Arc<Readers>>) -> StoreResult<Self> {
        let (nudges, receiver) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("lti-sqlite-checkpoint".to_owned())
            .spawn(move || {
                let release = || {
                    if let Some(readers) = &readers {
                        readers.release_idle_snapshots();
                    }
                };
                loop {
                    match receiver.recv_timeout(SNAPSHOT_SWEEP) {
                        Ok(()) => {
                            release();
                            checkpoint(&conn);
                        }
                        // Quiet: let go of the snapshots idle readers kept,
                        // so nothing holds the WAL (or an operator's
                        // `VACUUM`) back for long once traffic stops.
                        Err(mpsc::RecvTimeoutError::Timeout) => release(),
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                checkpoint(&conn);
            })
            .map_err(|err| {
                StoreError::Backend(format!("cannot start the checkpoint thread: {err}"))
            })?;
        Ok(Self { nudges, thread })
    }

    /// Asks for a checkpoint; a nudge while one is pending is dropped.
    fn nudge(&self) {
        let _ = self.nudges.try_send(());
    }

    /// Runs a last checkpoint and waits for the thread to end.
    fn stop(self) {
        drop(self.nudges);
        if self.thread.join().is_err() {
            tracing::warn!("the SQLite checkpoint thread panicked");
        }
    }
}

/// A passive checkpoint: copies what it can of the log into the database
/// without blocking the writer or the readers.
fn checkpoint(conn: &Connection) {
    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    match done {
        Ok((_, log, copied)) => tracing::trace!(log, copied, "WAL checkpoint"),
        Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed"),
    }
}

/// Runs a batch in one transaction, each unit in its own savepoint.
fn commit_batch(conn: &Connection, batch: Vec<Job>, commits: &Commits) {
    // BEGIN IMMEDIATE takes the write lock now (waiting out another
    // process's writer within the busy timeout), so no statement inside can
    // fail for want of it.
    if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
        let err = map_error(err);
        fail_unrun(batch, &err);
        return;
    }
    let mut done: Vec<Completion> = Vec::with_capacity(batch.len());
    let mut batch = batch.into_iter();
    let mut lost: Option<StoreError> = None;
    for job in batch.by_ref() {
        if let Err(err) = conn.execute_batch("SAVEPOINT unit") {
            let err = map_error(err);
            job.fail(&err);
            lost = Some(err);
            break;
        }
        let (succeeded, completion) = job.run(conn);
        done.push(completion);
        let end = if succeeded {
            "RELEASE unit"
        } else {
            "ROLLBACK TO unit; RELEASE unit"
        };
        let ended = conn.execute_batch(end);
        // Some errors (I/O, disk full) make SQLite roll back the whole
        // transaction; then nothing of this batch can be committed, and
        // running the rest in autocommit mode would commit them unasked.
        if conn.is_autocommit() || ended.is_err() {
            lost = Some(match ended {
                Err(err) => map_error(err),
                Ok(()) => {
                    StoreError::Unavailable("the database rolled the transaction back".to_owned())
                }
            });
            break;
        }
    }
    let ended = match lost {
        Some(err) => {
            fail_unrun(batch, &err);
            Err(err)
        }
        None => conn.execute_batch("COMMIT").map_err(map_error),
    };
    match ended {
        Ok(()) => {
            // Counted before anyone hears "done", so every read that starts
            // after the answer takes a snapshot that includes this commit.
            commits.committed();
            for completion in done {
                completion(None);
            }
        }
        Err(err) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            for completion in done {
                completion(Some(&err));
            }
        }
    }
}

/// Answers units that were never run with `err`.
fn fail_unrun(jobs: impl IntoIterator<Item = Job>, err: &StoreError) {
    for job in jobs {
        job.fail(err);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer_on_new_file() -> (tempdir::Dir, Writer) {
        let dir = tempdir::Dir::new();
        let target = Target::File(dir.path().join("writer.db"));
        let writer = Writer::start(target, Duration::from_secs(5), Arc::default(), None).unwrap();
        (dir, writer)
    }

    /// A throw-away directory (the crate's `testing` feature is not on in
    /// its own unit tests).
    mod tempdir {
        use std::path::{Path, PathBuf};

        pub(super) struct Dir(PathBuf);

        impl Dir {
            pub(super) fn new() -> Self {
                let mut random = [0u8; 8];
                getrandom::fill(&mut random).unwrap();
                let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
                let path = std::env::temp_dir().join(format!("lti-writer-{name}"));
                std::fs::create_dir_all(&path).unwrap();
                Self(path)
            }

            pub(super) fn path(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn count(conn: &Connection) -> StoreResult<i64> {
        conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .map_err(map_error)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failing_unit_is_rolled_back_alone_in_its_batch() {
        let (_dir, writer) = writer_on_new_file();
        let writer = std::sync::Arc::new(writer);
        writer
            .write(|conn| {
                conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)")
                    .map_err(map_error)
            })
            .await
            .unwrap();
        // 200 units at once, so batches form; every tenth inserts its row
        // and then fails on a duplicate.
        let mut tasks = Vec::new();
        for i in 0..200i64 {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                writer
                    .write(move |conn| {
                        conn.execute("INSERT INTO t VALUES (?1)", [i + 1000])
                            .map_err(map_error)?;
                        if i % 10 == 0 {
                            conn.execute("INSERT INTO t VALUES (?1)", [i + 1000])
                                .map_err(map_error)?;
                        }
                        Ok(i)
                    })
                    .await
            }));
        }
        let mut failed = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => failed += 1,
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(failed, 20);
        let rows = writer.write(count).await.unwrap();
        assert_eq!(
            rows, 180,
            "the failed units' first inserts were rolled back"
        );
        let failed_rows = writer
            .write(|conn| {
                conn.query_row(
                    "SELECT COUNT(*) FROM t WHERE (x - 1000) % 10 = 0",
                    [],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(map_error)
            })
            .await
            .unwrap();
        assert_eq!(failed_rows, 0);
    }

    #[tokio::test]
    async fn a_unit_whose_caller_went_away_is_still_committed() {
        let (_dir, writer) = writer_on_new_file();
        writer
            .write(|conn| {
                conn.execute_batch("CREATE TABLE t (x INTEGER)")
                    .map_err(map_error)
            })
            .await
            .unwrap();
        let writer = std::sync::Arc::new(writer);
        let gate = std::sync::Arc::new(std::sync::Barrier::new(2));
        let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Hold the writer thread so the next unit is queued, then drop its
        // caller before it runs.
        let (blocker, flag, holder) = (gate.clone(), started.clone(), writer.clone());
        let held = tokio::spawn(async move {
            holder
                .write(move |_| {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    blocker.wait();
                    Ok(())
                })
                .await
        });
        while !started.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let dropped = writer.write(|conn| {
            conn.execute("INSERT INTO t VALUES (1)", [])
                .map_err(map_error)
        });
        let polled = tokio::time::timeout(Duration::from_millis(20), dropped).await;
        assert!(polled.is_err(), "the unit cannot have run yet");
        gate.wait();
        held.await.unwrap().unwrap();
        let rows = writer.write(count).await.unwrap();
        assert_eq!(rows, 1);
    }

    #[tokio::test]
    async fn idle_snapshots_are_let_go_when_the_store_is_quiet() {
        let dir = tempdir::Dir::new();
        let target = Target::File(dir.path().join("quiet.db"));
        let commits = Arc::new(Commits::default());
        let readers = Arc::new(Readers::new(
            target.clone(),
            Duration::from_secs(5),
            4,
            commits.clone(),
        ));
        let writer = Writer::start(
            target.clone(),
            Duration::from_secs(5),
            commits,
            Some(readers.clone()),
        )
        .unwrap();
        writer
            .write(|conn| {
                conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
                    .map_err(map_error)
            })
            .await
            .unwrap();
        // A read leaves its reader idle with a snapshot.
        readers.read(count).unwrap();
        // Another process writes; with the snapshot held, a checkpoint
        // cannot copy that write back.
        let other = target.open(Duration::from_secs(5)).unwrap();
        other.execute("INSERT INTO t VALUES (2)", []).unwrap();
        tokio::time::sleep(SNAPSHOT_SWEEP * 2 + Duration::from_millis(200)).await;
        let (log, copied): (i64, i64) = other
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get(1)?, row.get(2)?))
            })
            .unwrap();
        assert_eq!(copied, log, "the quiet sweep let the snapshot go");
        writer.close().await;
        readers.close();
    }

    #[tokio::test]
    async fn a_closed_writer_refuses_work_as_unavailable() {
        let (_dir, writer) = writer_on_new_file();
        writer.write(|_| Ok(())).await.unwrap();
        writer.close().await;
        let refused = writer.write(|_| Ok(())).await;
        assert!(matches!(refused, Err(StoreError::Unavailable(_))));
    }
}
