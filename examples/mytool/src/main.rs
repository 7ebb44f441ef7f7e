//! mytool, the Hello LTI tool: `cargo run -p mytool -- --create-silo -m`.
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    axum_lti::cli::run(|_tool| mytool::routes()).await
}
