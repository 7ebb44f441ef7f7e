//! Concurrency and load against the real `mytool` binary over loopback
//! HTTP (RELIABILITY.md §5), on a SQLite file and on PostgreSQL:
//!
//! * 200 concurrent launches carrying one nonce: exactly one is accepted,
//!   the other 199 are refused as replays (401), none fails;
//! * a mixed launch / cookie test / page load at concurrency 32 for
//!   `LTI_LOAD_SECS` seconds (5 in CI; 60 for the record): no error, and
//!   afterwards no growth in the server's open sockets, PostgreSQL
//!   connections or memory between rounds.
//!
//! The load stays on 127.0.0.1, bounded in time and in concurrency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use lti_e2e::TempDir;
use lti_e2e::hardening::{LoadReport, ToolProcess, load_secs};
use lti_store::testing::{PgSchema, Table, count_rows, postgres_url};
use lti_testkit::{HttpClient, LaunchBuilder};

const SECRET: &str = "application secret for the hardening load tests";
const CONCURRENCY: usize = 32;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn start(database_url: &str) -> ToolProcess {
    ToolProcess::start(
        env!("CARGO_BIN_EXE_mytool"),
        &["--database-url", database_url, "--create-silo"],
        &[("LTI_APP_SECRET", SECRET), ("RUST_LOG", "warn")],
    )
    .expect("mytool starts")
}

fn client(tool: &ToolProcess) -> HttpClient {
    HttpClient::new(tool.socket_addr()).with_host(format!("localhost:{}", tool.port()))
}

fn launch(tool: &ToolProcess) -> LaunchBuilder {
    LaunchBuilder::new()
        .url(format!("http://localhost:{}/launch", tool.port()))
        .timestamp(now())
        .fresh_nonce()
}

/// A PostgreSQL URL for a fresh schema, its connections named after it
/// (`application_name`) so `pg_stat_activity` can count them.
async fn pg_database() -> Option<(PgSchema, String, String)> {
    let base = postgres_url()?;
    let schema = PgSchema::create(&base).await.expect("a test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!(
        "{base}{separator}options=-c%20search_path%3D{name}&application_name={name}",
        name = schema.name()
    );
    Some((schema, url, base))
}

/// 200 browsers post the same signed launch at once.
async fn one_nonce_many_launches(tool: &ToolProcess) -> (u64, u64, LoadReport) {
    let body = launch(tool).resource_link_id("replayed").body();
    let template = client(tool);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let browser = template.new_browser();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let status = browser
                .try_request(
                    http::Method::POST,
                    "/launch",
                    &[("content-type", "application/x-www-form-urlencoded")],
                    body,
                )
                .await
                .ok()
                .map(|r| r.status().as_u16());
            (status, t.elapsed())
        }));
    }
    let mut report = LoadReport::default();
    for task in tasks {
        let (status, latency) = task.await.expect("a launch task");
        report.record(status, latency);
    }
    report.elapsed = started.elapsed();
    let accepted = report.by_status.get(&303).copied().unwrap_or(0);
    let replays = report.by_status.get(&401).copied().unwrap_or(0);
    (accepted, replays, report)
}

