//! noticeboard: `cargo run -p noticeboard -- --create-silo -m`, or with
//! `--settings FILE` / `--database-url URL` for a database that lasts (see
//! the framework's command line, `noticeboard --help`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    axum_lti::cli::run_with(noticeboard::configure, |_tool| noticeboard::routes()).await
}
