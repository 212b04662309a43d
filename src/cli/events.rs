//! `humit events`: prints the event log as JSON lines, for an operator with database access.

use crate::config::Config;
use crate::store::log;

/// Prints the events matching the filter, one JSON envelope per line (secrets redacted).
///
/// # Errors
/// Database failures.
pub async fn run(config: &Config, filter: log::Filter) -> anyhow::Result<()> {
    let pool = crate::store::db::pool(&config.database_url, 2).await?;
    for event in log::query(&pool, &filter).await? {
        println!("{}", serde_json::to_string(&event)?);
    }
    Ok(())
}
