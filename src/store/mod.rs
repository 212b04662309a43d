//! The write side's storage: the Postgres event log (postgres-es behind a repository that
//! encrypts personal data per person), the command bus that runs commands on aggregates with
//! metadata, and readers of the log in global order.

pub mod commands;
pub mod db;
pub mod log;
pub mod outage;
pub mod repository;
pub mod sequencer;
pub mod upcast;
pub mod uploads;
pub mod vault;

pub use commands::{Actor, CommandBus, CommandContext, CommandError, LoadError};
pub use sequencer::{later, Commit, Sequenced};
