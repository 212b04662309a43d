//! The subcommands of the `humit` binary.

mod events;
mod replay;
pub mod seed;
pub mod superuser;

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
            let mode = if no_workers { Mode::API } else { Mode::ALL };
            Application::build(config, mode)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Worker => {
            Application::build(config, Mode::WORKER)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate => {
            crate::store::db::migrate(&config.database_url).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateSuperuser {
            username,
            email,
            password,
        } => superuser::run(config, &username, &email, &password).await,
        Command::Replay { projection, all } => match projection {
            Some(name) if !all => replay::run(&config, &name).await,
            _ => replay::run_all(&config).await,
        },
        Command::Events(args) => events::run(&config, args).await,
        Command::Seed { demo } => seed::run(config, demo).await,
    }
}

/// Builds the services without HTTP and without workers: what a one-off subcommand (seeding,
/// creating a superuser) runs commands through.
///
/// # Errors
/// An unreachable database or broker, a bad configuration.
async fn offline(config: crate::config::Config) -> anyhow::Result<Application> {
    let mode = Mode {
        http: false,
        workers: false,
    };
    Application::build(config, mode).await
}
