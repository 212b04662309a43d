//! `humit seed --demo`: loads a realistic demo data set (stations, people, follows, hums)
//! through the same commands and use cases the API runs, so a newcomer's first
//! `GET /api/stations/discover/` and `GET /api/users/discover/` show a real feed.
//!
//! Seeding is idempotent: stations have fixed ids (`demo-...`) and people fixed Spotify
//! identities (`spotify/demo-...`); what exists already is left alone, relations that are on
//! stay on (relations record only real transitions), and hums are keyed by a fixed id.

use aggregates::claim::ClaimKind;
use aggregates::social::{Hum, HumCommand, RelationCommand, StationFollow, UserFollow};
use aggregates::station::{Station, StationCommand};
use aggregates::user::{HumitProfile, ProviderIdentity, Role, User, UserCommand, UserDetails};
use anyhow::Context;
use chrono::{NaiveDate, Utc};
use serde_json::json;

use crate::config::Config;
use crate::identity::{self, IdentityError, NewUser};
use crate::state::AppState;
use crate::store::commands::Routed;
use crate::store::CommandContext;
use crate::store::Commit;

mod data;

use data::{Person, HUMS, PEOPLE, STATIONS, STATION_FOLLOWS, USER_FOLLOWS};

/// What a seeding run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Stations created now.
    pub stations: usize,
    /// People registered now.
    pub users: usize,
    /// Follows (of stations and people) turned on now.
    pub follows: usize,
    /// Hums posted now.
    pub hums: usize,
    /// The last command that stored events (for read-your-writes): commands run one after
    /// the other, so its events come after every other's.
    pub position: Option<Commit>,
}

/// Builds the services (no HTTP, no workers) and loads the demo data set.
///
/// # Errors
/// Without `--demo`, or when the database is unreachable or a command fails.
pub async fn run(config: Config, demo: bool) -> anyhow::Result<()> {
    if !demo {
        anyhow::bail!("nothing to seed: pass --demo to load the demo data set");
    }
    let app = super::offline(config).await?;
    let report = load_demo(app.state()).await?;
    println!(
        "demo data loaded: {} stations, {} people, {} follows, {} hums created \
         (projections catch up when `humit serve` or `humit worker` runs)",
        report.stations, report.users, report.follows, report.hums
    );
    Ok(())
}

/// Runs `command` on the `A` with `id` as `ctx`, and records its position in the
/// report; answers whether it stored anything.
async fn record<A>(
    state: &AppState,
    (id, command): (&str, A::Command),
    ctx: &CommandContext,
    report: &mut Report,
) -> anyhow::Result<bool>
where
    A: Routed,
    A::Command: Clone,
    A::Error: Send + Sync + 'static,
{
    let position = state
        .commands
        .execute::<A>(id, command, ctx)
        .await
        .with_context(|| format!("failed to run a command on {} {id}", A::TYPE))?;
    Ok(bump(report, position))
}

/// Records `position` in the report; whether the command stored anything.
fn bump(report: &mut Report, position: Option<Commit>) -> bool {
    let stored = position.is_some();
    if stored {
        report.position = position;
    }
    stored
}

/// Station `i`'s id.
fn station_id(i: usize) -> String {
    format!("demo-{}", STATIONS[i].0)
}

