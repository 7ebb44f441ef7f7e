//! Opening stores: URLs, connection settings, migrations on demand.

use std::time::Duration;

use lti_core::{Store, StoreError};
use lti_store::testing::{PgSchema, TempDir, postgres_url};
use lti_store::{Backend, Db, StoreOptions};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[tokio::test]
async fn unsupported_urls_are_invalid() {
    for url in ["mysql://localhost/db", "lti.db", "", "sqlite://", "sqlite:"] {
        let result = lti_store::open(url, &StoreOptions::new()).await;
        assert!(
            matches!(result, Err(StoreError::Invalid(_))),
            "{url}: {result:?}"
        );
    }
}

#[tokio::test]
async fn sqlite_file_settings() -> TestResult {
    let dir = TempDir::new("lti-store-open")?;
    let path = dir.path().join("settings.sqlite3");
    let options = StoreOptions::new().with_busy_timeout(Duration::from_millis(1500));
    for url in [
        format!("sqlite:{}", path.display()),
        format!("sqlite://{}", path.display()),
    ] {
        let db = lti_store::open(&url, &options).await?;
        assert_eq!(db.backend(), Backend::Sqlite);
        let pool = db.sqlite_pool().ok_or("no sqlite pool")?;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await?;
        assert_eq!(journal, "wal");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await?;
        assert_eq!(foreign_keys, 1);
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await?;
        assert_eq!(synchronous, 1, "NORMAL");
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await?;
        assert_eq!(busy, 1500);
        db.create_silo(&format!("silo-{}", url.len())).await?;
        db.close().await;
    }
    // Both URL forms named the same file.
    let db = lti_store::open(&format!("sqlite:{}", path.display()), &StoreOptions::new()).await?;
    assert_eq!(db.list_silos().await?.len(), 2);
    db.close().await;
    Ok(())
}

#[tokio::test]
async fn in_memory_databases_are_private_and_live_with_the_store() -> TestResult {
    let one = lti_store::open("sqlite::memory:", &StoreOptions::new()).await?;
    let two = lti_store::open("sqlite::memory:", &StoreOptions::new()).await?;
    one.create_silo("only-in-one").await?;
    assert!(two.list_silos().await?.is_empty());
    // Closing and reopening pool connections does not lose the data: the
    // pool of an in-memory store may recycle connections at any time.
    let pool = one.sqlite_pool().ok_or("no pool")?;
    for _ in 0..3 {
        let conn = pool.acquire().await?;
        conn.close().await?;
    }
    assert_eq!(one.list_silos().await?.len(), 1);
    let clone = one.clone();
    drop(one);
    assert_eq!(clone.list_silos().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn migrations_on_demand() -> TestResult {
    let db = Db::open("sqlite::memory:", &StoreOptions::new().with_migrate(false)).await?;
    assert!(
        db.create_silo("s").await.is_err(),
        "no tables before migrating"
    );
    db.migrate().await?;
    db.migrate().await?;
    db.create_silo("s").await?;
    Ok(())
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable() {
    let options = StoreOptions::new().with_acquire_timeout(Duration::from_secs(2));
    let result = lti_store::open("postgres://nobody@127.0.0.1:1/none", &options).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_closed_store_is_unavailable() -> TestResult {
    let db = lti_store::open("sqlite::memory:", &StoreOptions::new()).await?;
    db.close().await;
    let result = db.list_silos().await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    Ok(())
}

#[tokio::test]
async fn postgres_connection_settings() -> TestResult {
    let Some(url) = postgres_url() else {
        return Ok(());
    };
    let schema = PgSchema::create(&url).await?;
    let options = schema
        .store_options()
        .with_idle_in_transaction_timeout(Duration::from_millis(12_345));
    let db = lti_store::open(&url, &options).await?;
    assert_eq!(db.backend(), Backend::Postgres);
    let pool = db.postgres_pool().ok_or("no postgres pool")?;
    let timeout: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(pool)
        .await?;
    assert_eq!(timeout, "12345ms");
    let search_path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(pool)
        .await?;
    assert!(search_path.contains(schema.name()), "{search_path}");
    let name: String = sqlx::query_scalar("SHOW application_name")
        .fetch_one(pool)
        .await?;
    assert_eq!(name, schema.name());
    // The tables went into the test schema.
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(pool)
    .await?;
    assert_eq!(tables, 10, "nine tables and _sqlx_migrations");
    db.close().await;
    Ok(())
}

#[tokio::test]
async fn postgres_recovers_from_a_terminated_connection() -> TestResult {
    let Some(url) = postgres_url() else {
        return Ok(());
    };
    let schema = PgSchema::create(&url).await?;
    let options = schema.store_options().with_max_connections(1);
    let db = lti_store::open(&url, &options).await?;
    let pool = db.postgres_pool().ok_or("no postgres pool")?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await?;
    // Another session ends ours, as a server shutdown or an operator would
    // (the server reports 57P01 admin_shutdown to the victim).
    let killer = lti_store::open(&url, &schema.store_options().with_migrate(false)).await?;
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(killer.postgres_pool().ok_or("no pool")?)
        .await?;
    assert!(killed);
    // The pool either notices when it checks the connection out and opens
    // another, or the call fails as Unavailable (try again later).
    let result = db.list_silos().await;
    assert!(
        matches!(&result, Ok(_) | Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    // Either way the pool replaces the dead connection.
    assert!(db.list_silos().await?.is_empty());
    killer.close().await;
    db.close().await;
    Ok(())
}
