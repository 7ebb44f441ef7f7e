//! [`Db`]: the store, on whichever backend the URL named.

use std::fmt;

use async_trait::async_trait;
use lti_core::{
    ConsumerId, ConsumerRecord, ConsumerUsage, ContextData, ContextKey, ContextRecord,
    LaunchOutcome, LaunchRecord, NewConsumer, NewOwner, OwnerId, OwnerRecord, PasswordHash,
    ResourceData, ResourceId, ResourceRecord, SealedSecret, SiloId, SiloRecord, Store, StoreResult,
    StoredAppKey, UserData, UserRecord, VisitBundle, VisitRecord,
};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

use crate::migrate::{Owner, ToolMigrations, check_applied, tolerant};
use crate::options::{Backend, StoreOptions};
use crate::postgres::{self, PgStore};
use crate::sqlite::{self, SqliteStore};

/// Opens a store on the database `url` names (see [`Db::open`]).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use lti_core::Store;
/// use lti_store::StoreOptions;
///
/// let db = lti_store::open("sqlite::memory:", &StoreOptions::new()).await?;
/// let silo = db.create_silo("testing").await?;
/// assert_eq!(db.find_silo_by_slug("testing").await?, Some(silo));
/// # Ok::<(), lti_core::StoreError>(())
/// # }).unwrap();
/// ```
pub async fn open(url: &str, options: &StoreOptions) -> StoreResult<Db> {
    Db::open(url, options).await
}

/// The SQL that creates the schema of `backend`: its migrations, in order
/// (for `--sqlout`).
pub fn schema_sql(backend: Backend) -> String {
    crate::migrate::migrations_sql(migrator(backend))
}

/// The embedded migrations of `backend`.
pub fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &sqlite::MIGRATOR,
        Backend::Postgres => &postgres::MIGRATOR,
    }
}

/// A store on SQLite or PostgreSQL, chosen at run time from the database
/// URL; implements [`Store`]. Cheap to clone (clones share the pool).
///
/// Wrap it as `Arc<dyn Store>` to hand it to the framework, or keep the
/// concrete type for [`migrate`](Self::migrate), [`close`](Self::close) and
/// the pools (for a tool's own tables).
#[derive(Clone)]
pub struct Db {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens the database `url` names and, unless
    /// [`StoreOptions::with_migrate`] turned it off, applies pending
    /// migrations.
    ///
    /// URLs: `sqlite:PATH` or `sqlite://PATH` (a file, created if missing,
    /// in WAL mode), `sqlite::memory:` (a new in-memory database that lives
    /// as long as this store and its clones), `postgres://…` or
    /// `postgresql://…`.
    ///
    /// Fails with [`StoreError::Invalid`](lti_core::StoreError::Invalid) for
    /// an unsupported URL and
    /// [`StoreError::Unavailable`](lti_core::StoreError::Unavailable) when
    /// the database cannot be reached.
    pub async fn open(url: &str, options: &StoreOptions) -> StoreResult<Self> {
        let inner = match Backend::from_url(url)? {
            Backend::Sqlite => Inner::Sqlite(SqliteStore::connect(url, options).await?),
            Backend::Postgres => Inner::Postgres(PgStore::connect(url, options).await?),
        };
        let db = Self { inner };
        if options.migrate {
            db.migrate().await?;
        }
        tracing::debug!(backend = %db.backend(), "store opened");
        Ok(db)
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        match &self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations not yet applied (safe to run from several
    /// instances at once: sqlx takes a lock on PostgreSQL).
    ///
    /// A tool's own migrations in the same table ([`ToolMigrations`],
    /// numbered from [`TOOL_MIGRATIONS_START`](crate::TOOL_MIGRATIONS_START))
    /// are left alone; an unknown version below that means a newer program
    /// migrated the database, and is refused.
    pub async fn migrate(&self) -> StoreResult<()> {
        let framework = migrator(self.backend());
        let applied = self.run_migrator(&tolerant(framework)).await?;
        self.pool_wrote();
        check_applied(Owner::Framework, framework, &applied)
    }

    /// Applies a tool's own migrations not yet applied, after checking them
    /// ([`ToolMigrations::check`]). Run it after [`migrate`](Self::migrate):
    /// a tool's tables may reference the framework's.
    ///
    /// The framework's versions in the table are left alone; an unknown
    /// version from [`TOOL_MIGRATIONS_START`](crate::TOOL_MIGRATIONS_START)
    /// up means a newer version of the tool migrated the database, and is
    /// refused.
    pub async fn migrate_tool(&self, migrations: &ToolMigrations) -> StoreResult<()> {
        migrations.check()?;
        let tool = migrations.migrator(self.backend());
        let applied = self.run_migrator(&tolerant(tool)).await?;
        self.pool_wrote();
        check_applied(Owner::Tool, tool, &applied)
    }

    /// Tells the SQLite readers that sqlx's pool wrote (see
    /// [`dispatch_write!`]).
    fn pool_wrote(&self) {
        if let Inner::Sqlite(store) = &self.inner {
            store.pool_wrote();
        }
    }

    /// Runs a migrator; returns every version the table then holds.
    async fn run_migrator(&self, migrator: &Migrator) -> StoreResult<Vec<i64>> {
        match &self.inner {
            Inner::Sqlite(store) => store.migrate(migrator).await,
            Inner::Postgres(store) => store.migrate(migrator).await,
        }
    }

    /// Closes the pool: waits for connections in use to be returned, then
    /// closes them all. Later operations fail with
    /// [`StoreError::Unavailable`](lti_core::StoreError::Unavailable).
    pub async fn close(&self) {
        match &self.inner {
            Inner::Sqlite(store) => store.close().await,
            Inner::Postgres(store) => store.close().await,
        }
    }

    /// The SQLite pool, for a tool's own tables, when on SQLite.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.inner {
            Inner::Sqlite(store) => Some(store.pool()),
            Inner::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for a tool's own tables, when on PostgreSQL.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.inner {
            Inner::Sqlite(_) => None,
            Inner::Postgres(store) => Some(store.pool()),
        }
    }
}

