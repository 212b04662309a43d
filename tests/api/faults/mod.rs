//! Faults (issue 12): what humit answers, and what it keeps, when the store fails under
//! load. Faults hit one test's app only: a TCP proxy in front of Postgres that is cut
//! (every connection reset in the middle of what it was doing), `pg_terminate_backend` on the
//! test database's backends (`57P01 terminating connection due to administrator command`),
//! and `default_transaction_read_only` on the test database (a read-only standby after a
//! failover). The shared Postgres server itself is never stopped.
//!
//! - [`hostile`]: 10,000 hostile requests: 4xx in the envelope, no 5xx, memory flat.
//! - [`jwt`]: the JWT negative matrix, 401 in the envelope in both dialects.
//! - [`races`]: one name wanted by 50 at once has one winner; 100 concurrent changes of one
//!   account lose nothing.
//! - [`recovery`]: the disaster-recovery drill: `replay --all` from a restored log alone.
//! - [`kill`] (long battery): SIGKILL five times under load loses and doubles nothing.
//! - [`outage_long`] (long battery): Postgres stopped 10 s; RabbitMQ away 30 s.
//! - [`poison`] (long battery): a poison message among 1,000 events is parked, the rest flow.
//! - [`outage`]: 503 in the dialect's envelope with `Retry-After`, never a 500; `/ready` red
//!   within a second and green again; an interrupted command committed or left nothing.
//! - [`shutdown`]: SIGTERM to the real binary under load: every accepted request answered,
//!   the relay lock handed over at once, nothing doubled.
//! - [`timing`]: unknown user and wrong password take the same time (medians within 10%).
//! - [`snapshot`]: a new process starts from the auth snapshot, not the history.

mod hostile;
mod jwt;
mod kill;
mod outage;
mod outage_long;
mod poison;
mod races;
mod recovery;
mod shutdown;
mod snapshot;
mod timing;

use std::net::SocketAddr;

use humit::config::Config;
use sqlx::{Connection, PgConnection};

use crate::helpers::{postgres_base, BrokerProxy};

/// Points `config`'s database at a new proxy in front of the test Postgres; answers the
/// proxy (cut it with `down`, mend it with `up`).
pub async fn proxy_postgres(config: &mut Config) -> BrokerProxy {
    let base = url::Url::parse(&postgres_base()).expect("postgres url");
    let target = format!(
        "{}:{}",
        base.host_str().unwrap_or("127.0.0.1"),
        base.port().unwrap_or(5432)
    );
    let mut database = url::Url::parse(&config.database_url).expect("database url");
    let proxy = BrokerProxy::to(&target, |addr: SocketAddr| {
        database.set_port(Some(addr.port())).expect("port");
        database.to_string()
    })
    .await;
    config.database_url = proxy.url.clone();
    proxy
}

/// Faults on one test database, from a connection of its own to the `postgres` database.
pub struct PgFaults {
    admin: PgConnection,
    database: String,
}

impl PgFaults {
    /// Faults on the database `config` names.
    pub async fn on(config: &Config) -> Self {
        let url = url::Url::parse(&config.database_url).expect("database url");
        let database = url.path().trim_start_matches('/').to_string();
        let admin = PgConnection::connect(&format!("{}/postgres", postgres_base()))
            .await
            .expect("postgres reachable");
        Self { admin, database }
    }

    /// Ends every connection to the test database, as an administrator (or a server
    /// shutting down) does; answers how many there were.
    pub async fn terminate(&mut self) -> usize {
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&self.database)
        .fetch_all(&mut self.admin)
        .await
        .expect("terminate");
        ended.into_iter().filter(|e| *e).count()
    }

    /// Makes the test database read-only for new sessions (or writable again), and ends
    /// the sessions open now so that every connection is a new one: a failover to a standby.
    pub async fn read_only(&mut self, on: bool) {
        let quoted = self.database.replace('"', "\"\"");
        let sql = if on {
            format!("ALTER DATABASE \"{quoted}\" SET default_transaction_read_only = on")
        } else {
            format!("ALTER DATABASE \"{quoted}\" RESET default_transaction_read_only")
        };
        sqlx::query(&sql)
            .execute(&mut self.admin)
            .await
            .expect("alter database");
        self.terminate().await;
    }
}
