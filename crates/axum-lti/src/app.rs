//! [`ToolProviderApp`]: the builder a tool author starts from, and
//! [`ToolProvider`], the built application that gives an axum `Router`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use lti_core::{
    AppCipher, AppSecret, Clock, DefaultPermissionModel, KeyChainError, PermissionModel, Store,
    SystemClock,
};
use lti_store::{Db, StoreOptions, ToolMigrations};

use crate::embed::EmbedHeaders;
use crate::error::LtiRejection;
use crate::pages::{DefaultPages, Pages, ResourcePage};
use crate::proxy::TrustedProxies;
use crate::root::{AppRoot, RootError};
use crate::session::SessionLayer;
use crate::settings::{Settings, SettingsError};
use crate::state::{LtiState, StateParts};
use crate::visit::Visit;

/// The environment variable that may hold the application secret.
pub const APP_SECRET_ENV: &str = "LTI_APP_SECRET";

/// Why a tool could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Settings are invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The canonical root is invalid.
    #[error(transparent)]
    Root(#[from] RootError),
    /// The canonical root is required and missing.
    #[error(
        "server.canonical_root (or --canonical-root) is required when binding {bind}: set it to \
         the public URL the LMS launches, e.g. https://tools.example.edu/mytool"
    )]
    RootRequired {
        /// The bind address.
        bind: String,
    },
    /// No application secret was configured.
    #[error(
        "no application secret: set {APP_SECRET_ENV}, keys.secret_file or keys.secret in the \
         settings (at least 16 bytes; e.g. `head -c 32 /dev/urandom | base64`), or run with -m \
         for a throwaway in-memory tool"
    )]
    NoSecret,
    /// The application secret is unusable.
    #[error("application secret: {0}")]
    Secret(String),
    /// The key chain stored in the database does not fit the configured key.
    #[error("application key chain: {0}")]
    KeyChain(#[from] KeyChainError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] lti_core::StoreError),
    /// [`ToolProviderApp::with_migrations`] was combined with
    /// [`ToolProviderApp::with_store`], which hides the database.
    #[error(
        "the tool's migrations need the database itself: give it with with_db (or let the \
         framework open database.url) instead of with_store"
    )]
    ToolMigrationsNeedDb,
}

/// Builds a tool provider: settings, and optionally the store, clock,
/// permission model, pages and application secret.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use axum_lti::{Settings, ToolProviderApp, Visit};
///
/// async fn page(visit: Visit) -> String {
///     format!("Hello {}", visit.display_name())
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tool = ToolProviderApp::new(Settings::default())
///     .with_app_secret("a long random application secret")
///     .build()
///     .await?;
/// let app: Router = tool.router(Router::new().route("/resource/{id}/", get(page)));
/// # Ok(()) }
/// ```
#[must_use]
pub struct ToolProviderApp {
    settings: Settings,
    root: Option<AppRoot>,
    store: StoreSource,
    pub(crate) tool_migrations: Option<ToolMigrations>,
    clock: Arc<dyn Clock>,
    permissions: Arc<dyn PermissionModel>,
    pages: Arc<dyn Pages>,
    secret: Option<String>,
    debug_launch: Option<bool>,
    migrate: bool,
}

/// Where the store comes from.
enum StoreSource {
    /// Open `database.url`.
    Open,
    /// A database the caller opened.
    Db(Db),
    /// Any store (no database for the tool's own tables).
    Store(Arc<dyn Store>),
}

