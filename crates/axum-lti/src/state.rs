//! [`LtiState`]: what every part of the framework shares.

use std::sync::Arc;

use http::Extensions;
use lti_core::{AppCipher, Clock, PermissionModel, Store};

use crate::error::LtiRejection;
use crate::pages::Pages;
use crate::proxy::TrustedProxies;
use crate::root::AppRoot;
use crate::session::{CookiePolicy, SessionData};
use crate::settings::Settings;

/// The framework's shared state: settings, the application root, the store,
/// the application cipher, the clock, the permission model and the pages.
///
/// Cheap to clone. The session layer puts it into every request's
/// extensions, so the framework's extractors need nothing from the
/// router's own state, and a tool author's handlers can take it as an
/// extractor too.
#[derive(Clone)]
pub struct LtiState {
    inner: Arc<Inner>,
    /// The root and what follows from it; per request when a trusted proxy
    /// names the public URL (see `proxy.rs`).
    site: Arc<Site>,
}

/// The application root and the cookie attributes it implies.
struct Site {
    root: AppRoot,
    cookies: CookiePolicy,
}

impl Site {
    fn new(root: AppRoot, partitioned: bool) -> Self {
        let cookies = CookiePolicy {
            path: root.path().to_owned(),
            cross_site: root.is_secure_context(),
            partitioned,
        };
        Self { root, cookies }
    }
}

struct Inner {
    settings: Settings,
    store: Arc<dyn Store>,
    db: Option<lti_store::Db>,
    cipher: Arc<AppCipher>,
    clock: Arc<dyn Clock>,
    permissions: Arc<dyn PermissionModel>,
    pages: Arc<dyn Pages>,
    debug_launch: bool,
    trusted_proxies: Option<TrustedProxies>,
}

impl std::fmt::Debug for LtiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LtiState")
            .field("root", &self.site.root.url())
            .field("debug_launch", &self.inner.debug_launch)
            .finish_non_exhaustive()
    }
}

/// The parts [`LtiState`] is built from.
pub(crate) struct StateParts {
    pub(crate) settings: Settings,
    pub(crate) root: AppRoot,
    pub(crate) store: Arc<dyn Store>,
    /// The concrete database behind `store`, when the framework opened it
    /// or was given one (`with_db`).
    pub(crate) db: Option<lti_store::Db>,
    pub(crate) cipher: Arc<AppCipher>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) permissions: Arc<dyn PermissionModel>,
    pub(crate) pages: Arc<dyn Pages>,
    pub(crate) debug_launch: bool,
    /// `server.trusted_proxies`, only when no canonical root is configured
    /// (a configured root wins over forwarding headers).
    pub(crate) trusted_proxies: Option<TrustedProxies>,
}

impl LtiState {
    pub(crate) fn new(parts: StateParts) -> Self {
        let site = Site::new(parts.root, parts.settings.session.partitioned);
        Self {
            site: Arc::new(site),
            inner: Arc::new(Inner {
                settings: parts.settings,
                store: parts.store,
                db: parts.db,
                cipher: parts.cipher,
                clock: parts.clock,
                permissions: parts.permissions,
                pages: parts.pages,
                debug_launch: parts.debug_launch,
                trusted_proxies: parts.trusted_proxies.filter(|p| !p.is_empty()),
            }),
        }
    }

    /// The same state with another root (a request from a trusted proxy).
    pub(crate) fn with_root(&self, root: AppRoot) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            site: Arc::new(Site::new(root, self.inner.settings.session.partitioned)),
        }
    }

    /// The proxies whose forwarding headers set the root, if any.
    pub(crate) fn trusted_proxies(&self) -> Option<&TrustedProxies> {
        self.inner.trusted_proxies.as_ref()
    }

    /// The state the session layer put into a request's extensions.
    pub(crate) fn from_extensions(extensions: &Extensions) -> Result<Self, LtiRejection> {
        extensions
            .get::<Self>()
            .cloned()
            .ok_or(LtiRejection::MissingLayer)
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The application root (the canonical public URL; for a request from
    /// a trusted proxy, the URL its forwarding headers name).
    pub fn root(&self) -> &AppRoot {
        &self.site.root
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The database behind [`store`](Self::store), for a tool's own tables
    /// (through [`Db::sqlite_pool`](lti_store::Db::sqlite_pool) or
    /// [`Db::postgres_pool`](lti_store::Db::postgres_pool)): present when
    /// the framework opened the database itself or was given it with
    /// [`ToolProviderApp::with_db`](crate::ToolProviderApp::with_db), absent
    /// with [`ToolProviderApp::with_store`](crate::ToolProviderApp::with_store).
    pub fn db(&self) -> Option<&lti_store::Db> {
        self.inner.db.as_ref()
    }

    /// The application cipher (seals consumer secrets, signs cookies).
    pub fn cipher(&self) -> &AppCipher {
        &self.inner.cipher
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The current time in unix seconds.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// The permission model that turns roles into permission bits.
    pub fn permission_model(&self) -> &dyn PermissionModel {
        self.inner.permissions.as_ref()
    }

    /// The pages.
    pub fn pages(&self) -> &dyn Pages {
        self.inner.pages.as_ref()
    }

    /// True when launch failure pages show the launch doctor.
    pub fn debug_launch(&self) -> bool {
        self.inner.debug_launch
    }

    pub(crate) fn cookies(&self) -> &CookiePolicy {
        &self.site.cookies
    }

    /// How old a session cookie's last-seen time may get before a request
    /// re-issues the cookie: a tenth of the idle timeout, from 1 s to 60 s.
    pub(crate) fn last_seen_refresh_secs(&self) -> i64 {
        (self.inner.settings.session.idle_timeout_secs / 10).clamp(1, 60)
    }

    /// True when a session loaded from a cookie is still within its
    /// limits: 120 s to establish, 600 s idle, 12 h in all (configurable).
    pub(crate) fn session_alive(&self, data: &SessionData, now: i64) -> bool {
        let s = &self.inner.settings.session;
        if now.saturating_sub(data.created) > s.absolute_timeout_secs || data.last_seen > now + 60 {
            return false;
        }
        if data.established {
            now.saturating_sub(data.last_seen) <= s.idle_timeout_secs
        } else {
            now.saturating_sub(data.created) <= s.unestablished_secs
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LtiState {
    type Rejection = LtiRejection;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Self::from_extensions(&parts.extensions)
    }
}
