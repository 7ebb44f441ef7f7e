//! A tool's own migrations share sqlx's `_sqlx_migrations` table with the
//! framework's: each side runs although the table holds the other's
//! versions, and each still refuses unknown versions of its own range (a
//! database migrated by a newer program). On every backend.

use std::sync::LazyLock;

use lti_core::{Store, StoreError};
use lti_store::testing::{TestResult, scalar_i64};
use lti_store::{Backend, Db, TOOL_MIGRATIONS_START, ToolMigrations};
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

fn migration(version: i64, name: &'static str, sql: &'static str) -> Migration {
    Migration::new(
        version,
        name.into(),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )
}

/// A tool's migrations: one table referencing the framework's `users`.
fn tool_migrator() -> Migrator {
    Migrator::with_migrations(vec![migration(
        1_000_001,
        "bookmarks",
        "CREATE TABLE bookmarks (id BIGINT PRIMARY KEY, \
         user_key BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE)",
    )])
}

static TOOL_SQLITE: LazyLock<Migrator> = LazyLock::new(tool_migrator);
static TOOL_POSTGRES: LazyLock<Migrator> = LazyLock::new(tool_migrator);

fn tool() -> ToolMigrations {
    ToolMigrations::new(&TOOL_SQLITE, &TOOL_POSTGRES)
}

/// Runs a bare sqlx migrator (tolerating the versions it does not know),
/// as another program would.
async fn run_raw(db: &Db, migrator: &mut Migrator) -> Result<(), sqlx::migrate::MigrateError> {
    migrator.set_ignore_missing(true);
    match db.backend() {
        Backend::Sqlite => migrator.run(db.sqlite_pool().expect("sqlite")).await,
        _ => migrator.run(db.postgres_pool().expect("postgres")).await,
    }
}

lti_store::store_tests! {
    async fn the_framework_migrates_beside_a_tools_versions(store) {
        store.migrate_tool(&tool()).await?;
        assert_eq!(
            scalar_i64(&store, "SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 1000001")
                .await?,
            1
        );
        // The regression: sqlx's default would fail with VersionMissing(1000001).
        store.migrate().await?;
        store.migrate_tool(&tool()).await?;
        store.migrate().await?;
        assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM bookmarks").await?, 0);
        store.create_silo("still works").await?;
        Ok(())
    }

    async fn the_framework_refuses_a_newer_framework_schema(store) {
        let mut newer = Migrator::with_migrations(vec![migration(
            TOOL_MIGRATIONS_START - 1,
            "from the future",
            "CREATE TABLE future_things (id BIGINT PRIMARY KEY)",
        )]);
        run_raw(&store, &mut newer).await?;
        let err = store.migrate().await.expect_err("an unknown framework version");
        assert!(err.to_string().contains("newer version"), "{err}");
        // The tool's side does not own that version: it still migrates.
        store.migrate_tool(&tool()).await?;
        Ok(())
    }

    async fn a_tool_refuses_a_newer_tool_schema(store) {
        let mut newer = Migrator::with_migrations(vec![migration(
            1_000_002,
            "tool from the future",
            "CREATE TABLE future_tool (id BIGINT PRIMARY KEY)",
        )]);
        run_raw(&store, &mut newer).await?;
        let err = store.migrate_tool(&tool()).await.expect_err("an unknown tool version");
        assert!(err.to_string().contains("the tool's migrations [1000002]"), "{err}");
        store.migrate().await?;
        Ok(())
    }
}

static LOW_SQLITE: LazyLock<Migrator> = LazyLock::new(|| {
    Migrator::with_migrations(vec![migration(
        2,
        "clash",
        "CREATE TABLE clash (id BIGINT)",
    )])
});

#[tokio::test]
async fn tool_versions_below_the_range_are_refused() -> TestResult {
    let clashing = ToolMigrations::new(&LOW_SQLITE, &LOW_SQLITE);
    assert!(matches!(clashing.check(), Err(StoreError::Invalid(_))));
    let db = lti_store::open("sqlite::memory:", &lti_store::StoreOptions::new()).await?;
    let err = db.migrate_tool(&clashing).await.expect_err("refused");
    assert!(err.to_string().contains("1000001 or above"), "{err}");
    assert!(
        scalar_i64(&db, "SELECT COUNT(*) FROM clash").await.is_err(),
        "nothing ran"
    );
    Ok(())
}

#[test]
fn backends_must_agree() {
    static OTHER: LazyLock<Migrator> = LazyLock::new(|| {
        Migrator::with_migrations(vec![migration(1_000_001, "other", "SELECT 1")])
    });
    let mismatched = ToolMigrations::new(&TOOL_SQLITE, &OTHER);
    assert!(matches!(mismatched.check(), Err(StoreError::Invalid(_))));
    assert!(tool().check().is_ok());
    assert!(
        tool()
            .schema_sql(Backend::Postgres)
            .starts_with("-- migration 1000001 bookmarks\n")
    );
}
