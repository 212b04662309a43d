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
use crate::startup::{Application, Mode};
use crate::state::AppState;
use crate::store::CommandContext;
use crate::store::Commit;

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
    let app = Application::build(
        config,
        Mode {
            http: false,
            workers: false,
        },
    )
    .await?;
    let report = load_demo(app.state()).await?;
    println!(
        "demo data loaded: {} stations, {} people, {} follows, {} hums created \
         (projections catch up when `humit serve` or `humit worker` runs)",
        report.stations, report.users, report.follows, report.hums
    );
    Ok(())
}

/// A demo station: id suffix, name, description.
const STATIONS: &[(&str, &str, &str)] = &[
    (
        "lofi",
        "Lo-fi Beats",
        "Mellow beats to study, code and unwind to.",
    ),
    (
        "indie",
        "Indie Mornings",
        "Fresh indie and alt-pop to start the day.",
    ),
    (
        "bollywood",
        "Bollywood Classics",
        "Timeless Hindi film songs, from the 70s to now.",
    ),
    (
        "hiphop",
        "Hip-Hop Cypher",
        "Bars, beats and the freshest verses.",
    ),
    (
        "jazz",
        "Jazz After Dark",
        "Smoky standards and modern jazz for late nights.",
    ),
    (
        "workout",
        "Workout Bangers",
        "High-BPM tracks to push through the last rep.",
    ),
    (
        "acoustic",
        "Acoustic Evenings",
        "Unplugged covers and quiet songwriters.",
    ),
    (
        "electronic",
        "Electronic Pulse",
        "House, techno and everything with a four-on-the-floor.",
    ),
];

/// A demo person: handle, full name (first, last), country, date of birth, favourite artists.
struct Person {
    handle: &'static str,
    first: &'static str,
    last: &'static str,
    country: &'static str,
    born: (i32, u32, u32),
    artists: &'static [&'static str],
}

const PEOPLE: &[Person] = &[
    Person {
        handle: "harshitaprabha",
        first: "Harshita",
        last: "Prabha",
        country: "IN",
        born: (1996, 3, 14),
        artists: &["Arijit Singh", "Prateek Kuhad"],
    },
    Person {
        handle: "rohit.k",
        first: "Rohit",
        last: "Kumar",
        country: "IN",
        born: (1994, 4, 26),
        artists: &["Divine", "Nucleya"],
    },
    Person {
        handle: "maya_beats",
        first: "Maya",
        last: "Fernandes",
        country: "IN",
        born: (1999, 8, 2),
        artists: &["Nujabes", "J Dilla"],
    },
    Person {
        handle: "samjazz",
        first: "Samuel",
        last: "Okafor",
        country: "GB",
        born: (1988, 11, 30),
        artists: &["Miles Davis", "Kamasi Washington"],
    },
    Person {
        handle: "lena.indie",
        first: "Lena",
        last: "Vogel",
        country: "DE",
        born: (1997, 6, 21),
        artists: &["Phoebe Bridgers", "The National"],
    },
    Person {
        handle: "arjun_runs",
        first: "Arjun",
        last: "Mehta",
        country: "IN",
        born: (1992, 1, 9),
        artists: &["Eminem", "The Weeknd"],
    },
    Person {
        handle: "sofia.sings",
        first: "Sofía",
        last: "García",
        country: "ES",
        born: (2000, 12, 5),
        artists: &["Rosalía", "Bon Iver"],
    },
    Person {
        handle: "djkenji",
        first: "Kenji",
        last: "Sato",
        country: "JP",
        born: (1990, 7, 17),
        artists: &["Daft Punk", "Nils Frahm"],
    },
    Person {
        handle: "priya.plays",
        first: "Priya",
        last: "Nair",
        country: "IN",
        born: (1998, 2, 28),
        artists: &["A. R. Rahman", "Lata Mangeshkar"],
    },
    Person {
        handle: "tomwaits4no1",
        first: "Tom",
        last: "Becker",
        country: "US",
        born: (1985, 10, 3),
        artists: &["Tom Waits", "Nick Drake"],
    },
];

/// Which stations each person follows (indices into [`STATIONS`]); everyone follows at least
/// three, so everyone has finished onboarding.
const STATION_FOLLOWS: &[&[usize]] = &[
    &[2, 0, 6, 1],
    &[3, 2, 5],
    &[0, 3, 4, 7],
    &[4, 0, 6],
    &[1, 6, 0],
    &[5, 3, 7, 0],
    &[6, 1, 4],
    &[7, 0, 5, 4],
    &[2, 6, 0],
    &[6, 4, 1],
];