impl std::fmt::Debug for ToolProviderApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolProviderApp")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ToolProviderApp {
    /// Starts from settings; everything else has a default.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            root: None,
            store: StoreSource::Open,
            tool_migrations: None,
            clock: Arc::new(SystemClock),
            permissions: Arc::new(DefaultPermissionModel),
            pages: Arc::new(DefaultPages),
            secret: None,
            debug_launch: None,
            migrate: true,
        }
    }

    /// Uses this store instead of opening `database.url`. The tool then
    /// has no [`ToolProvider::db`]; see [`with_db`](Self::with_db).
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = StoreSource::Store(store);
        self
    }

    /// Uses this database instead of opening `database.url`, and keeps it
    /// reachable through [`ToolProvider::db`] for the tool's own tables.
    /// Migrations (the framework's, then [`with_migrations`](Self::with_migrations))
    /// run on it at build unless [`without_migrations`](Self::without_migrations).
    pub fn with_db(mut self, db: Db) -> Self {
        self.store = StoreSource::Db(db);
        self
    }

    /// Runs the tool's own migrations (tables of its own, numbered from
    /// [`lti_store::TOOL_MIGRATIONS_START`]) at build, after the
    /// framework's; `--sqlout` prints them too. Needs the database itself:
    /// the one the framework opens, or [`with_db`](Self::with_db), not
    /// [`with_store`](Self::with_store). A second call replaces the first.
    ///
    /// In the tool's crate, which depends on `lti-store` and `sqlx` (here
    /// with the noticeboard example's folders):
    ///
    /// ```no_run
    /// use axum_lti::{Settings, ToolProviderApp};
    /// use lti_store::ToolMigrations;
    /// use sqlx::migrate::Migrator;
    ///
    /// static SQLITE: Migrator = sqlx::migrate!("../../examples/noticeboard/migrations/sqlite");
    /// static POSTGRES: Migrator =
    ///     sqlx::migrate!("../../examples/noticeboard/migrations/postgres");
    ///
    /// # async fn run() -> Result<(), axum_lti::StartError> {
    /// let tool = ToolProviderApp::new(Settings::default())
    ///     .with_migrations(ToolMigrations::new(&SQLITE, &POSTGRES))
    ///     .with_app_secret("a long random application secret")
    ///     .build()
    ///     .await?;
    /// let pool = tool.db().and_then(|db| db.sqlite_pool());
    /// # Ok(()) }
    /// ```
    pub fn with_migrations(mut self, migrations: ToolMigrations) -> Self {
        self.tool_migrations = Some(migrations);
        self
    }

    /// Uses this clock (tests use a fixed one).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the permission model (spec §6.2's is the default).
    pub fn with_permission_model(mut self, model: impl PermissionModel) -> Self {
        self.permissions = Arc::new(model);
        self
    }

    /// Replaces the pages.
    pub fn with_pages(mut self, pages: impl Pages) -> Self {
        self.pages = Arc::new(pages);
        self
    }

    /// Sets the application secret (overrides the settings and the
    /// environment).
    pub fn with_app_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Sets the canonical root (overrides `server.canonical_root`).
    pub fn with_canonical_root(mut self, root: AppRoot) -> Self {
        self.root = Some(root);
        self
    }

    /// Shows (or hides) the launch doctor on launch failure pages,
    /// overriding `launch.debug_launch`.
    pub fn with_debug_launch(mut self, on: bool) -> Self {
        self.debug_launch = Some(on);
        self
    }

    /// Mounts the built-in test consumer under `/dev/` (development only:
    /// it signs launches with stored consumer secrets).
    pub fn with_test_consumer(mut self) -> Self {
        self.settings.server.dev = true;
        self
    }

    /// Mounts the admin console under `/admin/` (sets `server.admin`):
    /// owners log in with an email and password and manage their silo's
    /// consumers. Accounts are made with the `owners add` command; without
    /// one nobody can log in. Logins are rate-limited in memory, per
    /// instance.
    ///
    /// ```no_run
    /// use axum::Router;
    /// use axum_lti::{Settings, ToolProviderApp};
    ///
    /// # async fn run() -> Result<(), axum_lti::StartError> {
    /// let tool = ToolProviderApp::new(Settings::default())
    ///     .with_admin()
    ///     .with_app_secret("a long random application secret")
    ///     .build()
    ///     .await?;
    /// let app: Router = tool.router(Router::new()); // serves <root>admin/
    /// # Ok(()) }
    /// ```
    pub fn with_admin(mut self) -> Self {
        self.settings.server.admin = true;
        self
    }

    /// Does not run migrations when opening the database.
    pub fn without_migrations(mut self) -> Self {
        self.migrate = false;
        self
    }

    /// The settings this builder holds.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Opens the store, loads the application key chain and builds the
    /// shared state.
    pub async fn build(self) -> Result<ToolProvider, StartError> {
        self.settings.validate()?;
        // A configured canonical root wins over forwarding headers.
        let root_configured = self.root.is_some() || self.settings.server.canonical_root.is_some();
        let root = match self.root {
            Some(root) => root,
            None => resolve_root(&self.settings)?,
        };
        let (store, db): (Arc<dyn Store>, Option<Db>) = match self.store {
            StoreSource::Store(_) if self.migrate && self.tool_migrations.is_some() => {
                return Err(StartError::ToolMigrationsNeedDb);
            }
            StoreSource::Store(store) => (store, None),
            StoreSource::Db(db) => {
                if self.migrate {
                    db.migrate().await?;
                }
                (Arc::new(db.clone()), Some(db))
            }
            StoreSource::Open => {
                let db = open_store(&self.settings, self.migrate).await?;
                (Arc::new(db.clone()), Some(db))
            }
        };
        if self.migrate
            && let (Some(migrations), Some(db)) = (&self.tool_migrations, &db)
        {
            db.migrate_tool(migrations).await?;
        }
        let secret = match self.secret {
            Some(secret) => secret,
            None => configured_secret(&self.settings)?.ok_or(StartError::NoSecret)?,
        };
        let secret =
            AppSecret::new(secret.as_bytes()).map_err(|e| StartError::Secret(e.to_string()))?;
        let records = store.app_keys().await?;
        let cipher = AppCipher::from_chain(self.settings.keys.keynum, secret, &records)?;
        let debug_launch = self
            .debug_launch
            .or(self.settings.launch.debug_launch)
            .unwrap_or(false);
        let trusted_proxies = match TrustedProxies::parse(&self.settings.server.trusted_proxies) {
            Ok(list) if root_configured && !list.is_empty() => {
                tracing::warn!(
                    "server.trusted_proxies does not set the public URL: canonical_root is set \
                     and always wins (the admin console's login limiter still reads the \
                     client address these proxies forward)"
                );
                None
            }
            Ok(list) => Some(list),
            Err(reason) => {
                return Err(SettingsError::Invalid {
                    key: "server.trusted_proxies",
                    reason,
                }
                .into());
            }
        };
        let state = LtiState::new(StateParts {
            settings: self.settings,
            root,
            store,
            db,
            cipher: Arc::new(cipher),
            clock: self.clock,
            permissions: self.permissions,
            pages: self.pages,
            debug_launch,
            trusted_proxies,
        });
        Ok(ToolProvider {
            state,
            admin_limiter: Arc::default(),
        })
    }
}

