//! Which store failures are outages. An outage is a failure the client did not cause and
//! that passes by itself: Postgres unreachable, restarting or shutting connections down
//! (`57P01 terminating connection due to administrator command`), a connection reset in the
//! middle of a query, a pool with no free connection in time, a read-only standby after a
//! failover, a server out of resources, a statement cancelled by its timeout, a transaction
//! that lost a serialization race or a deadlock. Each is answered 503 with `Retry-After`.
//! Every other store failure (a row that does not decode, a constraint nobody expected) is a
//! bug: 500, logged.

use std::error::Error as StdError;

/// SQLSTATE classes and codes that mean "the database cannot serve this right now".
fn outage_state(code: &str) -> bool {
    // 08: connection exception; 53: insufficient resources; 57P: admin or crash shutdown,
    // cannot connect now, database dropped; 58: system error (I/O).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code.starts_with("58")
        || matches!(
            code,
            // query cancelled (statement timeout), read-only transaction (a standby),
            // serialization failure, deadlock, lock not available, idle-in-transaction timeout.
            "57014" | "25006" | "40001" | "40P01" | "55P03" | "25P03"
        )
}

/// Whether a sqlx error is an outage.
pub fn is_outage(error: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match error {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        // A connection cut in the middle of a message reads as a protocol error.
        E::Protocol(_) => true,
        E::Database(db) => db.code().is_some_and(|c| outage_state(&c)),
        _ => false,
    }
}

/// Whether a transaction failed only because it lost a race the database resolved by
/// rolling it back (serialization failure, deadlock): running it again is safe.
pub fn is_rolled_back_race(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.code().is_some_and(|c| c == "40001" || c == "40P01"))
}

/// Whether any error in `error`'s chain is an outage (a sqlx outage or an I/O error): for
/// the boxed errors cqrs-es and postgres-es hand back.
pub fn in_chain(error: &(dyn StdError + 'static)) -> bool {
    chain_any(error, is_outage, true)
}

/// Whether any error in `error`'s chain is a rolled-back race.
pub fn race_in_chain(error: &(dyn StdError + 'static)) -> bool {
    chain_any(error, is_rolled_back_race, false)
}

fn chain_any(
    error: &(dyn StdError + 'static),
    test: fn(&sqlx::Error) -> bool,
    io_counts: bool,
) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(sqlx) = e.downcast_ref::<sqlx::Error>() {
            if test(sqlx) {
                return true;
            }
        } else if io_counts && e.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_outages() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_outage(&io));
        assert!(is_outage(&sqlx::Error::PoolTimedOut));
        assert!(is_outage(&sqlx::Error::PoolClosed));
        assert!(!is_outage(&sqlx::Error::RowNotFound));
        assert!(!is_outage(&sqlx::Error::ColumnNotFound("x".into())));
    }

    #[test]
    fn sqlstates() {
        for code in [
            "08006", "08003", "57P01", "57P03", "25006", "40001", "40P01", "53300",
        ] {
            assert!(outage_state(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "XX000"] {
            assert!(!outage_state(code), "{code}");
        }
    }

    #[test]
    fn boxed_chains_are_searched() {
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(sqlx::Error::PoolTimedOut);
        assert!(in_chain(boxed.as_ref()));
        let io: Box<dyn StdError + Send + Sync> =
            Box::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(in_chain(io.as_ref()));
        assert!(!race_in_chain(io.as_ref()));
        let other: Box<dyn StdError + Send + Sync> = "bad row".into();
        assert!(!in_chain(other.as_ref()));
    }
}
