//! The `serve-baseline` child: a bare axum server to compare against, on
//! the same runtime settings as the tool. `GET /hello` answers a constant;
//! `POST /form` parses the same urlencoded launch body the tool receives.

use std::process::ExitCode;

use axum::routing::{get, post};
use axum::{Form, Router};

async fn hello() -> &'static str {
    "Hello, World!"
}

async fn form(Form(params): Form<Vec<(String, String)>>) -> String {
    params.len().to_string()
}

/// Serves the baseline on a free loopback port and prints its address.
pub(crate) fn serve() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<()> = runtime.block_on(async {
        let app = Router::new()
            .route("/hello", get(hello))
            .route("/form", post(form));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("baseline listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