/// The canonical root from the settings: `server.canonical_root`, or
/// `http://localhost:<port>` on a loopback bind address or when
/// `server.trusted_proxies` will name the root of proxied requests.
pub(crate) fn resolve_root(settings: &Settings) -> Result<AppRoot, StartError> {
    match &settings.server.canonical_root {
        Some(url) => Ok(AppRoot::parse(url)?),
        None if is_loopback_bind(&settings.server.bind)
            || !settings.server.trusted_proxies.is_empty() =>
        {
            Ok(AppRoot::localhost(settings.server.port))
        }
        None => Err(StartError::RootRequired {
            bind: settings.server.bind.clone(),
        }),
    }
}

fn is_loopback_bind(bind: &str) -> bool {
    bind == "localhost"
        || bind
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The application secret from the environment, `keys.secret_file` or
/// `keys.secret`, in that order.
pub(crate) fn configured_secret(settings: &Settings) -> Result<Option<String>, StartError> {
    if let Ok(secret) = std::env::var(APP_SECRET_ENV)
        && !secret.is_empty()
    {
        return Ok(Some(secret));
    }
    if let Some(path) = &settings.keys.secret_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| StartError::Secret(format!("cannot read {path}: {e}")))?;
        return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
    }
    Ok(settings.keys.secret.clone())
}

/// Opens (and migrates) the database named by the settings.
pub(crate) async fn open_store(
    settings: &Settings,
    migrate: bool,
) -> Result<lti_store::Db, StartError> {
    let db = &settings.database;
    let options = StoreOptions::new()
        .with_max_connections(db.max_connections)
        .with_acquire_timeout(Duration::from_secs(db.acquire_timeout_secs))
        .with_busy_timeout(Duration::from_millis(db.busy_timeout_ms))
        .with_idle_in_transaction_timeout(Duration::from_secs(db.idle_in_transaction_timeout_secs))
        .with_migrate(migrate);
    Ok(lti_store::open(&db.url, &options).await?)
}

/// A built tool provider: its state and its router.
#[derive(Clone, Debug)]
pub struct ToolProvider {
    state: LtiState,
    /// The admin console's login failures (in memory: per instance).
    admin_limiter: Arc<crate::admin::LoginLimiter>,
}

