//! The subcommands of the `humit` binary.

use crate::config::{Cli, Command};
use crate::startup::{Application, Mode};

/// Runs the subcommand `cli` names (default `serve`).
///
/// # Errors
/// Whatever the subcommand fails with.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve { no_workers: false }) {
        Command::Serve { no_workers } => {
            let mode = Mode {
                http: true,
                workers: !no_workers,
            };
            Application::build(config, mode)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Worker => {
            let mode = Mode {
                http: false,
                workers: true,
            };
            Application::build(config, mode)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate => {
            crate::store::db::migrate(&config.database_url).await?;
            println!("migrations applied");
            Ok(())
        }
        other => anyhow::bail!("{other:?} is not available yet"),
    }
}