/// Who follows whom (indices into [`PEOPLE`]): a few people are popular, as in life.
const USER_FOLLOWS: &[(usize, usize)] = &[
    (1, 0),
    (2, 0),
    (3, 0),
    (4, 0),
    (5, 0),
    (8, 0),
    (9, 0),
    (0, 2),
    (3, 2),
    (7, 2),
    (5, 2),
    (6, 2),
    (0, 1),
    (5, 1),
    (8, 1),
    (2, 7),
    (4, 7),
    (6, 7),
    (1, 3),
    (9, 3),
    (6, 4),
    (0, 8),
    (2, 9),
];

/// Hums: person, station, Spotify track id, caption.
const HUMS: &[(usize, usize, &str, &str)] = &[
    (0, 2, "5ZLkc5RY1NM4FtGWEd6HOE", "This never gets old"),
    (0, 0, "0wwPcA6wtMf6HUMpIRdeP7", "Sunday mornings"),
    (1, 3, "0aVFsOcMLzUIcQ5sj6VzqW", "Mumbai represent"),
    (2, 0, "6pQFv2lxfkTmVjPmKRAGCF", "Rainy day loop"),
    (2, 4, "4vLYewWIvqHfKtJDk8c8tq", "Late night vibes"),
    (3, 4, "1ZoZNuUrb4CLsBGm4Nlnpd", "So What, forever"),
    (
        4,
        1,
        "6Qyc6fS4DsZjB2mRW9DsQs",
        "Motion sickness, but make it a mood",
    ),
    (5, 5, "7lQ8MOhq6IN2w8EYcFNSUk", "Last set, go"),
    (5, 3, "0VjIjW4GlUZAMYd2vXMi3b", "Driving at night"),
    (6, 6, "3EYOJ48Et32uATr9ZmLnAo", "Quiet and perfect"),
    (7, 7, "0DiWol3AO6WpXZgp0goxAV", "One more time"),
    (7, 0, "2HTIsKCbSX6ShKlKDjfAtL", "Says"),
    (8, 2, "1Yx4jd3jNnwTdkB2yHaqnq", "Evergreen"),
    (9, 6, "5fhTtf0IV8BNqSFmTkWfIb", "Pink Moon on repeat"),
];

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
        let position = state
            .commands
            .execute::<Station>(&id, command, &ctx)
            .await
            .with_context(|| format!("failed to create station {id}"))?;
        if bump(&mut report, position) {
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
            let position = register_profile(state, &user_id, user.username(), person, &ctx).await?;
            bump(&mut report, position);
        }
        ids.push(user_id);
    }

    for (person, stations) in STATION_FOLLOWS.iter().enumerate() {
        for &station in *stations {
            let command = RelationCommand::Add {
                subject: ids[person].clone(),
                object: station_id(station),
                now: Utc::now(),
            };
            let id = format!("{}:{}", ids[person], station_id(station));
            let position = state
                .commands
                .execute::<StationFollow>(&id, command, &ctx)
                .await
                .with_context(|| format!("failed to follow station {id}"))?;
            if bump(&mut report, position) {
                report.follows += 1;
            }
        }
    }
    for &(follower, followee) in USER_FOLLOWS {
        let command = RelationCommand::Add {
            subject: ids[follower].clone(),
            object: ids[followee].clone(),
            now: Utc::now(),
        };
        let id = format!("{}:{}", ids[follower], ids[followee]);
        let position = state
            .commands
            .execute::<UserFollow>(&id, command, &ctx)
            .await
            .with_context(|| format!("failed to follow {id}"))?;
        if bump(&mut report, position) {
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
        let position = state
            .commands
            .execute::<Hum>(&hum_id, command, &ctx)
            .await
            .with_context(|| format!("failed to post {hum_id}"))?;
        if bump(&mut report, position) {
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

/// Submits the demo person's registration form.
async fn register_profile(
    state: &AppState,
    user_id: &str,
    handle: &str,
    person: &Person,
    ctx: &CommandContext,
) -> anyhow::Result<Option<Commit>> {
    let (y, m, d) = person.born;
    let command = UserCommand::RegisterProfile {
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
    };
    state
        .commands
        .execute::<User>(user_id, command, ctx)
        .await
        .with_context(|| format!("failed to register the profile of {}", person.handle))
}