impl ToolProvider {
    /// The shared state.
    pub fn state(&self) -> &LtiState {
        &self.state
    }

    /// The database, for the tool's own tables: present unless the store
    /// was given with [`ToolProviderApp::with_store`] (see
    /// [`LtiState::db`]).
    pub fn db(&self) -> Option<&Db> {
        self.state.db()
    }

    /// The tool's router: the framework's routes (`/launch`, `/ctest`,
    /// `/wlaunch`, the default page for `/resource/{id}/` and below, the
    /// test consumer under `/dev/` when `server.dev` is on and the admin
    /// console under `/admin/` when `server.admin` is on) merged
    /// with the tool author's routes, all behind the session layer.
    ///
    /// The author's routes win: a route for `/resource/{id}/` replaces the
    /// default resource page (which is served by the fallback). Do not give
    /// `tool_routes` a fallback of its own.
    ///
    /// When the canonical root has a path prefix (`https://x.edu/tools/mytool`)
    /// the same routes are served under that prefix too, so the proxy may
    /// strip the prefix (`proxy_pass http://tool/;`) or pass the whole path
    /// (`proxy_pass http://tool;`). Either way handlers see the path within
    /// the app, and the signed URL is the canonical root plus that path.
    ///
    /// Every response gets the embedding headers (`frame-ancestors`,
    /// `nosniff`, `Referrer-Policy`; see `server.frame_ancestors`).
    pub fn router<S>(&self, tool_routes: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let mut router = Router::new()
            .route("/launch", any(crate::launch::launch_handler))
            .route("/ctest", get(crate::session::ctest))
            .route("/wlaunch", get(crate::session::wlaunch));
        if self.state.settings().server.dev {
            router = router.merge(crate::dev::routes());
        }
        if self.state.settings().server.admin {
            router = router.merge(crate::admin::routes(Arc::clone(&self.admin_limiter)));
        }
        // `server.body_limit` holds for axum's body extractors too (`Form`,
        // `Json`, `Bytes` in the tool's handlers), not only the framework's.
        let body_limit = self.state.settings().server.body_limit;
        let mut app = router
            .merge(tool_routes)
            .fallback(fallback)
            .layer(axum::extract::DefaultBodyLimit::max(body_limit))
            .layer(SessionLayer::new(self.state.clone()));
        let prefix = self.state.root().path().trim_end_matches('/');
        if !prefix.is_empty() {
            app = app.clone().nest(prefix, app);
        }
        let headers = EmbedHeaders::new(&self.state.settings().server);
        app.layer(axum::middleware::map_response(move |response: Response| {
            let headers = headers.clone();
            async move { headers.apply(response) }
        }))
        // One span per request, outermost, so every log line of a request
        // carries its method and path.
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &http::Request<axum::body::Body>| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path()
                    )
                },
            ),
        )
    }
}

/// The fallback: the default resource page for `/resource/{id}/…`, 404
/// for anything else.
async fn fallback(request: Request) -> Response {
    if request.uri().path().starts_with("/resource/") {
        let (mut parts, _) = request.into_parts();
        match <Visit as axum::extract::FromRequestParts<()>>::from_request_parts(&mut parts, &())
            .await
        {
            Ok(visit) => default_resource_page(&parts.extensions, &visit),
            Err(rejection) => rejection.into_response(),
        }
    } else {
        LtiRejection::NotFound.into_response()
    }
}

fn default_resource_page(extensions: &http::Extensions, visit: &Visit) -> Response {
    let Ok(state) = LtiState::from_extensions(extensions) else {
        return LtiRejection::MissingLayer.into_response();
    };
    let context = visit
        .context()
        .and_then(|c| {
            c.title
                .clone()
                .or_else(|| c.label.clone())
                .or(Some(c.context_id.clone()))
        })
        .unwrap_or_else(|| "—".into());
    let roles = visit
        .roles()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let page = ResourcePage {
        title: visit.title(),
        display_name: visit.display_name(),
        context,
        resource: visit.resource().link_id.clone(),
        roles: if roles.is_empty() {
            "—".into()
        } else {
            roles
        },
        permissions: format!("{} ({})", visit.permissions(), visit.permissions().bits()),
    };
    Html(state.pages().resource(&page)).into_response()
}
