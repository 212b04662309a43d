//! Social: stations (create, discover, follow), people (discover, the invite code's
//! onboarding list, follow, mute) and hums (post, a station's list).
//!
//! Follows and mutes are relations `<subject>:<object>` (`UserFollow`, `Mute`,
//! `StationFollow`); the `social` projection keeps their counters exact under concurrent
//! changes. Every answer is read once the `social` projection has the change.

use aggregates::claim::ClaimKind;
use aggregates::social::{
    Hum, HumCommand, Mute, RelationCommand, RelationError, StationFollow, UserFollow,
};
use aggregates::station::{Station, StationCommand};
use aggregates::user::Action;
use chrono::Utc;

use super::{identity, Caller, Error};
use crate::state::AppState;
use crate::store::commands::Routed;
use crate::store::{CommandError, Commit};

pub use projections::social::read::{HumRow, Page, StationRow, UserRow};

/// How many stations a user follows before onboarding is complete (and they may hum).
pub const ONBOARDING_STATIONS: i64 = 3;
/// The model name of stations in staff privileges.
pub const STATION_MODEL: &str = "station";

/// Whether `id` can be an aggregate id at all (checked before touching the store).
fn plausible_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks on the write side that `station_id` is a station.
///
/// # Errors
/// [`Error::StationNotFound`], store failures.
pub async fn ensure_station(state: &AppState, station_id: &str) -> Result<(), Error> {
    if !plausible_id(station_id) {
        return Err(Error::StationNotFound);
    }
    let station: Station = state.commands.load(station_id).await?;
    if station.exists() {
        Ok(())
    } else {
        Err(Error::StationNotFound)
    }
}

/// Checks on the write side that `user_id` is an active user.
async fn ensure_user(state: &AppState, user_id: &str) -> Result<(), Error> {
    if !plausible_id(user_id) {
        return Err(Error::NotFound);
    }
    let user = identity::load_user(state, user_id).await?;
    if user.exists() && !user.is_disabled() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// A station as `caller` sees it once the `social` projection reached `commit`.
async fn station_after(
    state: &AppState,
    caller: &Caller,
    station_id: &str,
    commit: Option<Commit>,
) -> Result<StationRow, Error> {
    state.wait_for(commit, &["social"]).await;
    projections::social::read::station(&state.read_pool, caller.id(), station_id)
        .await?
        .ok_or(Error::StationNotFound)
}

/// A new station's fields, validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStation {
    /// The name.
    pub name: String,
    /// The description (may be empty).
    pub description: String,
    /// An http(s) image URL (may be empty).
    pub image_url: String,
}

/// Creates a station: staff with the `station: create` privilege only. The input's own
/// errors (the dialect's) are reported after that check.
///
/// # Errors
/// [`Error::StationCreateForbidden`], the input's error, [`Error::Station`], store failures.
pub async fn create_station<E: From<Error>>(
    state: &AppState,
    caller: &Caller,
    station: Result<NewStation, E>,
) -> Result<StationRow, E> {
    if !caller.principal.may(STATION_MODEL, Action::Create) {
        return Err(Error::StationCreateForbidden.into());
    }
    let station = station?;
    let station_id = uuid::Uuid::new_v4().simple().to_string();
    let command = StationCommand::CreateStation {
        station_id: station_id.clone(),
        name: station.name,
        description: station.description,
        image_url: station.image_url,
        created_by: caller.id().to_string(),
        now: Utc::now(),
    };
    let position = state
        .commands
        .execute::<Station>(&station_id, command, &caller.ctx)
        .await
        .map_err(|e| Error::from_command(e, Error::Station))?;
    tracing::info!(%station_id, "station created");
    Ok(station_after(state, caller, &station_id, position).await?)
}

/// A page of stations by popularity, and how many there are.
///
/// # Errors
/// Read failures.
pub async fn discover_stations(
    state: &AppState,
    caller: &Caller,
    page: Page,
) -> Result<(i64, Vec<StationRow>), Error> {
    Ok(projections::social::read::discover_stations(&state.read_pool, caller.id(), page).await?)
}

/// Follows (`on`) or unfollows a station; answers it as the caller now sees it.
///
/// # Errors
/// [`Error::StationNotFound`], store failures.
pub async fn follow_station(
    state: &AppState,
    caller: &Caller,
    station_id: &str,
    on: bool,
) -> Result<StationRow, Error> {
    ensure_station(state, station_id).await?;
    let command = change_of(caller.id(), station_id, on);
    let id = format!("{}:{station_id}", caller.id());
    let position = state
        .commands
        .execute::<StationFollow>(&id, command, &caller.ctx)
        .await
        .map_err(|e| Error::from_command(e, |e: RelationError| Error::Store(e.to_string())))?;
    tracing::info!(%station_id, follow = on, "station follow");
    station_after(state, caller, station_id, position).await
}

/// Adds (`on`) or removes the relation `subject` → `object`.
fn change_of(subject: &str, object: &str, on: bool) -> RelationCommand {
    RelationCommand::set(on, subject.to_string(), object.to_string(), Utc::now())
}

/// A page of people to follow (not the caller, not followed or muted already), most
/// followed first, and how many there are.
///
/// # Errors
/// Read failures.
pub async fn discover_people(
    state: &AppState,
    caller: &Caller,
    page: Page,
) -> Result<(i64, Vec<UserRow>), Error> {
    Ok(projections::social::read::discover_users(&state.read_pool, caller.id(), page).await?)
}

