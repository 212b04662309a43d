//! The upload keys handed out and not yet swept (`pending_uploads`): recorded when an
//! upload URL is presigned, read by the sweeper once they are old, forgotten once their
//! object is deleted.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Remembers that `key` was handed out for an upload.
///
/// # Errors
/// Database errors.
pub async fn record(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO pending_uploads (key) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Up to `limit` keys handed out before `before`, oldest first.
///
/// # Errors
/// Database errors.
pub async fn older_than(
    pool: &PgPool,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT key FROM pending_uploads WHERE started_at < $1 ORDER BY started_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Forgets `key` (its object is gone).
///
/// # Errors
/// Database errors.
pub async fn forget(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM pending_uploads WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
