//! Serving: logging, the listener, the maintenance task and graceful
//! shutdown on SIGINT/SIGTERM.

use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::app::ToolProvider;
use crate::settings::Settings;

/// Sets up logging once: `-v` counts win over the `server.log` filter.
pub(crate) fn init_logging(verbose: u8, filter: &str) {
    let filter = match verbose {
        0 => filter.to_owned(),
        1 => "info".to_owned(),
        2 => "debug".to_owned(),
        _ => "trace".to_owned(),
    };
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or the journal gets plain
    // text (and formatting the escape codes costs time on every request).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    // A second call (tests) finds a subscriber installed already; that is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}

/// Binds the listener; with port 0 the chosen port is written back into
/// the settings.
pub(crate) async fn bind(settings: &mut Settings) -> anyhow::Result<TcpListener> {
    let address = format!("{}:{}", settings.server.bind, settings.server.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
    settings.server.port = listener.local_addr()?.port();
    Ok(listener)
}

/// Announces the launch URL and serves until SIGINT or SIGTERM, giving
/// in-flight requests `server.shutdown_grace_secs` to finish.
pub(crate) async fn serve(
    tool: ToolProvider,
    routes: Router,
    listener: TcpListener,
    memory: bool,
) -> anyhow::Result<()> {
    let settings = tool.state().settings().clone();
    let local = listener.local_addr()?;
    let app = tool.router(routes);

    let root = tool.state().root().clone();
    let launch_url = root.join("launch");
    println!("axum-lti tool listening on http://{local}");
    if settings.server.canonical_root.is_none() && !settings.server.trusted_proxies.is_empty() {
        println!(
            "Launch URL: from the trusted proxy's forwarding headers (X-Forwarded-Proto/Host/Prefix or Forwarded), else {launch_url}"
        );
    } else {
        println!("Launch URL: {launch_url}");
    }
    if settings.server.dev {
        let dev_url = launch_url.trim_end_matches("launch").to_owned() + "dev/";
        println!("Test consumer: {dev_url}");
        if !root.is_loopback() {
            tracing::warn!(
                "the test consumer is mounted on a public address: use it for development only"
            );
        }
    }
    if settings.server.admin {
        println!("Admin console: {}", root.join("admin/"));
        if !has_owners(&tool).await {
            tracing::warn!(
                "the admin console is mounted but no owner exists yet, so nobody can log in: \
                 create one with `owners add --silo SLUG --email ADDRESS`"
            );
        }
    }
    if memory {
        println!(
            "In-memory mode: nothing is kept after the tool stops. Consumer key {:?}, secret {:?} if created with --create-silo.",
            settings.silo.key, settings.silo.secret
        );
    }
    tracing::info!(%local, %launch_url, "serving");

    let maintenance = tokio::spawn(maintenance_loop(tool.clone()));
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // The peer address lets server.trusted_proxies recognise the proxy.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stop_tx.send(());
    });
    let result = tokio::select! {
        result = server => result.map_err(anyhow::Error::from),
        () = async {
            let _ = stop_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("in-flight requests did not finish within the grace period");
            Ok(())
        }
    };
    maintenance.abort();
    result
}

/// True when some silo has an owner (a failing store counts as yes: the
/// check only decides whether to warn).
async fn has_owners(tool: &ToolProvider) -> bool {
    let store = tool.state().store();
    let Ok(silos) = store.list_silos().await else {
        return true;
    };
    for silo in silos {
        if store
            .list_owners(silo.id)
            .await
            .map_or(true, |o| !o.is_empty())
        {
            return true;
        }
    }
    false
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Prunes expired nonces and old detached visits every
/// `maintenance.prune_interval_secs` (0: never).
async fn maintenance_loop(tool: ToolProvider) {
    let every = tool.state().settings().maintenance.prune_interval_secs;
    if every == 0 {
        return;
    }
    let mut ticker = tokio::time::interval(Duration::from_secs(every));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match super::admin::prune(&tool).await {
            Ok((nonces, visits)) => {
                tracing::info!(nonces, visits, "maintenance: pruned expired rows");
            }
            Err(err) => tracing::warn!(%err, "maintenance: prune failed"),
        }
    }
}
