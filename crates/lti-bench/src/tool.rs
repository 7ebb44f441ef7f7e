//! The `serve-tool` child: mytool's router (`mytool::routes`) behind the
//! framework's command line, exactly as the mytool binary serves it.

use std::process::ExitCode;

use clap::Parser as _;

/// Runs mytool's router with the framework's options (`args` after the
/// subcommand name).
pub(crate) fn serve(args: Vec<String>) -> ExitCode {
    let cli = axum_lti::cli::Cli::parse_from(args);
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
    runtime.block_on(cli.lti.run(|_tool| mytool::routes()))
}
