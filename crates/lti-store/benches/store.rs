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
    sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
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

async fn sqlite_fixture(large: bool) -> Fixture {
    let dir = TempDir::new("lti-store-bench").expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.sqlite3").display());
    let db = Db::open(&url, &StoreOptions::new())
        .await
        .expect("open sqlite");
    let (consumer, resource) = prepare(&db).await;
    if large {
        fill_sqlite(&db, consumer).await;
    }
    {
        let pool = db.sqlite_pool().expect("p");
        let mut conn = pool.acquire().await.expect("c");
        let full = "SELECT v.id AS v_id, v.user_key AS v_user_key, v.session AS v_session, v.permissions AS v_permissions, v.launched AS v_launched, v.user_agent AS v_user_agent, v.parameters AS v_parameters, r.id AS r_id, r.consumer_id AS r_consumer_id, r.context_key AS r_context_key, r.link_id AS r_link_id, r.title AS r_title, r.description AS r_description, c.id AS c_id, c.silo_id AS c_silo_id, c.handle AS c_handle, c.key AS c_key, c.secret AS c_secret, c.enabled AS c_enabled, c.created AS c_created, x.id AS x_id, x.context_id AS x_context_id, x.title AS x_title, x.label AS x_label, x.types AS x_types, u.id AS u_id, u.user_id AS u_user_id, u.given_name AS u_given_name, u.family_name AS u_family_name, u.full_name AS u_full_name, u.email AS u_email FROM visits v JOIN resources r ON r.id = v.resource_id JOIN consumers c ON c.id = r.consumer_id LEFT JOIN contexts x ON x.id = r.context_key LEFT JOIN users u ON u.id = v.user_key WHERE v.session = $1 AND v.resource_id = $2 ORDER BY v.id DESC LIMIT 1";
        let plan = format!("EXPLAIN QUERY PLAN {full}");
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(plan)).bind("bench-session").bind(resource.get()).fetch_all(&mut *conn).await.expect("plan");
        eprintln!("PLAN large={large}: {rows:?}");
        for _ in 0..3 {
            let t = std::time::Instant::now();
            for _ in 0..3000 { let _ = sqlx::query(full).bind("bench-session").bind(resource.get()).fetch_optional(&mut *conn).await.expect("x"); }
            eprintln!("HELD FULL large={large}: {:?}", t.elapsed() / 3000);
        }
        drop(conn);
        for _ in 0..3 {
            let t = std::time::Instant::now();
            for _ in 0..3000 { let _ = sqlx::query(full).bind("bench-session").bind(resource.get()).fetch_optional(pool).await.expect("x"); }
            eprintln!("POOL FULL large={large}: {:?}", t.elapsed() / 3000);
        }
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
    for (name, large) in [("sqlite-empty", false), ("sqlite-large", true)] {
        let fixture = runtime.block_on(sqlite_fixture(large));
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
