//! Reads of the social read models (`rm_user_stats`, `rm_stations`, follows, mutes, hums,
//! joined with `rm_users`), written by [`super::SocialProjection`] beside this. Each takes
//! the viewer, so `followed`/`muted` are theirs. Pages are `(limit, offset)`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::PgPool;

/// A page: how many, from which index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// How many.
    pub limit: i64,
    /// From which index.
    pub offset: i64,
}

/// One person as the humit read side knows them, seen by a viewer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub profile_picture: String,
    pub referral_code: String,
    pub signup_stage: i32,
    pub date_of_birth: Option<NaiveDate>,
    pub favourite_artists: Option<Value>,
    /// The viewer's own only (`USER_SELECT`): `None` in anyone else's row, so a
    /// public profile answers `""`.
    pub notification_id: Option<String>,
    pub playlist_id: Option<String>,
    pub internal_username: Option<String>,
    pub country: Option<String>,
    pub tokens: i32,
    pub date_joined: DateTime<Utc>,
    pub followers: i64,
    pub following: i64,
    pub hums: i64,
    pub stations: i64,
    /// Whether the viewer follows this person.
    pub followed: bool,
    /// Whether the viewer muted this person.
    pub muted: bool,
}

/// One station, seen by a viewer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StationRow {
    pub station_id: String,
    pub name: String,
    pub description: String,
    pub image_url: String,
    pub created_at: DateTime<Utc>,
    pub followers: i64,
    pub hums: i64,
    /// Whether the viewer follows it.
    pub followed: bool,
}

/// One hum with its author's handle.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HumRow {
    pub hum_id: String,
    pub station_id: String,
    pub track_id: String,
    pub caption: String,
    pub user_id: String,
    pub user_handle: Option<String>,
    pub posted_at: DateTime<Utc>,
}

/// The columns of a [`UserRow`]; `$1` is the viewer. The push notification id is a
/// credential of its owner's device: only the viewer's own is read, anyone else's is NULL.
const USER_SELECT: &str = "
SELECT u.user_id, u.username, u.first_name, u.last_name, u.profile_picture, u.referral_code,
       u.signup_stage, u.date_of_birth, u.favourite_artists,
       CASE WHEN u.user_id = $1 THEN u.notification_id END AS notification_id, u.playlist_id,
       u.internal_username, u.country, u.tokens, u.date_joined,
       COALESCE(s.followers, 0) AS followers, COALESCE(s.following, 0) AS following,
       COALESCE(s.hums, 0) AS hums, COALESCE(s.stations, 0) AS stations,
       EXISTS (SELECT 1 FROM rm_user_follows f
               WHERE f.follower_id = $1 AND f.followee_id = u.user_id) AS followed,
       EXISTS (SELECT 1 FROM rm_user_mutes m
               WHERE m.user_id = $1 AND m.muted_user_id = u.user_id) AS muted
FROM rm_users u
LEFT JOIN rm_user_stats s ON s.user_id = u.user_id";

/// Popularity: most followed first, then most hums, then the longest-standing.
const USER_ORDER: &str =
    "ORDER BY COALESCE(s.followers, 0) DESC, COALESCE(s.hums, 0) DESC, u.date_joined, u.user_id";

/// People `$1` may want to follow: humit app users who finished sign-up (never a Techfesia
/// account, staff member or superuser that did not), active, not themselves, not followed,
/// not muted.
const DISCOVER_FILTER: &str = "
WHERE u.signup_stage >= 1 AND NOT u.disabled AND u.user_id <> $1
  AND NOT EXISTS (SELECT 1 FROM rm_user_follows f WHERE f.follower_id = $1 AND f.followee_id = u.user_id)
  AND NOT EXISTS (SELECT 1 FROM rm_user_mutes m WHERE m.user_id = $1 AND m.muted_user_id = u.user_id)";

/// One user as `viewer` sees them; `None` when unknown or disabled.
///
/// # Errors
/// Database errors.
pub async fn user(
    pool: &PgPool,
    viewer: &str,
    user_id: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{USER_SELECT} WHERE u.user_id = $2 AND NOT u.disabled"
    ))
    .bind(viewer)
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// The statements behind [`discover_users`]: the count and the page (`$1` the viewer, `$2`
/// and `$3` the page). Public so the benchmark times exactly these.
pub fn discover_users_sql() -> (String, String) {
    (
        format!("SELECT count(*) FROM rm_users u {DISCOVER_FILTER}"),
        format!("{USER_SELECT} {DISCOVER_FILTER} {USER_ORDER} LIMIT $2 OFFSET $3"),
    )
}

/// A page of people to follow, by popularity, and how many there are.
///
/// # Errors
/// Database errors.
pub async fn discover_users(
    pool: &PgPool,
    viewer: &str,
    page: Page,
) -> Result<(i64, Vec<UserRow>), sqlx::Error> {
    let (count, rows) = discover_users_sql();
    paged(pool, &count, &rows, &[viewer], page).await
}

