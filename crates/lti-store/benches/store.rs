//! `record_nonce` and `find_visit` on an empty database and on one holding
//! 1 000 000 nonces and 100 000 visits, on SQLite (file, WAL) and
//! PostgreSQL (a schema of its own, dropped afterwards; skipped with a note
//! when `LTI_TEST_DATABASE_URL` is unset).
//!
//! ```text
//! LTI_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p lti-store --bench store -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use lti_core::{ConsumerId, LaunchRecord, NewConsumer, Permissions, ResourceData, ResourceId};
use lti_core::{SealedSecret, Store, UserData};
use lti_store::testing::{DATABASE_URL_VAR, PgSchema, TempDir};
use lti_store::{Db, StoreOptions};
use tokio::runtime::Runtime;

const T0: i64 = 1_700_000_000;
const NONCES: i64 = 1_000_000;
const VISITS: i64 = 100_000;
const RESOURCES: i64 = 1_000;

/// A store with one consumer and one visit to look up, and what keeps its
/// database alive.
struct Fixture {
    db: Db,
    consumer: ConsumerId,
    resource: ResourceId,
    _dir: Option<TempDir>,
    _schema: Option<PgSchema>,
}

async fn prepare(db: &Db) -> (ConsumerId, ResourceId) {
    let silo = db.create_silo("bench").await.expect("silo");
    let consumer = db
        .create_consumer(NewConsumer {
            silo: silo.id,
            handle: "bench".to_owned(),
            key: "bench-key".to_owned(),
            secret: SealedSecret::from_cipher_text("0:YmVuY2g="),
            now: T0,
        })
        .await
        .expect("consumer");
    let outcome = db
        .record_launch(LaunchRecord {
            consumer: consumer.id,
            context: None,
            resource: ResourceData {
                link_id: "bench-link".to_owned(),
                ..ResourceData::default()
            },
            user: Some(UserData {
                user_id: "bench-user".to_owned(),
                ..UserData::default()
            }),
            session: "bench-session".to_owned(),
            new_session: false,
            permissions: Permissions::READ,
            user_agent: Some("criterion".to_owned()),
            parameters: vec![("resource_link_id".to_owned(), "bench-link".to_owned())],
            now: T0,
        })
        .await
        .expect("launch");
    (consumer.id, outcome.resource)
}

/// Fills a SQLite store with bulk SQL: recursive CTEs, one statement per
/// table.
async fn fill_sqlite(db: &Db, consumer: ConsumerId) {
    const NONCES_SQL: &str = "\
        INSERT INTO nonces (consumer_id, nonce, last_seen) \
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $2) \
        SELECT $1, 'fill-' || i, $3 - (i % 10000) FROM seq";
    const RESOURCES_SQL: &str = "\
        INSERT INTO resources (id, consumer_id, link_id) \
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $2) \
        SELECT 1000000000 + i, $1, 'fill-' || i FROM seq";
    const VISITS_SQL: &str = "\
        INSERT INTO visits (resource_id, session, permissions, launched, user_agent, parameters) \
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1) \
        SELECT 1000000001 + (i % $2), CASE WHEN i % 10 = 0 THEN NULL ELSE 'fill-' || i END, \
            1, $3 - i, 'bench', '[[\"resource_link_id\",\"x\"]]' FROM seq";
    let pool = db.sqlite_pool().expect("sqlite");
    sqlx::query(NONCES_SQL)
        .bind(consumer.0)
        .bind(NONCES)
        .bind(T0)
        .execute(pool)
        .await
        .expect("nonces");
    sqlx::query(RESOURCES_SQL)
        .bind(consumer.0)
        .bind(RESOURCES)
        .execute(pool)
        .await
        .expect("resources");
    sqlx::query(VISITS_SQL)
        .bind(VISITS)
        .bind(RESOURCES)
        .bind(T0)
        .execute(pool)
        .await
        .expect("visits");
    // No ANALYZE here, as the store never runs one: with statistics, the
    // bundled SQLite (built with SQLITE_ENABLE_STAT4) re-plans every
    // statement whose bound parameters meet an indexed column on each
    // execution, which costs find_visit some 40 µs (see the crate docs).
    // Fold the bulk load's write-ahead log into the database file, as the
    // automatic checkpoints of a database in steady use would have.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await
        .expect("checkpoint");
}

