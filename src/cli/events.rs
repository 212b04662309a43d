//! `humit events`: prints the event log as JSON lines, for an operator with database access.

use crate::config::{Config, EventsArgs};
use crate::store::log;

/// Prints the events matching the filter, one JSON envelope per line (secrets redacted);
/// at most 10,000.
///
/// # Errors
/// Database failures.
pub async fn run(config: &Config, args: EventsArgs) -> anyhow::Result<()> {
    let filter = log::Filter {
        after: args.after,
        limit: args.limit.clamp(1, 10_000),
        aggregate_type: args.aggregate_type,
        aggregate_id: args.aggregate_id,
        event_type: args.event_type,
        actor: args.actor,
        since: args.since,
        until: args.until,
    };
    let pool = crate::store::db::pool(&config.database_url, 2).await?;
    for event in log::query(&pool, &filter).await? {
        println!("{}", serde_json::to_string(&event)?);
    }
    Ok(())
}
