//! [`TestTool`]: a complete tool provider on an in-memory database, with a
//! fixed clock and the consumer `12345`/`secret`, ready to launch.

use std::sync::Arc;

use axum::Router;
use axum_lti::{AppRoot, LtiState, Settings, StartError, ToolProvider, ToolProviderApp};
use lti_core::{
    CipherError, ConsumerRecord, FixedClock, NewConsumer, SealedSecret, SiloRecord, Store,
    StoreError,
};
use lti_store::StoreOptions;

use crate::client::TestClient;
use crate::launch::LaunchBuilder;

/// The application secret of test tools (never use it anywhere else).
pub const TEST_APP_SECRET: &str = "lti-testkit application secret: for tests only";

/// The time a test tool's clock starts at unless told otherwise:
/// 2024-01-01T00:00:00Z.
pub const TEST_START_TIME: i64 = 1_704_067_200;

/// Why a [`TestTool`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestToolError {
    /// The canonical root is invalid.
    #[error(transparent)]
    Root(#[from] axum_lti::RootError),
    /// The tool provider did not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The consumer secret could not be sealed.
    #[error("sealing a consumer secret: {0}")]
    Cipher(#[from] CipherError),
}

/// Builds a [`TestTool`]; start from [`TestTool::builder`].
#[must_use]
pub struct TestToolBuilder {
    settings: Settings,
    root: String,
    clock: FixedClock,
    app_secret: String,
    routes: Router,
    database_url: String,
    store: Option<Arc<dyn Store>>,
    debug_launch: Option<bool>,
    silo: String,
    consumer: (String, String),
    customize: Vec<Box<dyn FnOnce(ToolProviderApp) -> ToolProviderApp + Send>>,
}

impl std::fmt::Debug for TestToolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestToolBuilder")
            .field("root", &self.root)
            .field("database_url", &self.database_url)
            .field("silo", &self.silo)
            .field("consumer_key", &self.consumer.0)
            .finish_non_exhaustive()
    }
}

