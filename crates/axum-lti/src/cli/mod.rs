//! The command line every tool binary gets (DESIGN.md §3 "Configuration and
//! command line").
//!
//! ```text
//! mytool [OPTIONS] [COMMAND]
//!   -v...                    more logging (-v info, -vv debug, -vvv trace)
//!   -p, --port PORT          port to listen on (0: any free port)
//!       --bind ADDR          address to listen on
//!   -m, --memory             in-memory database, random application key, launch doctor on
//!       --settings FILE      JSON settings file (see config/settings.json)
//!       --database-url URL   sqlite:PATH, sqlite::memory: or postgres://…
//!       --canonical-root URL the public URL the LMS launches (scheme, host, port, prefix)
//!       --create-silo        create the silo and consumer of the `silo` settings (12345/secret)
//!       --admin              mount the admin console at <root>admin/ (server.admin)
//!       --sqlout             print the database schema and exit
//! commands: silos, consumers, owners, keys, prune, config-xml
//! ```
//!
//! A tool with options of its own flattens [`LtiArgs`] into its parser:
//!
//! ```no_run
//! use axum::Router;
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     lti: axum_lti::cli::LtiArgs,
//!     /// The greeting to show.
//!     #[arg(long, default_value = "Hello")]
//!     greeting: String,
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let args = Args::parse();
//!     let greeting = args.greeting.clone();
//!     args.lti.run(move |_tool| { let _ = greeting; Router::new() }).await
//! }
//! ```

mod admin;
mod owners;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use axum::Router;
use clap::{Args, Parser};

pub use admin::{Command, ConsumerCommand, KeyCommand, SiloCommand};
pub use owners::{OWNER_PASSWORD_ENV, OwnerCommand};

use crate::app::{ToolProvider, ToolProviderApp, configured_secret};
use crate::settings::Settings;

