//! The statements every projection's `apply` runs most: one row, found by a key in `$1`,
//! changed with at most one value in `$2`. They answer how many rows changed, so a counter
//! moves only when an edge really appeared or went.

use sqlx::{Encode, PgConnection, Postgres, Type};

/// Runs `sql` with `$1` = `key`.
///
/// # Errors
/// Database errors.
pub(crate) async fn touch(
    conn: &mut PgConnection,
    sql: &str,
    key: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(sql)
        .bind(key)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Runs `sql` with `$1` = `key` and `$2` = `value`.
///
/// # Errors
/// Database errors.
pub(crate) async fn set<'q, V>(
    conn: &mut PgConnection,
    sql: &'q str,
    key: &'q str,
    value: V,
) -> Result<u64, sqlx::Error>
where
    V: 'q + Send + Encode<'q, Postgres> + Type<Postgres>,
{
    let done = sqlx::query(sql).bind(key).bind(value).execute(conn).await?;
    Ok(done.rows_affected())
}