fn assert_exactly_one(accepted: u64, replays: u64, report: &LoadReport) {
    eprintln!("one nonce, 200 concurrent launches: {}", report.summary());
    assert_eq!(accepted, 1, "{}", report.summary());
    assert_eq!(replays, 199, "{}", report.summary());
    assert_eq!(report.transport_errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_nonce_in_200_concurrent_launches_passes_once_on_a_sqlite_file() {
    let dir = TempDir::new("hardening-nonce").expect("a temp dir");
    let url = format!("sqlite:{}", dir.path().join("tool.sqlite3").display());
    let tool = start(&url);
    let (accepted, replays, report) = one_nonce_many_launches(&tool).await;
    assert_exactly_one(accepted, replays, &report);
    drop(tool);
    let db = lti_store::open(&url, &lti_store::StoreOptions::new())
        .await
        .expect("the database");
    assert_eq!(count_rows(&db, Table::Visits).await.expect("count"), 1);
    assert_eq!(count_rows(&db, Table::Nonces).await.expect("count"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_nonce_in_200_concurrent_launches_passes_once_on_postgres() {
    let Some((schema, url, _)) = pg_database().await else {
        return;
    };
    let tool = start(&url);
    let (accepted, replays, report) = one_nonce_many_launches(&tool).await;
    assert_exactly_one(accepted, replays, &report);
    drop(tool);
    drop(schema);
}

/// One browser's visit: launch, cookie test, resource page, then the page
/// `pages` more times. Every status is recorded; anything but the
/// expected 303, 303, 200… counts as an error.
async fn visit(
    browser: &HttpClient,
    port: u16,
    n: u64,
    pages: usize,
    report: &mut LoadReport,
) -> u64 {
    let mut errors = 0;
    let mut step = |status: Option<StatusCode>, expected: StatusCode, t: Instant| {
        report.record(status.map(|s| s.as_u16()), t.elapsed());
        if status != Some(expected) {
            errors += 1;
            false
        } else {
            true
        }
    };
    let launch = LaunchBuilder::new()
        .url(format!("http://localhost:{port}/launch"))
        .timestamp(now())
        .fresh_nonce()
        .resource_link_id(format!("link-{}", n % 16))
        .context_id(format!("course-{}", n % 4))
        .user_id(format!("user-{n}"))
        .roles(if n.is_multiple_of(5) {
            "Instructor"
        } else {
            "Learner"
        });
    let t = Instant::now();
    let response = browser
        .try_request(
            http::Method::POST,
            "/launch",
            &[("content-type", "application/x-www-form-urlencoded")],
            launch.body(),
        )
        .await
        .ok();
    if !step(
        response.as_ref().map(|r| r.status()),
        StatusCode::SEE_OTHER,
        t,
    ) {
        return errors;
    }
    let Some(ctest_url) = response.and_then(|r| r.location().map(str::to_owned)) else {
        return errors + 1;
    };
    let t = Instant::now();
    let ctest = browser
        .try_request(http::Method::GET, &ctest_url, &[], "")
        .await
        .ok();
    if !step(ctest.as_ref().map(|r| r.status()), StatusCode::SEE_OTHER, t) {
        return errors;
    }
    let Some(page_url) = ctest.and_then(|r| r.location().map(str::to_owned)) else {
        return errors + 1;
    };
    for _ in 0..=pages {
        let t = Instant::now();
        let page = browser
            .try_request(http::Method::GET, &page_url, &[], "")
            .await
            .ok();
        if !step(page.as_ref().map(|r| r.status()), StatusCode::OK, t) {
            return errors;
        }
    }
    errors
}

/// `CONCURRENCY` workers, each a chain of fresh browsers, until `secs`
/// have passed. Returns the report and the number of errors.
async fn mixed_load(tool: &ToolProcess, secs: u64) -> (LoadReport, u64) {
    let template = Arc::new(client(tool));
    let port = tool.port();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let template = Arc::clone(&template);
        tasks.push(tokio::spawn(async move {
            let mut report = LoadReport::default();
            let mut errors = 0;
            let mut n = worker as u64;
            while Instant::now() < deadline {
                let browser = template.new_browser();
                errors += visit(&browser, port, n, 3, &mut report).await;
                n += CONCURRENCY as u64;
            }
            (report, errors)
        }));
    }
    let mut report = LoadReport::default();
    let mut errors = 0;
    for task in tasks {
        let (part, e) = task.await.expect("a load worker");
        report.merge(part);
        errors += e;
    }
    report.elapsed = started.elapsed();
    (report, errors)
}

/// Waits (up to 10 s) for the server's socket count to fall to `at_most`;
/// returns the count it settled at.
async fn settled_sockets(tool: &ToolProcess, at_most: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = tool.open_sockets();
        if n <= at_most || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// PostgreSQL connections named `application` (the tool's pool).
async fn pg_connections(base: &str, application: &str) -> i64 {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("a PostgreSQL connection");
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1")
            .bind(application)
            .fetch_one(&mut conn)
            .await
            .expect("pg_stat_activity");
    let _ = conn.close().await;
    n
}

/// The whole load scenario: a warm-up round, then two measured rounds of
/// `secs` each; the second must not grow sockets or memory past the first.
async fn load_scenario(tool: &ToolProcess, label: &str, pg: Option<(&str, &str)>) {
    let secs = load_secs(5);
    let max_pool = 8; // database.max_connections
    let idle_sockets = tool.open_sockets();
    let (warm, warm_errors) = mixed_load(tool, secs.min(3)).await;
    assert_eq!(warm_errors, 0, "{label} warm-up: {}", warm.summary());
    let mut rounds = Vec::new();
    for round in 1..=2 {
        let (report, errors) = mixed_load(tool, secs).await;
        // The load's clients are gone: their keep-alive connections close.
        let sockets = settled_sockets(tool, idle_sockets + max_pool).await;
        let rss = tool.rss_kib();
        let pg_conns = match pg {
            Some((base, app)) => Some(pg_connections(base, app).await),
            None => None,
        };
        eprintln!(
            "{label} round {round}: {}; errors {errors}; server sockets {sockets} (idle {idle_sockets}); \
             RSS {rss} KiB; PostgreSQL connections {pg_conns:?}",
            report.summary()
        );
        assert_eq!(errors, 0, "{label} round {round}: {}", report.summary());
        assert_eq!(report.server_errors(), 0);
        assert_eq!(report.transport_errors, 0);
        assert!(
            sockets <= idle_sockets + max_pool,
            "{label}: {sockets} sockets after the load, {idle_sockets} before (pool of {max_pool})"
        );
        if let Some(n) = pg_conns {
            assert!(n >= 1, "{label}: the pool's connections are counted");
            assert!(
                n <= i64::from(max_pool as u32),
                "{label}: {n} PostgreSQL connections"
            );
        }
        rounds.push((sockets, rss, pg_conns));
    }
    let (s1, rss1, pg1) = rounds[0];
    let (s2, rss2, pg2) = rounds[1];
    assert!(
        s2 <= s1.max(idle_sockets + max_pool),
        "sockets grew: {s1} → {s2}"
    );
    if let (Some(a), Some(b)) = (pg1, pg2) {
        assert!(
            b <= a.max(i64::from(max_pool as u32)),
            "connections grew: {a} → {b}"
        );
    }
    // Memory: the second round may not add more than a quarter of what
    // the process held after the first (allocator arenas and SQLite's page
    // cache settle in the warm-up and the first round).
    let allowed = rss1 / 4 + 4096;
    assert!(
        rss2 <= rss1 + allowed,
        "{label}: RSS grew from {rss1} KiB to {rss2} KiB between equal rounds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_has_no_errors_and_leaks_nothing_on_a_sqlite_file() {
    let dir = TempDir::new("hardening-load").expect("a temp dir");
    let url = format!("sqlite:{}", dir.path().join("tool.sqlite3").display());
    let tool = start(&url);
    load_scenario(&tool, "SQLite", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_has_no_errors_and_leaks_nothing_on_postgres() {
    let Some((schema, url, base)) = pg_database().await else {
        return;
    };
    let tool = start(&url);
    load_scenario(&tool, "PostgreSQL", Some((&base, schema.name()))).await;
    drop(tool);
    drop(schema);
}
