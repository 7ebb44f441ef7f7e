//! Faults under load against the real `mytool` binary (RELIABILITY.md §5):
//!
//! * its PostgreSQL server stops under load: requests get 503 with
//!   `Retry-After` and a page (never a 500), the process stays up, and it
//!   serves normally within seconds of the server's return, without a
//!   restart. The server is a private cluster made for the test (the
//!   machine's shared one is never touched) and removed afterwards;
//! * SIGTERM under load: in-flight requests finish, the process exits
//!   cleanly within its grace period, and no launch leaves partial rows.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use lti_e2e::TempDir;
use lti_e2e::hardening::{PrivatePostgres, ToolProcess};
use lti_store::testing::scalar_i64;
use lti_testkit::{HttpClient, LaunchBuilder, TestResponse};

const SECRET: &str = "application secret for the hardening fault tests";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn client(tool: &ToolProcess) -> HttpClient {
    HttpClient::new(tool.socket_addr()).with_host(format!("localhost:{}", tool.port()))
}

/// Writes a settings file and returns its path.
fn settings(dir: &TempDir, json: &str) -> String {
    let path = dir.path().join("settings.json");
    std::fs::write(&path, json).expect("write settings");
    path.display().to_string()
}

/// What one request came back with.
#[derive(Debug, Clone)]
struct Outcome {
    launch: bool,
    sent: Instant,
    done: Instant,
    status: Option<u16>,
    retry_after: bool,
    page: bool,
}

fn outcome(launch: bool, sent: Instant, response: Option<&TestResponse>) -> Outcome {
    Outcome {
        launch,
        sent,
        done: Instant::now(),
        status: response.map(|r| r.status().as_u16()),
        retry_after: response.is_some_and(|r| r.header("retry-after").is_some()),
        page: response.is_some_and(|r| {
            r.header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
                && r.text().contains("</html>")
        }),
    }
}

/// A browser's launch → cookie test → page, recording every request.
async fn visit(browser: &HttpClient, port: u16, n: u64, out: &mut Vec<Outcome>) {
    let launch = LaunchBuilder::new()
        .url(format!("http://localhost:{port}/launch"))
        .timestamp(now())
        .fresh_nonce()
        .resource_link_id(format!("link-{n}"))
        .context_id(format!("course-{n}"))
        .user_id(format!("user-{n}"));
    let sent = Instant::now();
    let response = browser
        .try_request(
            http::Method::POST,
            "/launch",
            &[("content-type", "application/x-www-form-urlencoded")],
            launch.body(),
        )
        .await
        .ok();
    out.push(outcome(true, sent, response.as_ref()));
    let Some(next) = response
        .filter(|r| r.status() == StatusCode::SEE_OTHER)
        .and_then(|r| r.location().map(str::to_owned))
    else {
        return;
    };
    let sent = Instant::now();
    let ctest = browser
        .try_request(http::Method::GET, &next, &[], "")
        .await
        .ok();
    out.push(outcome(false, sent, ctest.as_ref()));
    let Some(page) = ctest
        .filter(|r| r.status() == StatusCode::SEE_OTHER)
        .and_then(|r| r.location().map(str::to_owned))
    else {
        return;
    };
    let sent = Instant::now();
    let response = browser
        .try_request(http::Method::GET, &page, &[], "")
        .await
        .ok();
    out.push(outcome(false, sent, response.as_ref()));
}

/// `workers` chains of browsers until `stop` is set.
fn spawn_load(
    tool: &ToolProcess,
    workers: u64,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Outcome>>> {
    let template = Arc::new(client(tool));
    let port = tool.port();
    (0..workers)
        .map(|worker| {
            let template = Arc::clone(&template);
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut out = Vec::new();
                let mut n = worker;
                while !stop.load(Ordering::Relaxed) {
                    let browser = template.new_browser();
                    visit(&browser, port, n, &mut out).await;
                    n += workers;
                    // Bounded: a worker never sends more than this.
                    if out.len() > 20_000 {
                        break;
                    }
                }
                out
            })
        })
        .collect()
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<Vec<Outcome>>>) -> Vec<Outcome> {
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a load worker"));
    }
    all
}

fn by_status(outcomes: &[Outcome]) -> std::collections::BTreeMap<Option<u16>, usize> {
    let mut map = std::collections::BTreeMap::new();
    for o in outcomes {
        *map.entry(o.status).or_default() += 1;
    }
    map
}

