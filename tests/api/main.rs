//! Integration tests: one binary, one module per feature. Every test gets its own database
//! and exchange (see `helpers::spawn_app`), against the real Postgres and RabbitMQ.

mod child;
mod helpers;
mod probe;

mod admin;
mod contract;
mod core;
mod faults;
mod history;
mod humit;
mod security;
mod stream;
mod techfesia;