/// Fills a PostgreSQL store with bulk SQL: `generate_series`, one statement
/// per table.
async fn fill_postgres(db: &Db, consumer: ConsumerId) {
    const NONCES_SQL: &str = "\
        INSERT INTO nonces (consumer_id, nonce, last_seen) \
        SELECT $1, 'fill-' || i, $3 - (i % 10000) FROM generate_series(1, $2::BIGINT) AS i";
    const RESOURCES_SQL: &str = "\
        INSERT INTO resources (id, consumer_id, link_id) \
        SELECT 1000000000 + i, $1, 'fill-' || i FROM generate_series(1, $2::BIGINT) AS i";
    const VISITS_SQL: &str = "\
        INSERT INTO visits (resource_id, session, permissions, launched, user_agent, parameters) \
        SELECT 1000000001 + (i % $2), CASE WHEN i % 10 = 0 THEN NULL ELSE 'fill-' || i END, \
            1, $3 - i, 'bench', '[[\"resource_link_id\",\"x\"]]' \
        FROM generate_series(1, $1::BIGINT) AS i";
    let pool = db.postgres_pool().expect("postgres");
    sqlx::query(NONCES_SQL)
        .bind(consumer.0)
        .bind(NONCES)
        .bind(T0)
        .execute(pool)
        .await
        .expect("nonces");
    sqlx::query(RESOURCES_SQL)
        .bind(consumer.0)
        .bind(RESOURCES)
        .execute(pool)
        .await
        .expect("resources");
    sqlx::query(VISITS_SQL)
        .bind(VISITS)
        .bind(RESOURCES)
        .bind(T0)
        .execute(pool)
        .await
        .expect("visits");
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
}

async fn sqlite_fixture(large: bool, analyze: bool) -> Fixture {
    let dir = TempDir::new("lti-store-bench").expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.sqlite3").display());
    let db = Db::open(&url, &StoreOptions::new())
        .await
        .expect("open sqlite");
    let (consumer, resource) = prepare(&db).await;
    if large {
        fill_sqlite(&db, consumer).await;
    }
    if analyze {
        let pool = db.sqlite_pool().expect("sqlite");
        sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    }
    Fixture {
        db,
        consumer,
        resource,
        _dir: Some(dir),
        _schema: None,
    }
}

async fn postgres_fixture(url: &str, large: bool) -> Fixture {
    let schema = PgSchema::create(url).await.expect("schema");
    let db = Db::open(url, &schema.store_options())
        .await
        .expect("open postgres");
    let (consumer, resource) = prepare(&db).await;
    if large {
        fill_postgres(&db, consumer).await;
    }
    Fixture {
        db,
        consumer,
        resource,
        _dir: None,
        _schema: Some(schema),
    }
}

fn bench_fixture(c: &mut Criterion, runtime: &Runtime, name: &str, fixture: Fixture) {
    let counter = AtomicU64::new(0);
    c.bench_function(&format!("record_nonce/{name}"), |b| {
        b.iter(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let nonce = format!("bench-{n}");
            let fresh = runtime
                .block_on(fixture.db.record_nonce(fixture.consumer, &nonce, T0))
                .expect("record_nonce");
            black_box(fresh)
        });
    });
    c.bench_function(&format!("find_visit/{name}"), |b| {
        b.iter(|| {
            let bundle = runtime
                .block_on(fixture.db.find_visit("bench-session", fixture.resource))
                .expect("find_visit");
            black_box(bundle.expect("the visit exists"))
        });
    });
    runtime.block_on(fixture.db.close());
    drop(fixture);
}

fn store_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for (name, large, analyze) in [
        ("sqlite-empty", false, false),
        ("sqlite-large", true, false),
        // The same after an ANALYZE, to show what statistics cost.
        ("sqlite-large-analyzed", true, true),
    ] {
        let fixture = runtime.block_on(sqlite_fixture(large, analyze));
        bench_fixture(c, &runtime, name, fixture);
    }
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => {
            for (name, large) in [("postgres-empty", false), ("postgres-large", true)] {
                let fixture = runtime.block_on(postgres_fixture(&url, large));
                bench_fixture(c, &runtime, name, fixture);
            }
        }
        _ => eprintln!(
            "note: {DATABASE_URL_VAR} is unset; skipping the PostgreSQL benchmarks \
             (e.g. {DATABASE_URL_VAR}=postgres://postgres@127.0.0.1:5432/test)"
        ),
    }
}

criterion_group!(benches, store_benches);
criterion_main!(benches);
