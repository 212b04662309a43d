//! The `social` projection: stations, follows, mutes and hums, with exact counters.
//!
//! The relation aggregates record only real transitions (follow when not following, unfollow
//! when following), and this projection applies each event exactly once under its checkpoint,
//! so `+1`/`-1` on the counters stays exact under any concurrency.

pub mod read;

use aggregates::social::{HumEvent, MuteEvent, StationFollowEvent, UserFollowEvent};
use aggregates::station::StationEvent;
use aggregates::user::UserEvent;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{write, Envelope, Projection, ProjectionError};

/// Builds `rm_stations`, `rm_station_follows`, `rm_user_follows`, `rm_user_mutes`,
/// `rm_hums` and `rm_user_stats`.
pub struct SocialProjection;

/// Whose counters: a person's (`rm_user_stats`, its row made on first use) or a station's
/// (`rm_stations`).
#[derive(Clone, Copy)]
enum Counters {
    Person,
    Station,
}

/// Moves counter `column` of `id` by `delta`, never below 0.
async fn bump(
    conn: &mut PgConnection,
    (counters, id): (Counters, &str),
    column: &str,
    delta: i64,
) -> Result<(), ProjectionError> {
    // `column` is one of our own constant names, never input.
    let sql = match counters {
        Counters::Person => format!(
            "INSERT INTO rm_user_stats (user_id, {column}) VALUES ($1, GREATEST($2, 0))
             ON CONFLICT (user_id) DO UPDATE SET {column} = GREATEST(rm_user_stats.{column} + $2, 0)"
        ),
        Counters::Station => format!(
            "UPDATE rm_stations SET {column} = GREATEST({column} + $2, 0) WHERE station_id = $1"
        ),
    };
    write::set(conn, &sql, id, delta).await?;
    Ok(())
}

/// Adds (`since`, for a table that keeps it) or removes the edge `($1, $2)` of a relation
/// table with `sql`; answers `+1` or `-1` when a row appeared or went, `0` when nothing changed,
/// so the counters move only on a real change.
async fn edge(
    conn: &mut PgConnection,
    sql: &str,
    (subject, object): (&str, &str),
    since: Option<DateTime<Utc>>,
    delta: i64,
) -> Result<i64, ProjectionError> {
    let mut query = sqlx::query(sql).bind(subject).bind(object);
    if let Some(since) = since {
        query = query.bind(since);
    }
    let changed = query.execute(conn).await?.rows_affected();
    Ok(if changed == 1 { delta } else { 0 })
}

/// A follow table: the statements that add (`$3` the time) and remove one edge, and the
/// counters a real change moves.
struct FollowTable {
    insert: &'static str,
    delete: &'static str,
    /// The follower's counter in `rm_user_stats`.
    subject_counter: &'static str,
    /// Whose `followers` the one followed has: a person's or a station's.
    object: Counters,
}

const USER_FOLLOWS: FollowTable = FollowTable {
    insert: "INSERT INTO rm_user_follows (follower_id, followee_id, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    delete: "DELETE FROM rm_user_follows WHERE follower_id = $1 AND followee_id = $2",
    subject_counter: "following",
    object: Counters::Person,
};

const STATION_FOLLOWS: FollowTable = FollowTable {
    insert: "INSERT INTO rm_station_follows (user_id, station_id, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    delete: "DELETE FROM rm_station_follows WHERE user_id = $1 AND station_id = $2",
    subject_counter: "stations",
    object: Counters::Station,
};

impl SocialProjection {
    /// A follow or an unfollow (`(subject, object, at, on)`) in `table`, and the counters on
    /// both ends when it changed anything.
    async fn follow(
        conn: &mut PgConnection,
        (subject, object, at, on): (String, String, DateTime<Utc>, bool),
        table: &FollowTable,
    ) -> Result<(), ProjectionError> {
        let key = (subject.as_str(), object.as_str());
        let delta = if on {
            edge(conn, table.insert, key, Some(at), 1).await?
        } else {
            edge(conn, table.delete, key, None, -1).await?
        };
        if delta != 0 {
            let (person, followed) = ((Counters::Person, &*subject), (table.object, &*object));
            bump(conn, person, table.subject_counter, delta).await?;
            bump(conn, followed, "followers", delta).await?;
        }
        Ok(())
    }

    async fn mute(conn: &mut PgConnection, e: MuteEvent) -> Result<(), ProjectionError> {
        // Mutes keep no time and no counter.
        let (user, muted, _, on) = e.into_edge();
        let key = (user.as_str(), muted.as_str());
        if on {
            let sql = "INSERT INTO rm_user_mutes (user_id, muted_user_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING";
            edge(conn, sql, key, None, 1).await?;
        } else {
            let sql = "DELETE FROM rm_user_mutes WHERE user_id = $1 AND muted_user_id = $2";
            edge(conn, sql, key, None, -1).await?;
        }
        Ok(())
    }

    /// An erased user leaves no trace here: their follows, mutes and hums go, and the
    /// counters of everyone they touched are corrected.
    async fn user_deleted(conn: &mut PgConnection, user_id: &str) -> Result<(), ProjectionError> {
        for sql in [
            "UPDATE rm_user_stats s SET followers = GREATEST(s.followers - 1, 0)
             FROM rm_user_follows f WHERE f.follower_id = $1 AND s.user_id = f.followee_id",
            "UPDATE rm_user_stats s SET following = GREATEST(s.following - 1, 0)
             FROM rm_user_follows f WHERE f.followee_id = $1 AND s.user_id = f.follower_id",
            "UPDATE rm_stations st SET followers = GREATEST(st.followers - 1, 0)
             FROM rm_station_follows f WHERE f.user_id = $1 AND st.station_id = f.station_id",
            "UPDATE rm_stations st SET hums = GREATEST(st.hums - h.n, 0)
             FROM (SELECT station_id, count(*) AS n FROM rm_hums WHERE user_id = $1
                   GROUP BY station_id) h
             WHERE st.station_id = h.station_id",
            "DELETE FROM rm_user_follows WHERE follower_id = $1 OR followee_id = $1",
            "DELETE FROM rm_station_follows WHERE user_id = $1",
            "DELETE FROM rm_user_mutes WHERE user_id = $1 OR muted_user_id = $1",
            "DELETE FROM rm_hums WHERE user_id = $1",
            "DELETE FROM rm_user_stats WHERE user_id = $1",
        ] {
            write::touch(conn, sql, user_id).await?;
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
            "StationFollow" => {
                let edge = env.decode::<StationFollowEvent>()?.into_edge();
                Self::follow(conn, edge, &STATION_FOLLOWS).await?;
            }
            "UserFollow" => {
                let edge = env.decode::<UserFollowEvent>()?.into_edge();
                Self::follow(conn, edge, &USER_FOLLOWS).await?;
            }
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
                bump(conn, (Counters::Person, &user_id), "hums", 1).await?;
                bump(conn, (Counters::Station, &station_id), "hums", 1).await?;
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
