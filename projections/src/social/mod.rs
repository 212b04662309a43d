//! The `social` projection: stations, follows, mutes and hums, with exact counters.
//!
//! The relation aggregates record only real transitions (follow when not following, unfollow
//! when following), and this projection applies each event exactly once under its checkpoint,
//! so `+1`/`-1` on the counters stays exact under any concurrency.

pub mod read;

use aggregates::social::{HumEvent, MuteEvent, StationFollowEvent, UserFollowEvent};
use aggregates::station::StationEvent;
use aggregates::user::UserEvent;
use sqlx::PgConnection;

use crate::{Envelope, Projection, ProjectionError};

/// Builds `rm_stations`, `rm_station_follows`, `rm_user_follows`, `rm_user_mutes`,
/// `rm_hums` and `rm_user_stats`.
pub struct SocialProjection;

async fn bump(
    conn: &mut PgConnection,
    user_id: &str,
    column: &str,
    delta: i64,
) -> Result<(), ProjectionError> {
    // `column` is one of our own constant names, never input.
    let sql = format!(
        "INSERT INTO rm_user_stats (user_id, {column}) VALUES ($1, GREATEST($2, 0))
         ON CONFLICT (user_id) DO UPDATE SET {column} = GREATEST(rm_user_stats.{column} + $2, 0)"
    );
    sqlx::query(&sql)
        .bind(user_id)
        .bind(delta)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn bump_station(
    conn: &mut PgConnection,
    station_id: &str,
    column: &str,
    delta: i64,
) -> Result<(), ProjectionError> {
    let sql = format!(
        "UPDATE rm_stations SET {column} = GREATEST({column} + $2, 0) WHERE station_id = $1"
    );
    sqlx::query(&sql)
        .bind(station_id)
        .bind(delta)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl SocialProjection {
    async fn user_follow(
        conn: &mut PgConnection,
        e: UserFollowEvent,
    ) -> Result<(), ProjectionError> {
        match e {
            UserFollowEvent::UserFollowed {
                follower_id,
                followee_id,
                at,
            } => {
                let inserted = sqlx::query(
                    "INSERT INTO rm_user_follows (follower_id, followee_id, since) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&follower_id)
                .bind(&followee_id)
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if inserted == 1 {
                    bump(conn, &follower_id, "following", 1).await?;
                    bump(conn, &followee_id, "followers", 1).await?;
                }
            }
            UserFollowEvent::UserUnfollowed {
                follower_id,
                followee_id,
                ..
            } => {
                let deleted = sqlx::query(
                    "DELETE FROM rm_user_follows WHERE follower_id = $1 AND followee_id = $2",
                )
                .bind(&follower_id)
                .bind(&followee_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if deleted == 1 {
                    bump(conn, &follower_id, "following", -1).await?;
                    bump(conn, &followee_id, "followers", -1).await?;
                }
            }
        }
        Ok(())
    }

    async fn station_follow(
        conn: &mut PgConnection,
        e: StationFollowEvent,
    ) -> Result<(), ProjectionError> {
        match e {
            StationFollowEvent::StationFollowed {
                user_id,
                station_id,
                at,
            } => {
                let inserted = sqlx::query(
                    "INSERT INTO rm_station_follows (user_id, station_id, since) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&user_id)
                .bind(&station_id)
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if inserted == 1 {
                    bump(conn, &user_id, "stations", 1).await?;
                    bump_station(conn, &station_id, "followers", 1).await?;
                }
            }
            StationFollowEvent::StationUnfollowed {
                user_id,
                station_id,
                ..
            } => {
                let deleted = sqlx::query(
                    "DELETE FROM rm_station_follows WHERE user_id = $1 AND station_id = $2",
                )
                .bind(&user_id)
                .bind(&station_id)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if deleted == 1 {
                    bump(conn, &user_id, "stations", -1).await?;
                    bump_station(conn, &station_id, "followers", -1).await?;
                }
            }
        }
        Ok(())
    }

    async fn mute(conn: &mut PgConnection, e: MuteEvent) -> Result<(), ProjectionError> {
        match e {
            MuteEvent::UserMuted {
                user_id,
                muted_user_id,
                ..
            } => {
                sqlx::query(
                    "INSERT INTO rm_user_mutes (user_id, muted_user_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                )
                .bind(user_id)
                .bind(muted_user_id)
                .execute(&mut *conn)
                .await?;
            }
            MuteEvent::UserUnmuted {
                user_id,
                muted_user_id,
                ..
            } => {
                sqlx::query("DELETE FROM rm_user_mutes WHERE user_id = $1 AND muted_user_id = $2")
                    .bind(user_id)
                    .bind(muted_user_id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// An erased user leaves no trace here: their follows, mutes and hums go, and the
    /// counters of everyone they touched are corrected.
    async fn user_deleted(conn: &mut PgConnection, user_id: &str) -> Result<(), ProjectionError> {
        sqlx::query(
            "UPDATE rm_user_stats s SET followers = GREATEST(s.followers - 1, 0)
             FROM rm_user_follows f WHERE f.follower_id = $1 AND s.user_id = f.followee_id",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE rm_user_stats s SET following = GREATEST(s.following - 1, 0)
             FROM rm_user_follows f WHERE f.followee_id = $1 AND s.user_id = f.follower_id",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE rm_stations st SET followers = GREATEST(st.followers - 1, 0)
             FROM rm_station_follows f WHERE f.user_id = $1 AND st.station_id = f.station_id",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE rm_stations st SET hums = GREATEST(st.hums - h.n, 0)
             FROM (SELECT station_id, count(*) AS n FROM rm_hums WHERE user_id = $1
                   GROUP BY station_id) h
             WHERE st.station_id = h.station_id",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        for sql in [
            "DELETE FROM rm_user_follows WHERE follower_id = $1 OR followee_id = $1",
            "DELETE FROM rm_station_follows WHERE user_id = $1",
            "DELETE FROM rm_user_mutes WHERE user_id = $1 OR muted_user_id = $1",
            "DELETE FROM rm_hums WHERE user_id = $1",
            "DELETE FROM rm_user_stats WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Projection for SocialProjection {
    fn name(&self) -> &'static str {
        "social"
    }

    fn bindings(&self) -> &'static [&'static str] {
        &[
            "Station.#",
            "StationFollow.#",
            "UserFollow.#",
            "Mute.#",
            "Hum.#",
            "User.UserDeleted",
        ]
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_stations",
            "rm_station_follows",
            "rm_user_follows",
            "rm_user_mutes",
            "rm_hums",
            "rm_user_stats",
        ]
    }

    async fn apply(&self, conn: &mut PgConnection, env: &Envelope) -> Result<(), ProjectionError> {
        match env.aggregate_type.as_str() {
            "Station" => {
                let StationEvent::StationCreated {
                    station_id,
                    name,
                    description,
                    image_url,
                    created_by,
                    at,
                } = env.decode()?;
                sqlx::query(
                    "INSERT INTO rm_stations (station_id, name, description, image_url, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(station_id)
                .bind(name)
                .bind(description)
                .bind(image_url)
                .bind(created_by)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            }
            "StationFollow" => Self::station_follow(conn, env.decode()?).await?,
            "UserFollow" => Self::user_follow(conn, env.decode()?).await?,
            "Mute" => Self::mute(conn, env.decode()?).await?,
            "Hum" => {
                let HumEvent::HumPosted {
                    hum_id,
                    user_id,
                    station_id,
                    track_id,
                    caption,
                    at,
                } = env.decode()?;
                sqlx::query(
                    "INSERT INTO rm_hums (hum_id, user_id, station_id, track_id, caption, posted_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&hum_id)
                .bind(&user_id)
                .bind(&station_id)
                .bind(track_id)
                .bind(caption)
                .bind(at)
                .execute(&mut *conn)
                .await?;
                bump(conn, &user_id, "hums", 1).await?;
                bump_station(conn, &station_id, "hums", 1).await?;
            }
            "User" if env.event_type == "UserDeleted" => {
                if let UserEvent::UserDeleted { .. } = env.decode()? {
                    Self::user_deleted(conn, &env.aggregate_id).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
