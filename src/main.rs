//! The `humit` binary: parse the command line, set up tracing, hand over to [`humit::cli`].

use clap::Parser;

/// mimalloc: a server allocator that returns freed memory to the system, where glibc's
/// per-thread arenas kept every blocking thread's peak.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = humit::config::Cli::parse();
    humit::telemetry::init_tracing(cli.config.log_json);
    humit::cli::run(cli).await
}