/// The owner of an invite code, read from the write side (never stale).
///
/// # Errors
/// Store failures.
pub async fn referral_owner(state: &AppState, code: &str) -> Result<Option<String>, Error> {
    identity::owner_of(state, ClaimKind::ReferralCode, code).await
}

/// Whether `code` has the shape of an invite code (six digits).
pub fn well_formed_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The public profile of an invite code's owner.
///
/// # Errors
/// [`Error::NotFound`] for a malformed or unknown code, read failures.
pub async fn referral_profile(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> Result<UserRow, Error> {
    if !well_formed_code(code) {
        return Err(Error::NotFound);
    }
    let owner = referral_owner(state, code).await?.ok_or(Error::NotFound)?;
    projections::social::read::user(&state.read_pool, caller.id(), &owner)
        .await?
        .ok_or(Error::NotFound)
}

/// People recommended through an invite code: its owner, then the people they follow (at
/// most 100, most followed first; never the caller).
///
/// # Errors
/// [`Error::NotFound`] for a malformed or unknown code, read failures.
pub async fn onboard(state: &AppState, caller: &Caller, code: &str) -> Result<Vec<UserRow>, Error> {
    if !well_formed_code(code) {
        return Err(Error::NotFound);
    }
    let owner = referral_owner(state, code).await?.ok_or(Error::NotFound)?;
    Ok(projections::social::read::onboard(&state.read_pool, caller.id(), &owner).await?)
}

/// A relation between two people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Following.
    Follow,
    /// Muting: their hums no longer show to the subject, nor they in discovery.
    Mute,
}

/// Turns `relation` between the caller and `target` on or off; answers the target's public
/// profile once the `social` projection has it.
///
/// # Errors
/// [`Error::NotFound`], [`Error::SelfRelation`], store failures.
pub async fn relate(
    state: &AppState,
    caller: &Caller,
    relation: Relation,
    target: &str,
    on: bool,
) -> Result<UserRow, Error> {
    match relation {
        Relation::Follow => set_relation::<UserFollow>(state, caller, relation, target, on).await,
        Relation::Mute => set_relation::<Mute>(state, caller, relation, target, on).await,
    }
}

async fn set_relation<A>(
    state: &AppState,
    caller: &Caller,
    relation: Relation,
    target: &str,
    on: bool,
) -> Result<UserRow, Error>
where
    A: Routed<Command = RelationCommand, Error = RelationError>,
{
    ensure_user(state, target).await?;
    if target == caller.id() {
        return Err(Error::SelfRelation(relation));
    }
    let command = change_of(caller.id(), target, on);
    let id = format!("{}:{target}", caller.id());
    let position = match state.commands.execute::<A>(&id, command, &caller.ctx).await {
        Ok(position) => position,
        Err(CommandError::Rejected(RelationError::SelfRelation)) => {
            return Err(Error::SelfRelation(relation))
        }
        Err(e) => return Err(Error::from_command(e, |e| Error::Store(e.to_string()))),
    };
    tracing::info!(relation = A::TYPE, %target, on, "relation changed");
    state.wait_for(position, &["social"]).await;
    projections::social::read::user(&state.read_pool, caller.id(), target)
        .await?
        .ok_or(Error::NotFound)
}

/// A hum to post, validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHum {
    /// The station.
    pub station_id: String,
    /// The Spotify track id.
    pub track_id: String,
    /// The caption (may be empty).
    pub caption: String,
}

/// Posts a hum: onboarding must be done (at least three stations followed).
///
/// # Errors
/// [`Error::OnboardingIncomplete`], [`Error::StationNotFound`], store failures.
pub async fn post_hum(state: &AppState, caller: &Caller, hum: NewHum) -> Result<HumRow, Error> {
    let followed =
        projections::social::read::stations_followed(&state.read_pool, caller.id()).await?;
    if followed < ONBOARDING_STATIONS {
        return Err(Error::OnboardingIncomplete { followed });
    }
    ensure_station(state, &hum.station_id).await?;
    let hum_id = uuid::Uuid::new_v4().simple().to_string();
    let command = HumCommand::PostHum {
        hum_id: hum_id.clone(),
        user_id: caller.id().to_string(),
        station_id: hum.station_id.clone(),
        track_id: hum.track_id,
        caption: hum.caption,
        now: Utc::now(),
    };
    let position = state
        .commands
        .execute::<Hum>(&hum_id, command, &caller.ctx)
        .await
        .map_err(|e| Error::from_command(e, |e| Error::Store(e.to_string())))?;
    tracing::info!(%hum_id, station_id = %hum.station_id, "hum posted");
    state.wait_for(position, &["social"]).await;
    projections::social::read::hum(&state.read_pool, &hum_id)
        .await?
        .ok_or_else(|| Error::Unavailable("a stored hum is not in the read model yet".into()))
}

/// A page of a station's hums, newest first, without those of people the caller muted.
///
/// # Errors
/// [`Error::StationNotFound`], read failures.
pub async fn station_hums(
    state: &AppState,
    caller: &Caller,
    station_id: &str,
    page: Page,
) -> Result<(i64, Vec<HumRow>), Error> {
    ensure_station(state, station_id).await?;
    Ok(
        projections::social::read::station_hums(&state.read_pool, caller.id(), station_id, page)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implausible_ids_never_reach_the_store() {
        assert!(plausible_id("0f3a"));
        assert!(!plausible_id(""));
        assert!(!plausible_id("a:b"));
        assert!(!plausible_id(&"a".repeat(65)));
    }
}