impl TestToolBuilder {
    /// Uses these settings (the canonical root, clock, secret and database
    /// of the builder still apply).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Changes the settings in place, e.g.
    /// `.configure(|s| s.session.partitioned = false)`.
    pub fn configure(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// The canonical root (default `http://localhost:8080`). A root with a
    /// path (`http://localhost:8080/tool/`) mounts the tool under that
    /// prefix, as a reverse proxy would present it.
    pub fn with_canonical_root(mut self, root: impl Into<String>) -> Self {
        self.root = root.into();
        self
    }

    /// Starts the fixed clock at this time (unix seconds).
    pub fn with_time(mut self, now: i64) -> Self {
        self.clock = FixedClock::new(now);
        self
    }

    /// Uses this clock (keep a clone to move time).
    pub fn with_clock(mut self, clock: FixedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Uses this application secret instead of [`TEST_APP_SECRET`].
    pub fn with_app_secret(mut self, secret: impl Into<String>) -> Self {
        self.app_secret = secret.into();
        self
    }

    /// Adds the tool author's routes (merged as
    /// [`ToolProvider::router`] does; give them no fallback).
    pub fn with_routes(mut self, routes: Router) -> Self {
        self.routes = self.routes.merge(routes);
        self
    }

    /// Opens this database URL instead of `sqlite::memory:` (migrations
    /// run).
    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = url.into();
        self
    }

    /// Uses this store (already migrated) instead of opening a database.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Shows or hides the launch doctor (the default follows the
    /// settings: off).
    pub fn with_debug_launch(mut self, on: bool) -> Self {
        self.debug_launch = Some(on);
        self
    }

    /// Creates this consumer instead of `12345` / `secret`.
    pub fn with_consumer(mut self, key: impl Into<String>, secret: impl Into<String>) -> Self {
        self.consumer = (key.into(), secret.into());
        self
    }

    /// Creates the consumer in the silo with this slug instead of
    /// `testing`.
    pub fn with_silo(mut self, slug: impl Into<String>) -> Self {
        self.silo = slug.into();
        self
    }

    /// Changes the [`ToolProviderApp`] before it is built (pages,
    /// permission model…).
    pub fn map_app(
        mut self,
        change: impl FnOnce(ToolProviderApp) -> ToolProviderApp + Send + 'static,
    ) -> Self {
        self.customize.push(Box::new(change));
        self
    }

    /// Builds the tool, creates the silo and the consumer.
    ///
    /// # Errors
    ///
    /// A [`TestToolError`] when the root, the database or the tool
    /// provider fail.
    pub async fn try_build(self) -> Result<TestTool, TestToolError> {
        let root = AppRoot::parse(&self.root)?;
        // A database the builder opens is handed over as such, so the tool's
        // own tables are reachable (`ToolProvider::db`) and its migrations
        // (`ToolProviderApp::with_migrations` through `map_app`) run.
        let app = ToolProviderApp::new(self.settings);
        let app = match self.store {
            Some(store) => app.with_store(store),
            None => app.with_db(lti_store::open(&self.database_url, &StoreOptions::new()).await?),
        };
        let mut app = app
            .with_clock(Arc::new(self.clock.clone()))
            .with_app_secret(self.app_secret)
            .with_canonical_root(root.clone());
        if let Some(on) = self.debug_launch {
            app = app.with_debug_launch(on);
        }
        for change in self.customize {
            app = change(app);
        }
        let provider = app.build().await?;
        let state = provider.state().clone();
        let silo = match state.store().find_silo_by_slug(&self.silo).await? {
            Some(silo) => silo,
            None => state.store().create_silo(&self.silo).await?,
        };
        let tool_router = provider.router(self.routes);
        let prefix = root.path().trim_end_matches('/');
        let router = if prefix.is_empty() {
            tool_router
        } else {
            Router::new().nest(prefix, tool_router)
        };
        let mut tool = TestTool {
            provider,
            router,
            clock: self.clock,
            silo,
            consumer: None,
            consumer_secret: self.consumer.1.clone(),
        };
        let consumer = tool
            .add_consumer(&self.consumer.0, &self.consumer.1)
            .await?;
        tool.consumer = Some(consumer);
        Ok(tool)
    }

    /// Builds the tool.
    ///
    /// # Panics
    ///
    /// When [`try_build`](Self::try_build) fails, with the reason.
    pub async fn build(self) -> TestTool {
        match self.try_build().await {
            Ok(tool) => tool,
            Err(err) => panic!("TestTool failed to build: {err}"),
        }
    }
}

/// A tool provider for tests: on `sqlite::memory:` (or a given database),
/// with a [`FixedClock`] starting at [`TEST_START_TIME`], the application
/// secret [`TEST_APP_SECRET`], canonical root `http://localhost:8080`, silo
/// `testing` with consumer `12345` / `secret`, and the tool author's routes.
///
/// ```
/// use http::StatusCode;
/// use lti_testkit::TestTool;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let tool = TestTool::new().await;
/// let browser = tool.client();
/// let launch = tool.launch().person_name("Ada Lovelace");
/// let response = browser.launch(&launch).await;
/// assert_eq!(response.status(), StatusCode::SEE_OTHER);
/// let response = browser.follow(&response).await; // the cookie test
/// let page = browser.follow(&response).await; // the resource page
/// assert_eq!(page.status(), StatusCode::OK);
/// assert!(page.text().contains("Ada Lovelace"));
/// # });
/// ```
pub struct TestTool {
    provider: ToolProvider,
    router: Router,
    clock: FixedClock,
    silo: SiloRecord,
    consumer: Option<ConsumerRecord>,
    consumer_secret: String,
}

impl std::fmt::Debug for TestTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTool")
            .field("root", &self.root().url())
            .field("silo", &self.silo.slug)
            .field("consumer", &self.consumer.as_ref().map(|c| &c.key))
            .finish_non_exhaustive()
    }
}

