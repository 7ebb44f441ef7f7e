//! SQLite under lock contention (RELIABILITY.md §5): a writer holding the
//! database makes launches wait within the busy timeout and then succeed;
//! a lock held past the busy timeout is a 503 with `Retry-After` and a
//! page, never a 500; afterwards launches work again and
//! `PRAGMA integrity_check` is `ok`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use lti_store::testing::{TempDir, scalar_i64};
use lti_store::{Db, StoreOptions};
use lti_testkit::{TestResponse, TestTool};
use sqlx::Connection as _;
use sqlx::sqlite::SqliteConnection;

const BUSY_TIMEOUT: Duration = Duration::from_millis(1500);

/// Holds SQLite's write lock (`BEGIN IMMEDIATE`) on `path` for `hold`,
/// from another connection, as another process would.
async fn hold_write_lock(path: String, hold: Duration) -> tokio::task::JoinHandle<()> {
    let mut conn = SqliteConnection::connect(&format!("sqlite:{path}"))
        .await
        .expect("a second connection");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .expect("the write lock");
    tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        sqlx::query("COMMIT")
            .execute(&mut conn)
            .await
            .expect("release the lock");
        let _ = conn.close().await;
    })
}

async fn launches(tool: &TestTool, n: usize, tag: &str) -> Vec<TestResponse> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let browser = tool.client();
        let launch = tool
            .launch()
            .resource_link_id(format!("{tag}-{i}"))
            .user_id(format!("{tag}-user-{i}"))
            .context_id("course");
        tasks.push(tokio::spawn(async move { browser.launch(&launch).await }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("a launch"));
    }
    out
}

async fn consistent(db: &Db) {
    for (what, sql) in [
        (
            "visits without their resource",
            "SELECT COUNT(*) FROM visits v LEFT JOIN resources r ON r.id = v.resource_id \
             WHERE r.id IS NULL",
        ),
        (
            "visits without their user",
            "SELECT COUNT(*) FROM visits v LEFT JOIN users u ON u.id = v.user_key \
             WHERE u.id IS NULL",
        ),
        (
            "resources without a visit",
            "SELECT COUNT(*) FROM resources r WHERE NOT EXISTS \
             (SELECT 1 FROM visits v WHERE v.resource_id = r.id)",
        ),
        (
            "users without a visit",
            "SELECT COUNT(*) FROM users u WHERE NOT EXISTS \
             (SELECT 1 FROM visits v WHERE v.user_key = u.id)",
        ),
    ] {
        assert_eq!(scalar_i64(db, sql).await.expect(what), 0, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_is_waited_for_then_a_503_and_never_corrupted() {
    let dir = TempDir::new("hardening-busy").expect("a temp dir");
    let path = dir.path().join("tool.sqlite3").display().to_string();
    let db = lti_store::open(
        &format!("sqlite:{path}"),
        &StoreOptions::new().with_busy_timeout(BUSY_TIMEOUT),
    )
    .await
    .expect("the database");
    let tool = TestTool::builder()
        .with_store(Arc::new(db.clone()))
        .build()
        .await;

    // A lock held for less than the busy timeout: launches wait and pass.
    let holder = hold_write_lock(path.clone(), BUSY_TIMEOUT / 3).await;
    let started = Instant::now();
    let waited = launches(&tool, 8, "short").await;
    let took = started.elapsed();
    holder.await.expect("the lock holder");
    for response in &waited {
        common::assert_status(response, StatusCode::SEE_OTHER);
    }
    assert!(
        took >= BUSY_TIMEOUT / 4,
        "the launches waited for the lock ({took:?})"
    );
    eprintln!(
        "8 launches behind a {:?} lock: all 303 in {took:?}",
        BUSY_TIMEOUT / 3
    );

    // A lock held past the busy timeout: 503, Retry-After, a page. (A
    // launch that got its connection late may still see the lock go and
    // pass; none may fail any other way.)
    let hold = BUSY_TIMEOUT * 2 + Duration::from_millis(500);
    let holder = hold_write_lock(path.clone(), hold).await;
    let started = Instant::now();
    let long = launches(&tool, 4, "long").await;
    let took = started.elapsed();
    holder.await.expect("the lock holder");
    let statuses: Vec<u16> = long.iter().map(|r| r.status().as_u16()).collect();
    eprintln!("4 launches behind a {hold:?} lock: {statuses:?} in {took:?}");
    let mut passed = 0;
    for response in &long {
        if response.status() == StatusCode::SEE_OTHER {
            passed += 1;
            continue;
        }
        common::assert_status(response, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            response.header("retry-after").is_some(),
            "{:?}",
            response.headers()
        );
        assert!(
            response.text().contains("Temporarily unavailable"),
            "{}",
            response.text()
        );
        assert!(response.set_cookies().is_empty(), "a 503 changes no cookie");
    }
    assert!(
        passed < long.len(),
        "the lock made some launches fail: {statuses:?}"
    );

    // The lock is gone: launches work, and the file is sound.
    for response in launches(&tool, 4, "after").await {
        common::assert_status(&response, StatusCode::SEE_OTHER);
    }
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(db.sqlite_pool().expect("a SQLite pool"))
        .await
        .expect("integrity_check");
    assert_eq!(ok, "ok");
    consistent(&db).await;
    let visits: usize = scalar_i64(&db, "SELECT COUNT(*) FROM visits")
        .await
        .expect("visits")
        .try_into()
        .expect("a count");
    assert_eq!(
        visits,
        12 + passed,
        "8 waited + those that passed + 4 after; the refused ones left nothing"
    );
}