/// How many rows `count` finds and the page of `rows`: both bind `keys` as `$1`, `$2`, …
/// (a statement may leave one unused), `rows` then the page's limit and offset.
async fn paged<T>(
    pool: &PgPool,
    count: &str,
    rows: &str,
    keys: &[&str],
    page: Page,
) -> Result<(i64, Vec<T>), sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let total = keys
        .iter()
        .fold(sqlx::query_scalar(count), |q, key| q.bind(*key))
        .fetch_one(pool)
        .await?;
    let found = keys
        .iter()
        .fold(sqlx::query_as(rows), |q, key| q.bind(*key))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(pool)
        .await?;
    Ok((total, found))
}

/// The most people an onboarding list holds besides the code's owner.
pub const ONBOARD_MAX: i64 = 100;

/// The owner of an invite code and the people they follow (never the viewer), owner first,
/// then by popularity.
///
/// # Errors
/// Database errors.
pub async fn onboard(
    pool: &PgPool,
    viewer: &str,
    owner: &str,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let mut rows: Vec<UserRow> = Vec::new();
    if owner != viewer {
        rows.extend(user(pool, viewer, owner).await?);
    }
    let followed: Vec<UserRow> = sqlx::query_as(&format!(
        "{USER_SELECT}
         JOIN rm_user_follows o ON o.followee_id = u.user_id AND o.follower_id = $2
         WHERE NOT u.disabled AND u.user_id <> $1
         {USER_ORDER} LIMIT $3"
    ))
    .bind(viewer)
    .bind(owner)
    .bind(ONBOARD_MAX)
    .fetch_all(pool)
    .await?;
    rows.extend(followed);
    Ok(rows)
}

/// How many stations a user follows.
///
/// # Errors
/// Database errors.
pub async fn stations_followed(pool: &PgPool, user_id: &str) -> Result<i64, sqlx::Error> {
    let n: Option<i64> =
        sqlx::query_scalar("SELECT stations FROM rm_user_stats WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    Ok(n.unwrap_or(0))
}

const STATION_SELECT: &str = "
SELECT st.station_id, st.name, st.description, st.image_url, st.created_at, st.followers,
       st.hums,
       EXISTS (SELECT 1 FROM rm_station_follows f
               WHERE f.user_id = $1 AND f.station_id = st.station_id) AS followed
FROM rm_stations st";

/// One station as `viewer` sees it.
///
/// # Errors
/// Database errors.
pub async fn station(
    pool: &PgPool,
    viewer: &str,
    station_id: &str,
) -> Result<Option<StationRow>, sqlx::Error> {
    sqlx::query_as(&format!("{STATION_SELECT} WHERE st.station_id = $2"))
        .bind(viewer)
        .bind(station_id)
        .fetch_optional(pool)
        .await
}

/// A page of stations by popularity (followers, then hums, then the oldest), and the count.
///
/// # Errors
/// Database errors.
pub async fn discover_stations(
    pool: &PgPool,
    viewer: &str,
    page: Page,
) -> Result<(i64, Vec<StationRow>), sqlx::Error> {
    let rows = format!(
        "{STATION_SELECT}
         ORDER BY st.followers DESC, st.hums DESC, st.created_at, st.station_id
         LIMIT $2 OFFSET $3"
    );
    paged(
        pool,
        "SELECT count(*) FROM rm_stations",
        &rows,
        &[viewer],
        page,
    )
    .await
}

const HUM_SELECT: &str = "
SELECT h.hum_id, h.station_id, h.track_id, h.caption, h.user_id, u.username AS user_handle,
       h.posted_at
FROM rm_hums h
LEFT JOIN rm_users u ON u.user_id = h.user_id";

/// One hum.
///
/// # Errors
/// Database errors.
pub async fn hum(pool: &PgPool, hum_id: &str) -> Result<Option<HumRow>, sqlx::Error> {
    sqlx::query_as(&format!("{HUM_SELECT} WHERE h.hum_id = $1"))
        .bind(hum_id)
        .fetch_optional(pool)
        .await
}

/// A page of a station's hums, newest first, without those of people the viewer muted.
///
/// # Errors
/// Database errors.
pub async fn station_hums(
    pool: &PgPool,
    viewer: &str,
    station_id: &str,
    page: Page,
) -> Result<(i64, Vec<HumRow>), sqlx::Error> {
    let filter = "WHERE h.station_id = $2
      AND NOT EXISTS (SELECT 1 FROM rm_user_mutes m WHERE m.user_id = $1 AND m.muted_user_id = h.user_id)";
    let count = format!("SELECT count(*) FROM rm_hums h {filter}");
    let rows =
        format!("{HUM_SELECT} {filter} ORDER BY h.posted_at DESC, h.hum_id LIMIT $3 OFFSET $4");
    paged(pool, &count, &rows, &[viewer, station_id], page).await
}
