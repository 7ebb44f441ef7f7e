//! A tool with tables of its own: the database behind the store
//! (`ToolProvider::db`) and the tool's migrations (`with_migrations`).

use std::sync::{Arc, LazyLock};

use axum_lti::{Settings, StartError, ToolProviderApp};
use lti_core::Store;
use lti_store::{StoreOptions, ToolMigrations};
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1_000_001,
        "bookmarks".into(),
        MigrationType::Simple,
        "CREATE TABLE bookmarks (id INTEGER PRIMARY KEY, \
         user_key INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE)"
            .into_sql_str(),
        false,
    )])
}

static SQLITE: LazyLock<Migrator> = LazyLock::new(migrator);
static POSTGRES: LazyLock<Migrator> = LazyLock::new(migrator);

fn migrations() -> ToolMigrations {
    ToolMigrations::new(&SQLITE, &POSTGRES)
}

fn app() -> ToolProviderApp {
    let mut settings = Settings::default();
    settings.database.url = "sqlite::memory:".into();
    ToolProviderApp::new(settings).with_app_secret("an application secret for these tests")
}

async fn bookmarks(db: &lti_store::Db) -> Result<i64, sqlx::Error> {
    let pool = db.sqlite_pool().expect("on sqlite");
    sqlx::query_scalar("SELECT COUNT(*) FROM bookmarks")
        .fetch_one(pool)
        .await
}

#[tokio::test]
async fn the_database_the_framework_opens_is_the_tools_too() -> TestResult {
    let tool = app().with_migrations(migrations()).build().await?;
    let db = tool.db().ok_or("a database")?;
    assert_eq!(bookmarks(db).await?, 0, "the tool's migration ran");
    assert!(tool.state().db().is_some());
    // The same database as the store's.
    tool.state().store().create_silo("one").await?;
    assert_eq!(db.list_silos().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_given_database_is_migrated_and_kept() -> TestResult {
    let db = lti_store::open("sqlite::memory:", &StoreOptions::new().with_migrate(false)).await?;
    let tool = app()
        .with_db(db.clone())
        .with_migrations(migrations())
        .build()
        .await?;
    assert_eq!(bookmarks(&db).await?, 0);
    db.create_silo("two").await?;
    let seen = tool.db().ok_or("a database")?.list_silos().await?;
    assert_eq!(seen.len(), 1);
    Ok(())
}

#[tokio::test]
async fn without_migrations_the_tools_do_not_run_either() -> TestResult {
    let db = lti_store::open("sqlite::memory:", &StoreOptions::new()).await?;
    app()
        .with_db(db.clone())
        .with_migrations(migrations())
        .without_migrations()
        .build()
        .await?;
    assert!(bookmarks(&db).await.is_err(), "no bookmarks table");
    Ok(())
}

#[tokio::test]
async fn a_bare_store_has_no_database_for_the_tool() -> TestResult {
    let store: Arc<dyn Store> =
        Arc::new(lti_store::open("sqlite::memory:", &StoreOptions::new()).await?);
    let tool = app().with_store(Arc::clone(&store)).build().await?;
    assert!(tool.db().is_none());
    let refused = app()
        .with_store(store)
        .with_migrations(migrations())
        .build()
        .await;
    assert!(
        matches!(refused, Err(StartError::ToolMigrationsNeedDb)),
        "{refused:?}"
    );
    Ok(())
}
