//! Settings: a JSON file whose every key has a default.
//!
//! The sections follow Pyslet's settings file (spec §1.5.2) with modern
//! names. `config/settings.json` in the repository lists every key with its
//! default and a comment. The command line overrides the file, and the
//! environment (`LTI_APP_SECRET`, `LTI_DATABASE_URL`) overrides both for
//! secrets, so they need not be written into a file.

use std::path::Path;

use serde::Deserialize;

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The settings file could not be read.
    #[error("cannot read settings file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The settings file is not valid JSON of the expected shape.
    #[error("invalid settings file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What was wrong, with line and column.
        source: serde_json::Error,
    },
    /// A value is out of range or inconsistent with another.
    #[error("invalid setting {key}: {reason}")]
    Invalid {
        /// The setting, as `section.key`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// All settings of a tool. Every field has a default; see
/// `config/settings.json` for the documented list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// Network and URL settings.
    pub server: ServerSettings,
    /// Where data is stored.
    pub database: DatabaseSettings,
    /// The application key that seals consumer secrets and signs cookies.
    pub keys: KeySettings,
    /// Session cookies and the cookie test.
    pub session: SessionSettings,
    /// Launch validation.
    pub launch: LaunchSettings,
    /// The silo and consumer made by `--create-silo`.
    pub silo: SiloSettings,
    /// Background maintenance.
    pub maintenance: MaintenanceSettings,
}

/// `server` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerSettings {
    /// Address to listen on.
    pub bind: String,
    /// Port to listen on (0 picks a free one).
    pub port: u16,
    /// The public base URL of the tool (scheme, host, port, optional path
    /// prefix), e.g. `https://tools.example.edu/mytool`. Every absolute URL,
    /// the OAuth base string, cookie paths and the `Secure` flag come from
    /// it. Defaults to `http://localhost:<port>`; required when `bind` is not
    /// a loopback address.
    pub canonical_root: Option<String>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Log filter (`error`, `warn`, `info`, `debug`, `trace` or a
    /// tracing-subscriber directive); `-v` overrides it.
    pub log: String,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Mount the built-in test consumer under `/dev/` (a small LMS that
    /// signs launches with stored secrets: for development only). `--dev`
    /// and `-m` turn it on.
    pub dev: bool,
    /// Mount the admin console under `/admin/`, where owners (accounts
    /// made with `owners add`) manage their silo's consumers. `--admin`
    /// turns it on.
    pub admin: bool,
    /// Addresses and CIDR blocks (`10.0.0.5`, `10.0.0.0/8`, `::1`) of
    /// reverse proxies whose `Forwarded` / `X-Forwarded-Proto`, `-Host`,
    /// `-Port` and `-Prefix` headers give the public URL. Used only when
    /// `canonical_root` is not set (a configured root always wins), and
    /// only for requests whose TCP peer is in the list. The command line
    /// serves with the peer address; a tool that serves the router itself
    /// must use `into_make_service_with_connect_info::<SocketAddr>()`.
    /// The admin console's login limiter also takes the client address
    /// from these proxies' `X-Forwarded-For`, canonical root or not.
    pub trusted_proxies: Vec<String>,
    /// Origins allowed to frame the tool's pages, sent as
    /// `Content-Security-Policy: frame-ancestors …` (e.g.
    /// `https://canvas.example.edu`). The default `*` lets any LMS embed
    /// the tool; an empty list sends no such header.
    pub frame_ancestors: Vec<String>,
    /// The `Referrer-Policy` header of every response (empty: none).
    pub referrer_policy: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1".into(),
            port: 8080,
            canonical_root: None,
            body_limit: 64 * 1024,
            log: "info".into(),
            shutdown_grace_secs: 10,
            dev: false,
            admin: false,
            trusted_proxies: Vec::new(),
            frame_ancestors: vec!["*".into()],
            referrer_policy: "strict-origin-when-cross-origin".into(),
        }
    }
}

/// `database` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DatabaseSettings {
    /// `sqlite:path`, `sqlite::memory:` or `postgres://…`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection before answering 503.
    pub acquire_timeout_secs: u64,
    /// Milliseconds SQLite waits on a locked database.
    pub busy_timeout_ms: u64,
    /// Seconds PostgreSQL lets a connection sit idle inside a transaction.
    pub idle_in_transaction_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite:lti.sqlite3".into(),
            max_connections: 8,
            acquire_timeout_secs: 5,
            busy_timeout_ms: 5000,
            idle_in_transaction_timeout_secs: 30,
        }
    }
}

