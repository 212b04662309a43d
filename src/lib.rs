//! humit: an event-sourced CQRS backend serving two API dialects from one event log.
//!
//! Where things live:
//! - `aggregates/` (crate): the pure write side; `projections/` (crate): the read models.
//! - [`config`]: every setting, from flags and environment. [`startup`]: [`startup::Application`]
//!   wires everything and binds the listener. [`state`]: what handlers share. [`cli`]: the
//!   subcommands (`serve`, `worker`, `migrate`, `create-superuser`, `seed`, `replay`, `events`).
//! - [`store`]: the Postgres event log, the command bus, the sequencer, readers in global order.
//! - [`background`]: the stop signal and backoff every background task shares.
//! - [`bus`]: the relay (log → RabbitMQ), the projection runtime, read-your-writes.
//! - [`auth`]: argon2id, JWTs, in-memory revocation state, login limits.
//! - [`app`]: the use cases, one module per capability; [`identity`] is `app::identity`.
//! - [`http`]: axum routes, one folder per dialect (`humit/`, `techfesia/`, `admin/`).
//! - [`adapters`]: the outside world (Spotify, OAuth providers, storage, mail).

pub mod adapters;
pub mod app;
pub mod auth;
pub mod background;
pub mod bus;
pub mod cli;
pub mod config;
pub mod http;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;

pub use app::identity;