/// Loads the demo data set into `state`'s store.
///
/// # Errors
/// A command or store failure.
pub async fn load_demo(state: &AppState) -> anyhow::Result<Report> {
    let ctx = CommandContext::system();
    let mut report = Report::default();
    for (i, (slug, name, description)) in STATIONS.iter().enumerate() {
        let id = station_id(i);
        let station: Station = state.commands.load(&id).await.map_err(anyhow::Error::msg)?;
        if station.exists() {
            continue;
        }
        let command = StationCommand::CreateStation {
            station_id: id.clone(),
            name: (*name).to_string(),
            description: (*description).to_string(),
            image_url: format!("https://images.humit.xyz/stations/{slug}.jpg"),
            created_by: "system".into(),
            now: Utc::now(),
        };
        if record::<Station>(state, (&id, command), &ctx, &mut report).await? {
            report.stations += 1;
        }
    }

    let mut ids = Vec::with_capacity(PEOPLE.len());
    for person in PEOPLE {
        let (user_id, created) = person_id(state, person, &ctx).await?;
        if created {
            report.users += 1;
        }
        let user = identity::load_user(state, &user_id)
            .await
            .map_err(anyhow::Error::new)?;
        if !user.profile_registered() {
            let form = registration(user.username(), person)?;
            record::<User>(state, (&user_id, form), &ctx, &mut report).await?;
        }
        ids.push(user_id);
    }

    for (person, stations) in STATION_FOLLOWS.iter().enumerate() {
        for &station in *stations {
            let (subject, object) = (ids[person].clone(), station_id(station));
            let id = format!("{subject}:{object}");
            let command = RelationCommand::set(true, subject, object, Utc::now());
            if record::<StationFollow>(state, (&id, command), &ctx, &mut report).await? {
                report.follows += 1;
            }
        }
    }
    for &(follower, followee) in USER_FOLLOWS {
        let (subject, object) = (ids[follower].clone(), ids[followee].clone());
        let id = format!("{subject}:{object}");
        let command = RelationCommand::set(true, subject, object, Utc::now());
        if record::<UserFollow>(state, (&id, command), &ctx, &mut report).await? {
            report.follows += 1;
        }
    }
    for (n, &(person, station, track, caption)) in HUMS.iter().enumerate() {
        let hum_id = format!("demo-hum-{n}");
        let existing: Hum = state
            .commands
            .load(&hum_id)
            .await
            .map_err(anyhow::Error::msg)?;
        if existing.is_posted() {
            continue;
        }
        let command = HumCommand::PostHum {
            hum_id: hum_id.clone(),
            user_id: ids[person].clone(),
            station_id: station_id(station),
            track_id: track.to_string(),
            caption: caption.to_string(),
            now: Utc::now(),
        };
        if record::<Hum>(state, (&hum_id, command), &ctx, &mut report).await? {
            report.hums += 1;
        }
    }
    tracing::info!(
        stations = report.stations,
        users = report.users,
        follows = report.follows,
        hums = report.hums,
        "demo data loaded"
    );
    Ok(report)
}

/// The demo person's user id, registering them (as a Spotify sign-up would) when new.
async fn person_id(
    state: &AppState,
    person: &Person,
    ctx: &CommandContext,
) -> anyhow::Result<(String, bool)> {
    let subject = format!("demo-{}", person.handle.replace('.', "-"));
    let key = format!("spotify/{subject}");
    if let Some(user_id) = identity::owner_of(state, ClaimKind::Identity, &key)
        .await
        .map_err(anyhow::Error::new)?
    {
        return Ok((user_id, false));
    }
    let mut new = NewUser {
        username: person.handle.to_string(),
        details: UserDetails {
            first_name: person.first.to_string(),
            last_name: person.last.to_string(),
            ..UserDetails::default()
        },
        password: None,
        identity: Some(ProviderIdentity {
            provider: "spotify".into(),
            subject,
            picture_url: None,
        }),
        spotify_tokens: Some((
            "demo-access-token".into(),
            "demo-refresh-token".into(),
            Some(person.country.to_string()),
        )),
        role: Role::Normal,
    };
    let registered = match identity::register(state, new.clone(), ctx).await {
        // Someone took the demo handle for real: the demo person gets another.
        Err(IdentityError::UsernameTaken) => {
            new.username = format!("{}_demo", person.handle);
            identity::register(state, new, ctx).await
        }
        other => other,
    };
    let (user_id, _) =
        registered.with_context(|| format!("failed to register demo user {}", person.handle))?;
    Ok((user_id, true))
}

/// The demo person's registration form, as a command.
fn registration(handle: &str, person: &Person) -> anyhow::Result<UserCommand> {
    let (y, m, d) = person.born;
    Ok(UserCommand::RegisterProfile {
        username: handle.to_string(),
        profile: HumitProfile {
            date_of_birth: NaiveDate::from_ymd_opt(y, m, d).context("bad demo date")?,
            favourite_artists: json!({ "data": person.artists }),
            notification_id: None,
            referred_by: None,
            playlist_id: format!("demo{}", person.handle.replace(['.', '_'], "")),
            internal_username: format!(
                "{}{}",
                person
                    .first
                    .to_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), ""),
                100_000 + person.handle.bytes().map(u32::from).sum::<u32>() * 7919 % 900_000
            ),
        },
        first_name: person.first.to_string(),
        last_name: person.last.to_string(),
        now: Utc::now(),
    })
}
