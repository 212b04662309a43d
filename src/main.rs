//! The `humit` binary: parse the command line, set up tracing, hand over to [`humit::cli`].

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = humit::config::Cli::parse();
    humit::telemetry::init_tracing(cli.config.log_json);
    humit::cli::run(cli).await
}