/// The framework's options and commands, to flatten into a tool's parser.
#[derive(Debug, Clone, Args)]
#[non_exhaustive]
pub struct LtiArgs {
    /// More logging: -v info, -vv debug, -vvv trace (overrides server.log).
    #[arg(short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Port to listen on; 0 picks a free port.
    #[arg(short = 'p', long)]
    pub port: Option<u16>,
    /// Address to listen on (a non-loopback address needs --canonical-root).
    #[arg(long)]
    pub bind: Option<String>,
    /// Use a fresh in-memory database and a random application key, with the
    /// launch doctor on: for trying a tool out. Nothing is kept.
    #[arg(short = 'm', long)]
    pub memory: bool,
    /// Mount the built-in test consumer at <root>dev/ (implied by -m).
    #[arg(long)]
    pub dev: bool,
    /// Mount the admin console at <root>admin/, where owners (see `owners
    /// add`) manage their silo's consumers (sets server.admin).
    #[arg(long)]
    pub admin: bool,
    /// A JSON settings file (every key is optional; see config/settings.json).
    #[arg(long, value_name = "FILE", global = true)]
    pub settings: Option<PathBuf>,
    /// Database URL: sqlite:PATH, sqlite::memory: or postgres://…
    /// (overrides database.url; the LTI_DATABASE_URL variable overrides both).
    #[arg(long, value_name = "URL", global = true)]
    pub database_url: Option<String>,
    /// The public base URL the LMS launches, e.g. https://tools.example.edu/mytool.
    #[arg(long, value_name = "URL")]
    pub canonical_root: Option<String>,
    /// Create the silo and the consumer named in the `silo` settings
    /// (default: silo `testing`, key `12345`, secret `secret`).
    #[arg(long, visible_alias = "create_silo")]
    pub create_silo: bool,
    /// Print the database schema (CREATE statements) and exit.
    #[arg(long, short = 's')]
    pub sqlout: bool,
    /// An administration command; without one, the tool serves.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The command line of a tool without options of its own.
#[derive(Debug, Clone, Parser)]
#[command(version, about = "An LTI 1.x tool built with axum-lti")]
pub struct Cli {
    /// The framework's options.
    #[command(flatten)]
    pub lti: LtiArgs,
}

/// The environment variable that overrides the database URL.
pub const DATABASE_URL_ENV: &str = "LTI_DATABASE_URL";

/// Parses the process's command line and runs the tool: the whole `main`
/// of a tool without options of its own.
///
/// `routes` receives the built tool and returns the tool author's routes.
pub async fn run<F>(routes: F) -> ExitCode
where
    F: FnOnce(&ToolProvider) -> Router,
{
    Cli::parse().lti.run(routes).await
}

/// Like [`run`], with a step that configures the [`ToolProviderApp`] the
/// command line made before it is built: the tool's own migrations, its
/// pages, its permission model…
///
/// ```no_run
/// use axum::Router;
/// use axum_lti::{Pages, ToolProviderApp};
///
/// struct MyPages;
/// impl Pages for MyPages {}
///
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     axum_lti::cli::run_with(
///         |app: ToolProviderApp| app.with_pages(MyPages),
///         |_tool| Router::new(),
///     )
///     .await
/// }
/// ```
pub async fn run_with<C, F>(configure: C, routes: F) -> ExitCode
where
    C: FnOnce(ToolProviderApp) -> ToolProviderApp,
    F: FnOnce(&ToolProvider) -> Router,
{
    Cli::parse().lti.run_with(configure, routes).await
}

impl LtiArgs {
    /// Loads the settings, applies the options, then serves (or runs the
    /// command). Errors are printed; the exit code says whether it worked.
    pub async fn run<F>(self, routes: F) -> ExitCode
    where
        F: FnOnce(&ToolProvider) -> Router,
    {
        self.run_with(|app| app, routes).await
    }

    /// Like [`run`](Self::run), with a step that configures the
    /// [`ToolProviderApp`] before it is built (see [`run_with`]).
    pub async fn run_with<C, F>(self, configure: C, routes: F) -> ExitCode
    where
        C: FnOnce(ToolProviderApp) -> ToolProviderApp,
        F: FnOnce(&ToolProvider) -> Router,
    {
        match self.run_inner(configure, routes).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        }
    }

    /// The settings the options select: the file, then the options, then
    /// the environment.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = match &self.settings {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        if let Some(port) = self.port {
            settings.server.port = port;
        }
        if let Some(bind) = &self.bind {
            settings.server.bind.clone_from(bind);
        }
        if let Some(root) = &self.canonical_root {
            settings.server.canonical_root = Some(root.clone());
        }
        if let Some(url) = &self.database_url {
            settings.database.url.clone_from(url);
        }
        if let Ok(url) = std::env::var(DATABASE_URL_ENV)
            && !url.is_empty()
        {
            settings.database.url = url;
        }
        if self.dev {
            settings.server.dev = true;
        }
        if self.admin {
            settings.server.admin = true;
        }
        if self.memory {
            settings.server.dev = true;
            settings.database.url = "sqlite::memory:".into();
            if settings.launch.debug_launch.is_none() {
                settings.launch.debug_launch = Some(true);
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    async fn run_inner<C, F>(self, configure: C, routes: F) -> anyhow::Result<()>
    where
        C: FnOnce(ToolProviderApp) -> ToolProviderApp,
        F: FnOnce(&ToolProvider) -> Router,
    {
        let mut settings = self.settings()?;
        serve::init_logging(self.verbose, &settings.server.log);
        if self.sqlout {
            let backend = lti_store::Backend::from_url(&settings.database.url)?;
            print!("{}", lti_store::schema_sql(backend));
            let app = configure(ToolProviderApp::new(settings));
            if let Some(migrations) = &app.tool_migrations {
                print!("{}", migrations.schema_sql(backend));
            }
            return Ok(());
        }
        // Bind before building, so that with port 0 the default canonical
        // root names the port actually chosen.
        let listener = match self.command {
            Some(_) => None,
            None => Some(serve::bind(&mut settings).await?),
        };
        let mut app = ToolProviderApp::new(settings.clone());
        if self.memory && configured_secret(&settings)?.is_none() {
            app = app.with_app_secret(random_secret()?);
        }
        let tool = configure(app).build().await?;
        if self.create_silo {
            admin::create_silo(&tool).await?;
            if self.memory && tool.state().settings().server.admin {
                owners::create_memory_owner(&tool).await?;
            }
        }
        match self.command {
            Some(command) => admin::run(&tool, command).await,
            None => {
                let tool_routes = routes(&tool);
                let listener = listener.ok_or_else(|| anyhow::anyhow!("no listener"))?;
                serve::serve(tool, tool_routes, listener, self.memory).await
            }
        }
    }
}

fn random_secret() -> anyhow::Result<String> {
    Ok(lti_core::generate_key(256)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Parser)]
    struct ToolArgs {
        #[command(flatten)]
        lti: LtiArgs,
        /// A tool author's own option.
        #[arg(long)]
        greeting: Option<String>,
    }

    #[test]
    fn tool_authors_add_their_own_options() {
        let args = ToolArgs::try_parse_from([
            "tool",
            "-m",
            "-vv",
            "--greeting",
            "hi",
            "-p",
            "9000",
            "--create_silo",
        ])
        .expect("parses");
        assert_eq!(args.greeting.as_deref(), Some("hi"));
        assert!(args.lti.memory && args.lti.create_silo);
        assert_eq!(args.lti.verbose, 2);
        let settings = args.lti.settings().expect("valid settings");
        assert_eq!(settings.server.port, 9000);
        assert_eq!(settings.database.url, "sqlite::memory:");
        assert!(settings.server.dev, "-m mounts the test consumer");
        assert_eq!(
            settings.launch.debug_launch,
            Some(true),
            "-m turns the doctor on"
        );
    }

    #[test]
    fn options_override_the_settings_file() {
        let dir = std::env::temp_dir().join(format!("axum-lti-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("settings.json");
        std::fs::write(
            &file,
            r#"{"server": {"port": 7000, "bind": "127.0.0.2"}, "database": {"url": "sqlite:a.db"}}"#,
        )
        .expect("write settings");
        let file_arg = file.display().to_string();
        let args = Cli::try_parse_from(["tool", "--settings", &file_arg, "--port", "7001"])
            .expect("parses");
        let settings = args.lti.settings().expect("valid");
        assert_eq!(settings.server.port, 7001, "the option wins");
        assert_eq!(
            settings.server.bind, "127.0.0.2",
            "the file wins over the default"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