impl TestTool {
    /// A builder with the defaults.
    pub fn builder() -> TestToolBuilder {
        let mut settings = Settings::default();
        settings.database.url = "sqlite::memory:".to_owned();
        TestToolBuilder {
            settings,
            root: "http://localhost:8080".to_owned(),
            clock: FixedClock::new(TEST_START_TIME),
            app_secret: TEST_APP_SECRET.to_owned(),
            routes: Router::new(),
            database_url: "sqlite::memory:".to_owned(),
            store: None,
            debug_launch: None,
            silo: "testing".to_owned(),
            consumer: ("12345".to_owned(), "secret".to_owned()),
            customize: Vec::new(),
        }
    }

    /// A tool with every default.
    ///
    /// # Panics
    ///
    /// When it cannot be built (see [`TestToolBuilder::try_build`]).
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    /// The router to drive (mounted under the root's path prefix, if any).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The built tool provider.
    pub fn provider(&self) -> &ToolProvider {
        &self.provider
    }

    /// The framework's shared state: store, cipher, settings, root.
    pub fn state(&self) -> &LtiState {
        self.provider.state()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.state().store()
    }

    /// The tool's clock; clones share the time, so moving it moves the
    /// tool's.
    pub fn clock(&self) -> &FixedClock {
        &self.clock
    }

    /// The canonical root, e.g. `http://localhost:8080/`.
    pub fn root(&self) -> &AppRoot {
        self.state().root()
    }

    /// An absolute URL under the root, e.g. `url("launch")`.
    pub fn url(&self, relative: &str) -> String {
        self.root().join(relative)
    }

    /// The silo the consumer was created in.
    pub fn silo(&self) -> &SiloRecord {
        &self.silo
    }

    /// The consumer created at build time.
    ///
    /// # Panics
    ///
    /// Never after a successful build.
    pub fn consumer(&self) -> &ConsumerRecord {
        self.consumer
            .as_ref()
            .expect("try_build creates the consumer before returning")
    }

    /// A new browser: a [`TestClient`] with an empty jar.
    pub fn client(&self) -> TestClient {
        TestClient::new(self.router())
    }

    /// A launch signed for this tool: URL `<root>launch`, the tool's
    /// current time, the build-time consumer's key and secret.
    pub fn launch(&self) -> LaunchBuilder {
        LaunchBuilder::new()
            .url(self.url("launch"))
            .at(&self.clock)
            .consumer(self.consumer_key(), self.consumer_secret.clone())
    }

    fn consumer_key(&self) -> String {
        self.consumer
            .as_ref()
            .map(|c| c.key.clone())
            .unwrap_or_default()
    }

    /// Creates another consumer in the tool's silo, its secret sealed by
    /// the tool's cipher as the admin commands do.
    ///
    /// # Errors
    ///
    /// A [`TestToolError`] when sealing or storing fails (e.g. a duplicate
    /// key).
    pub async fn add_consumer(
        &self,
        key: &str,
        secret: &str,
    ) -> Result<ConsumerRecord, TestToolError> {
        let state = self.state();
        let now = state.now();
        let sealed = SealedSecret::from_cipher_text(state.cipher().encrypt_str(secret, now)?);
        Ok(state
            .store()
            .create_consumer(NewConsumer {
                silo: self.silo.id,
                handle: format!("test consumer {key}"),
                key: key.to_owned(),
                secret: sealed,
                now,
            })
            .await?)
    }

    /// Enables or disables a consumer by key.
    ///
    /// # Errors
    ///
    /// A [`TestToolError`] when the store fails; an unknown key is
    /// [`StoreError::NotFound`].
    pub async fn set_consumer_enabled(
        &self,
        key: &str,
        enabled: bool,
    ) -> Result<(), TestToolError> {
        let store = self.store();
        let consumer = store
            .find_consumer_by_key(key)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("consumer {key:?}")))?;
        store.set_consumer_enabled(consumer.id, enabled).await?;
        Ok(())
    }
}