/// `keys` section: the application key (spec §8.3, DESIGN.md "Secrets").
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct KeySettings {
    /// Number of the current application key.
    pub keynum: u32,
    /// The application secret itself (prefer `secret_file` or the
    /// `LTI_APP_SECRET` environment variable).
    pub secret: Option<String>,
    /// A file holding the application secret (trailing newline ignored).
    pub secret_file: Option<String>,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            keynum: 1,
            secret: None,
            secret_file: None,
        }
    }
}

impl std::fmt::Debug for KeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySettings")
            .field("keynum", &self.keynum)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("secret_file", &self.secret_file)
            .finish()
    }
}

/// `session` section (spec §4, DESIGN.md "Sessions").
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionSettings {
    /// Session cookie name.
    pub cookie: String,
    /// Test cookie name.
    pub test_cookie: String,
    /// Test cookie Max-Age in seconds (100 days).
    pub test_cookie_max_age_secs: i64,
    /// Seconds an unestablished session (one that has not yet come back in
    /// a cookie) stays valid.
    pub unestablished_secs: i64,
    /// Seconds of inactivity after which an established session ends.
    pub idle_timeout_secs: i64,
    /// Seconds after creation at which any session ends.
    pub absolute_timeout_secs: i64,
    /// Form field carrying the CSRF token (the header is `X-CSRF-Token`).
    pub csrf_field: String,
    /// Add `Partitioned` (CHIPS) to cookies on https, so the tool keeps its
    /// session inside an LMS iframe where third-party cookies are blocked.
    pub partitioned: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            cookie: "sid".into(),
            test_cookie: "ctest".into(),
            test_cookie_max_age_secs: 8_640_000,
            unestablished_secs: 120,
            idle_timeout_secs: 600,
            absolute_timeout_secs: 12 * 3600,
            csrf_field: "csrftoken".into(),
            partitioned: true,
        }
    }
}

/// `launch` section (spec §5, DESIGN.md "Launch").
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LaunchSettings {
    /// Largest accepted difference between `oauth_timestamp` and the clock.
    pub timestamp_window_secs: i64,
    /// Show the launch doctor's diagnosis (URL, base string, clock skew) on
    /// signature failure pages. On by default with `-m`; never shows secrets.
    pub debug_launch: Option<bool>,
    /// Largest accepted length, in bytes, of an id (`resource_link_id`,
    /// `user_id`, `context_id`, `oauth_nonce`…).
    pub max_id_len: usize,
}

impl Default for LaunchSettings {
    fn default() -> Self {
        Self {
            timestamp_window_secs: 600,
            debug_launch: None,
            max_id_len: 256,
        }
    }
}

/// `silo` section: what `--create-silo` creates.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SiloSettings {
    /// Slug of the silo.
    pub slug: String,
    /// Consumer key.
    pub key: String,
    /// Consumer secret.
    pub secret: String,
}

impl Default for SiloSettings {
    fn default() -> Self {
        Self {
            slug: "testing".into(),
            key: "12345".into(),
            secret: "secret".into(),
        }
    }
}

impl std::fmt::Debug for SiloSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiloSettings")
            .field("slug", &self.slug)
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// `maintenance` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct MaintenanceSettings {
    /// Seconds between prune runs (0 turns the background task off).
    pub prune_interval_secs: u64,
    /// Seconds a detached visit is kept before it is deleted.
    pub visit_retention_secs: i64,
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        Self {
            prune_interval_secs: 3600,
            visit_retention_secs: 30 * 24 * 3600,
        }
    }
}