/// Calls the same-named function of the backend in use, for a write that
/// runs on sqlx's pool: on SQLite the direct readers then drop their
/// snapshots, so the write is seen at once by every later read.
macro_rules! dispatch_write {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.inner {
            Inner::Sqlite(store) => {
                let result = store.$method($($arg),*).await;
                store.pool_wrote();
                result
            }
            Inner::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

/// Calls the same-named function of the backend in use.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.inner {
            Inner::Sqlite(store) => store.$method($($arg),*).await,
            Inner::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

#[async_trait]
impl Store for Db {
    async fn create_silo(&self, slug: &str) -> StoreResult<SiloRecord> {
        dispatch_write!(self.create_silo(slug))
    }

    async fn list_silos(&self) -> StoreResult<Vec<SiloRecord>> {
        dispatch!(self.list_silos())
    }

    async fn find_silo_by_slug(&self, slug: &str) -> StoreResult<Option<SiloRecord>> {
        dispatch!(self.find_silo_by_slug(slug))
    }

    async fn delete_silo(&self, silo: SiloId) -> StoreResult<bool> {
        dispatch_write!(self.delete_silo(silo))
    }

    async fn find_silo(&self, id: SiloId) -> StoreResult<Option<SiloRecord>> {
        dispatch!(self.find_silo(id))
    }

    async fn create_consumer(&self, new: NewConsumer) -> StoreResult<ConsumerRecord> {
        dispatch_write!(self.create_consumer(new))
    }

    async fn find_consumer_by_key(&self, key: &str) -> StoreResult<Option<ConsumerRecord>> {
        dispatch!(self.find_consumer_by_key(key))
    }

    async fn find_consumer(&self, id: ConsumerId) -> StoreResult<Option<ConsumerRecord>> {
        dispatch!(self.find_consumer(id))
    }

    async fn list_consumers(&self, silo: SiloId) -> StoreResult<Vec<ConsumerRecord>> {
        dispatch!(self.list_consumers(silo))
    }

    async fn update_consumer_handle(&self, id: ConsumerId, handle: &str) -> StoreResult<()> {
        dispatch_write!(self.update_consumer_handle(id, handle))
    }

    async fn set_consumer_secret(&self, id: ConsumerId, secret: &SealedSecret) -> StoreResult<()> {
        dispatch_write!(self.set_consumer_secret(id, secret))
    }

    async fn set_consumer_enabled(&self, id: ConsumerId, enabled: bool) -> StoreResult<()> {
        dispatch_write!(self.set_consumer_enabled(id, enabled))
    }

    async fn delete_consumer(&self, id: ConsumerId) -> StoreResult<bool> {
        dispatch_write!(self.delete_consumer(id))
    }

    async fn consumer_usage(&self, id: ConsumerId) -> StoreResult<ConsumerUsage> {
        dispatch!(self.consumer_usage(id))
    }

    async fn create_owner(&self, new: NewOwner) -> StoreResult<OwnerRecord> {
        dispatch_write!(self.create_owner(new))
    }

    async fn find_owner_by_email(&self, email: &str) -> StoreResult<Option<OwnerRecord>> {
        dispatch!(self.find_owner_by_email(email))
    }

    async fn find_owner(&self, id: OwnerId) -> StoreResult<Option<OwnerRecord>> {
        dispatch!(self.find_owner(id))
    }

    async fn list_owners(&self, silo: SiloId) -> StoreResult<Vec<OwnerRecord>> {
        dispatch!(self.list_owners(silo))
    }

    async fn set_owner_password(
        &self,
        id: OwnerId,
        password: &PasswordHash,
        now: i64,
    ) -> StoreResult<()> {
        dispatch_write!(self.set_owner_password(id, password, now))
    }

    async fn end_owner_sessions(&self, id: OwnerId, now: i64) -> StoreResult<i64> {
        dispatch_write!(self.end_owner_sessions(id, now))
    }

    async fn delete_owner(&self, id: OwnerId) -> StoreResult<bool> {
        dispatch_write!(self.delete_owner(id))
    }

    async fn record_nonce(&self, consumer: ConsumerId, nonce: &str, now: i64) -> StoreResult<bool> {
        dispatch!(self.record_nonce(consumer, nonce, now))
    }

    async fn prune_nonces(&self, now: i64) -> StoreResult<u64> {
        dispatch!(self.prune_nonces(now))
    }

    async fn upsert_context(
        &self,
        consumer: ConsumerId,
        data: &ContextData,
    ) -> StoreResult<ContextRecord> {
        dispatch!(self.upsert_context(consumer, data))
    }

    async fn upsert_resource(
        &self,
        consumer: ConsumerId,
        context: Option<ContextKey>,
        data: &ResourceData,
    ) -> StoreResult<ResourceRecord> {
        dispatch!(self.upsert_resource(consumer, context, data))
    }

    async fn upsert_user(&self, consumer: ConsumerId, data: &UserData) -> StoreResult<UserRecord> {
        dispatch!(self.upsert_user(consumer, data))
    }

    async fn find_resource(&self, id: ResourceId) -> StoreResult<Option<ResourceRecord>> {
        dispatch!(self.find_resource(id))
    }

    async fn record_launch(&self, launch: LaunchRecord) -> StoreResult<LaunchOutcome> {
        dispatch!(self.record_launch(launch))
    }

    async fn record_fresh_launch(
        &self,
        nonce: &str,
        launch: LaunchRecord,
    ) -> StoreResult<Option<LaunchOutcome>> {
        dispatch!(self.record_fresh_launch(nonce, launch))
    }

    async fn find_visit(
        &self,
        session: &str,
        resource: ResourceId,
    ) -> StoreResult<Option<VisitBundle>> {
        dispatch!(self.find_visit(session, resource))
    }

    async fn session_visits(&self, session: &str) -> StoreResult<Vec<VisitRecord>> {
        dispatch!(self.session_visits(session))
    }

    async fn rekey_session(&self, old: &str, new: &str) -> StoreResult<u64> {
        dispatch!(self.rekey_session(old, new))
    }

    async fn merge_sessions(&self, from: &str, into: &str) -> StoreResult<u64> {
        dispatch!(self.merge_sessions(from, into))
    }

    async fn detach_session(&self, session: &str) -> StoreResult<u64> {
        dispatch!(self.detach_session(session))
    }

    async fn prune_detached_visits(&self, launched_before: i64) -> StoreResult<u64> {
        dispatch!(self.prune_detached_visits(launched_before))
    }

    async fn app_keys(&self) -> StoreResult<Vec<StoredAppKey>> {
        dispatch!(self.app_keys())
    }

    async fn save_app_key(&self, key: &StoredAppKey) -> StoreResult<StoredAppKey> {
        dispatch_write!(self.save_app_key(key))
    }
}
