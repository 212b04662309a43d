//! People: discover whom to follow, the invite code's onboarding list, follow and mute.
//!
//! Follows are the `UserFollow` relation `<follower>:<followee>`, mutes the `Mute` relation
//! `<user>:<muted>`; the `social` projection keeps `number_of_followers`/`number_of_following`
//! exact. Follow and mute answers are the target's public profile as the caller now sees it.

use aggregates::social::{Mute, RelationCommand, RelationError, UserFollow};
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde_json::Value;

use super::error::{codes, HumitError};
use super::extract::Caller;
use super::openapi::{HumitErrorBody, OnboardEnvelope, PeoplePageEnvelope, PublicProfileEnvelope};
use super::page::{PageRequest, QueryParams};
use super::users::referral_owner;
use super::{command_error, db, dto, ok, queries};
use crate::identity;
use crate::state::AppState;
use crate::store::commands::Routed;
use crate::store::{CommandContext, CommandError};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users/discover", get(discover))
        .route("/api/users/onboard", get(onboard))
        .route("/api/users/{user_id}/follow", post(follow).delete(unfollow))
        .route("/api/users/{user_id}/mute", post(mute).delete(unmute))
}

/// People to follow (not the caller, not followed or muted already), most followed first.
#[utoipa::path(
    get, path = "/api/users/discover/", tag = "humit: people",
    security(("humit" = [])),
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("offset" = Option<i64>, Query, description = "From 0, default 0"),
    ),
    responses(
        (status = 200, description = "A page", body = PeoplePageEnvelope),
        (status = 400, description = "INVALID_LIMIT, INVALID_OFFSET", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id()))]
pub async fn discover(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, HumitError> {
    let page = PageRequest::from_query(&QueryParams::parse(query.as_deref()))?;
    let (count, rows) = queries::discover_users(&state.read_pool, caller.user_id(), page)
        .await
        .map_err(db)?;
    let results = rows.iter().map(dto::public_profile).collect();
    Ok(ok(page.body(
        &state.public_url,
        "/api/users/discover/",
        count,
        results,
    )))
}

/// People recommended through an invite code: its owner, then the people they follow (at
/// most 100, most followed first; never the caller).
#[utoipa::path(
    get, path = "/api/users/onboard/", tag = "humit: people",
    security(("humit" = [])),
    params(("code" = String, Query, description = "The six-digit invite code", example = "598631")),
    responses(
        (status = 200, description = "The list", body = OnboardEnvelope),
        (status = 400, description = "MISSING_PARAMETER", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 404, description = "USER_DOES_NOT_EXIST", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id()))]
pub async fn onboard(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, HumitError> {
    let query = QueryParams::parse(query.as_deref());
    let code = query.require("code")?;
    if !(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())) {
        return Err(HumitError::user_does_not_exist());
    }
    let owner = referral_owner(&state, code)
        .await?
        .ok_or_else(HumitError::user_does_not_exist)?;
    let rows = queries::onboard(&state.read_pool, caller.user_id(), &owner)
        .await
        .map_err(db)?;
    let entries: Vec<Value> = rows.iter().map(dto::onboard_profile).collect();
    Ok(ok(Value::Array(entries)))
}

/// Whether `id` can be a user id at all (checked before touching the store).
fn plausible_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks on the write side that `user_id` is an active user.
async fn ensure_user(state: &AppState, user_id: &str) -> Result<(), HumitError> {
    if !plausible_id(user_id) {
        return Err(HumitError::user_does_not_exist());
    }
    let user = identity::load_user(state, user_id)
        .await
        .map_err(HumitError::internal)?;
    if user.exists() && !user.is_disabled() {
        Ok(())
    } else {
        Err(HumitError::user_does_not_exist())
    }
}

/// Turns relation `A` between the caller and `target` on or off; answers the target's public
/// profile once the `social` projection has it.
async fn set_relation<A>(
    state: &AppState,
    caller: &Caller,
    target: &str,
    on: bool,
    self_error: HumitError,
) -> Result<Response, HumitError>
where
    A: Routed<Command = RelationCommand, Error = RelationError>,
{
    ensure_user(state, target).await?;
    if target == caller.user_id() {
        return Err(self_error);
    }
    let (subject, object, now) = (caller.user_id().to_string(), target.to_string(), Utc::now());
    let command = if on {
        RelationCommand::Add {
            subject,
            object,
            now,
        }
    } else {
        RelationCommand::Remove {
            subject,
            object,
            now,
        }
    };
    let ctx: CommandContext = caller.ctx();
    let id = format!("{}:{target}", caller.user_id());
    let position = match state.commands.execute::<A>(&id, command, &ctx).await {
        Ok(position) => position,
        Err(CommandError::Rejected(RelationError::SelfRelation)) => return Err(self_error),
        Err(e) => return Err(command_error(e, HumitError::internal)),
    };
    tracing::info!(relation = A::TYPE, %target, on, "relation changed");
    state.wait_for(position, &["social"]).await;
    let row = queries::user(&state.read_pool, caller.user_id(), target)
        .await
        .map_err(db)?
        .ok_or_else(HumitError::user_does_not_exist)?;
    Ok(ok(dto::public_profile(&row)))
}

fn cannot_follow_self() -> HumitError {
    HumitError::invalid(codes::CANNOT_FOLLOW_SELF, "You cannot follow yourself")
}

fn cannot_mute_self() -> HumitError {
    HumitError::invalid(codes::CANNOT_MUTE_SELF, "You cannot mute yourself")
}

/// Follows someone (again: no change).
#[utoipa::path(
    post, path = "/api/users/{user_id}/follow/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, followed", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_FOLLOW_SELF", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 404, description = "USER_DOES_NOT_EXIST", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id(), %target))]
pub async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    set_relation::<UserFollow>(&state, &caller, &target, true, cannot_follow_self()).await
}

/// Unfollows someone (when not following: no change).
#[utoipa::path(
    delete, path = "/api/users/{user_id}/follow/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, not followed", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_FOLLOW_SELF", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 404, description = "USER_DOES_NOT_EXIST", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id(), %target))]
pub async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    set_relation::<UserFollow>(&state, &caller, &target, false, cannot_follow_self()).await
}

/// Mutes someone: their hums no longer show to the caller, nor they in discovery.
#[utoipa::path(
    post, path = "/api/users/{user_id}/mute/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, muted: true", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_MUTE_SELF", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 404, description = "USER_DOES_NOT_EXIST", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id(), %target))]
pub async fn mute(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    set_relation::<Mute>(&state, &caller, &target, true, cannot_mute_self()).await
}

/// Unmutes someone.
#[utoipa::path(
    delete, path = "/api/users/{user_id}/mute/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, muted: null", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_MUTE_SELF", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 404, description = "USER_DOES_NOT_EXIST", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id(), %target))]
pub async fn unmute(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    set_relation::<Mute>(&state, &caller, &target, false, cannot_mute_self()).await
}