impl Settings {
    /// Reads settings from a JSON file. Missing keys take their defaults;
    /// unknown keys are an error, so a typo does not go unnoticed.
    pub fn from_file(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text).map_err(|e| match e {
            SettingsError::Parse { source, .. } => SettingsError::Parse {
                path: path.display().to_string(),
                source,
            },
            other => other,
        })
    }

    /// Parses settings from JSON text. Keys starting with `//` are comments
    /// and are ignored at any level.
    pub fn from_json(text: &str) -> Result<Self, SettingsError> {
        let parse_error = |source| SettingsError::Parse {
            path: "<text>".into(),
            source,
        };
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(parse_error)?;
        strip_comments(&mut value);
        let settings: Self = serde_json::from_value(value).map_err(parse_error)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks ranges and consistency.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let positive = |key: &'static str, value: i64| {
            if value > 0 {
                Ok(())
            } else {
                Err(SettingsError::Invalid {
                    key,
                    reason: format!("must be positive, got {value}"),
                })
            }
        };
        positive(
            "session.unestablished_secs",
            self.session.unestablished_secs,
        )?;
        positive("session.idle_timeout_secs", self.session.idle_timeout_secs)?;
        positive(
            "session.absolute_timeout_secs",
            self.session.absolute_timeout_secs,
        )?;
        positive(
            "launch.timestamp_window_secs",
            self.launch.timestamp_window_secs,
        )?;
        if self.server.body_limit < 1024 {
            return Err(SettingsError::Invalid {
                key: "server.body_limit",
                reason: "must be at least 1024 bytes".into(),
            });
        }
        for (key, name) in [
            ("session.cookie", &self.session.cookie),
            ("session.test_cookie", &self.session.test_cookie),
            ("session.csrf_field", &self.session.csrf_field),
        ] {
            let ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return Err(SettingsError::Invalid {
                    key,
                    reason: format!("{name:?} must be letters, digits, '_' or '-'"),
                });
            }
        }
        if self.session.cookie == self.session.test_cookie {
            return Err(SettingsError::Invalid {
                key: "session.test_cookie",
                reason: "must differ from session.cookie".into(),
            });
        }
        crate::proxy::TrustedProxies::parse(&self.server.trusted_proxies).map_err(|reason| {
            SettingsError::Invalid {
                key: "server.trusted_proxies",
                reason,
            }
        })?;
        crate::embed::check_settings(&self.server)?;
        if self.launch.max_id_len == 0 {
            return Err(SettingsError::Invalid {
                key: "launch.max_id_len",
                reason: "must be positive".into(),
            });
        }
        Ok(())
    }
}

/// Removes the `//…` comment keys of every object, recursively.
fn strip_comments(value: &mut serde_json::Value) {
    if let serde_json::Value::Object(map) = value {
        map.retain(|key, _| !key.starts_with("//"));
        map.values_mut().for_each(strip_comments);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_gives_defaults() {
        let s = Settings::from_json("{}").expect("defaults are valid");
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.session.cookie, "sid");
        assert_eq!(s.session.unestablished_secs, 120);
        assert_eq!(s.session.idle_timeout_secs, 600);
        assert_eq!(s.session.absolute_timeout_secs, 43_200);
        assert_eq!(s.launch.timestamp_window_secs, 600);
        assert_eq!(s.silo.key, "12345");
    }

    #[test]
    fn comment_keys_are_ignored() {
        let s = Settings::from_json(r#"{"//": "top", "server": {"// port": "doc", "port": 9000}}"#)
            .expect("comments are skipped");
        assert_eq!(s.server.port, 9000);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Settings::from_json(r#"{"session": {"cokie": "x"}}"#).unwrap_err();
        assert!(err.to_string().contains("cokie"), "{err}");
    }

    #[test]
    fn bad_values_are_rejected() {
        let err = Settings::from_json(r#"{"session": {"idle_timeout_secs": 0}}"#).unwrap_err();
        assert!(err.to_string().contains("idle_timeout_secs"), "{err}");
        let err = Settings::from_json(r#"{"session": {"cookie": "a b"}}"#).unwrap_err();
        assert!(err.to_string().contains("session.cookie"), "{err}");
        let err = Settings::from_json(r#"{"session": {"test_cookie": "sid"}}"#).unwrap_err();
        assert!(err.to_string().contains("must differ"), "{err}");
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = Settings::from_json(
            r#"{"keys": {"secret": "topsecretvalue"}, "silo": {"secret": "hushhush"}}"#,
        )
        .expect("valid");
        let text = format!("{s:?}");
        assert!(!text.contains("topsecretvalue"));
        assert!(!text.contains("hushhush"));
    }

    #[test]
    fn shipped_settings_file_matches_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/settings.json");
        let s = Settings::from_file(&path).expect("config/settings.json loads");
        let d = Settings::default();
        assert_eq!(s.server.port, d.server.port);
        assert_eq!(s.server.bind, d.server.bind);
        assert_eq!(s.server.body_limit, d.server.body_limit);
        assert_eq!(s.server.trusted_proxies, d.server.trusted_proxies);
        assert_eq!(s.server.admin, d.server.admin);
        assert_eq!(s.server.frame_ancestors, d.server.frame_ancestors);
        assert_eq!(s.server.referrer_policy, d.server.referrer_policy);
        assert_eq!(s.database.url, d.database.url);
        assert_eq!(s.session.cookie, d.session.cookie);
        assert_eq!(s.session.idle_timeout_secs, d.session.idle_timeout_secs);
        assert_eq!(s.launch.max_id_len, d.launch.max_id_len);
        assert_eq!(
            s.maintenance.visit_retention_secs,
            d.maintenance.visit_retention_secs
        );
    }
}