/// One probe visit; true when it reached the resource page.
async fn probe(tool: &ToolProcess, n: u64) -> bool {
    let mut out = Vec::new();
    visit(&client(tool), tool.port(), n, &mut out).await;
    out.len() == 3 && out.iter().all(|o| matches!(o.status, Some(200 | 303)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_under_load_is_a_503_and_recovers_without_a_restart() {
    let Some(pg) = PrivatePostgres::start().expect("a private PostgreSQL cluster") else {
        return;
    };
    let dir = TempDir::new("hardening-pg-fault").expect("a temp dir");
    // A short acquire timeout so an outage is reported in 2 s, not 5.
    let settings = settings(
        &dir,
        r#"{ "database": { "acquire_timeout_secs": 2, "max_connections": 8 } }"#,
    );
    let url = format!("{}?application_name=mytool-fault", pg.url());
    let mut tool = ToolProcess::start(
        env!("CARGO_BIN_EXE_mytool"),
        &[
            "--settings",
            &settings,
            "--database-url",
            &url,
            "--create-silo",
        ],
        &[("LTI_APP_SECRET", SECRET)],
    )
    .expect("mytool starts");
    assert!(probe(&tool, 1_000_000).await, "serves before the outage");

    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(&tool, 8, Arc::clone(&stop));
    tokio::time::sleep(Duration::from_secs(2)).await;

    let down = Instant::now();
    tokio::task::block_in_place(|| pg.stop_server()).expect("stop PostgreSQL");
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(tool.is_running(), "the tool survives the outage");
    let restarting = Instant::now();
    tokio::task::block_in_place(|| pg.start_server()).expect("start PostgreSQL again");
    let back = Instant::now();

    // Recovery: the first whole visit that succeeds after the return.
    let mut n = 2_000_000;
    let recovered = loop {
        if probe(&tool, n).await {
            break back.elapsed();
        }
        n += 1;
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "still failing 30 s after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let outcomes = collect(load).await;
    assert!(tool.is_running(), "the tool is still the same process");

    let before: Vec<_> = outcomes.iter().filter(|o| o.done < down).collect();
    let during: Vec<_> = outcomes
        .iter()
        .filter(|o| o.sent > stopped && o.done < restarting)
        .collect();
    let after: Vec<_> = outcomes
        .iter()
        .filter(|o| o.sent > back + recovered + Duration::from_secs(1))
        .collect();
    let unavailable: Vec<_> = outcomes.iter().filter(|o| o.status == Some(503)).collect();
    eprintln!(
        "PostgreSQL outage: {} requests, by status {:?}; before {} / during {} / after {}; \
         503s {} (all with Retry-After and a page: {}); recovered {recovered:?} after the \
         server returned ({:?} outage)",
        outcomes.len(),
        by_status(&outcomes),
        before.len(),
        during.len(),
        after.len(),
        unavailable.len(),
        unavailable.iter().all(|o| o.retry_after && o.page),
        back - down,
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.status, Some(200 | 303 | 503))),
        "only 200, 303 and 503: {:?}",
        by_status(&outcomes)
    );
    assert!(!during.is_empty() && during.iter().all(|o| o.status == Some(503)));
    assert!(unavailable.iter().all(|o| o.retry_after && o.page));
    assert!(before.iter().all(|o| matches!(o.status, Some(200 | 303))));
    assert!(!after.is_empty() && after.iter().all(|o| matches!(o.status, Some(200 | 303))));
    assert!(
        recovered < Duration::from_secs(10),
        "recovered in {recovered:?}"
    );
    drop(tool);
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_in_flight_requests_and_leaves_no_partial_launch() {
    let dir = TempDir::new("hardening-sigterm").expect("a temp dir");
    let url = format!("sqlite:{}", dir.path().join("tool.sqlite3").display());
    let mut tool = ToolProcess::start(
        env!("CARGO_BIN_EXE_mytool"),
        &["--database-url", &url, "--create-silo"],
        &[("LTI_APP_SECRET", SECRET)],
    )
    .expect("mytool starts");

    let stop = Arc::new(AtomicBool::new(false));
    let load = spawn_load(&tool, 16, Arc::clone(&stop));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let signalled = Instant::now();
    tool.signal("TERM").expect("SIGTERM");
    let status = tokio::task::spawn_blocking(move || {
        let status = tool.wait_timeout(Duration::from_secs(15));
        (status, tool)
    })
    .await
    .expect("wait");
    let (status, tool) = status;
    let exited = signalled.elapsed();
    stop.store(true, Ordering::Relaxed);
    let outcomes = collect(load).await;
    let status = status.expect("the tool exits within its grace period");
    assert!(status.success(), "clean exit: {status}");
    assert!(tool.output().contains("shutting down"), "{}", tool.output());

    // Requests sent well (1 s) before the signal were read by the server
    // before it stopped accepting: each must have had its response.
    let settled = signalled - Duration::from_secs(1);
    let early_failures: Vec<_> = outcomes
        .iter()
        .filter(|o| o.sent < settled && o.status.is_none())
        .collect();
    let finished_after_signal = outcomes
        .iter()
        .filter(|o| o.sent < signalled && o.done > signalled && o.status.is_some())
        .count();
    let accepted = outcomes
        .iter()
        .filter(|o| o.launch && o.status == Some(303))
        .count();
    eprintln!(
        "SIGTERM under load: {} requests, by status {:?}; exit {status} after {exited:?}; \
         {finished_after_signal} in flight at the signal finished after it",
        outcomes.len(),
        by_status(&outcomes),
    );
    assert!(early_failures.is_empty(), "{early_failures:?}");
    assert!(
        outcomes.iter().all(|o| o.status.is_none_or(|s| s < 500)),
        "no 5xx: {:?}",
        by_status(&outcomes)
    );
    drop(tool);

    // Every launch is whole: each resource has its visit, user and
    // context, made in one transaction.
    let db = lti_store::open(&url, &lti_store::StoreOptions::new())
        .await
        .expect("the database");
    let count = |sql: &'static str| {
        let db = db.clone();
        async move { scalar_i64(&db, sql).await.expect(sql) }
    };
    let visits = count("SELECT COUNT(*) FROM visits").await;
    assert_eq!(count("SELECT COUNT(*) FROM resources").await, visits);
    assert_eq!(count("SELECT COUNT(*) FROM users").await, visits);
    assert_eq!(count("SELECT COUNT(*) FROM contexts").await, visits);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM visits v JOIN resources r ON r.id = v.resource_id \
             JOIN users u ON u.id = v.user_key JOIN contexts c ON c.id = r.context_key"
        )
        .await,
        visits
    );
    // A launch may commit and lose its response to the shutdown, never
    // the other way round.
    assert!(
        usize::try_from(visits).unwrap_or_default() >= accepted,
        "{visits} visits for {accepted} accepted launches"
    );
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(db.sqlite_pool().expect("SQLite"))
        .await
        .expect("integrity_check");
    assert_eq!(ok, "ok");
    eprintln!("after SIGTERM: {visits} whole launches, integrity_check ok");
}
