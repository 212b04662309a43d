//! People: discover whom to follow, the invite code's onboarding list, follow and mute.
//!
//! Follows are the `UserFollow` relation `<follower>:<followee>`, mutes the `Mute` relation
//! `<user>:<muted>`; the `social` projection keeps `number_of_followers`/`number_of_following`
//! exact. Follow and mute answers are the target's public profile as the caller now sees it.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use super::dto::envelope::{
    BadPage, HumitErrorBody, NoSuchUser, OnboardEnvelope, PeoplePageEnvelope,
    PublicProfileEnvelope, SignedInOnly, UnknownInviteCode,
};
use super::error::HumitError;
use super::extract::Caller;
use super::page::{InviteCodeQuery, Page, PageQuery, QueryParams};
use super::{dto, ok};
use crate::app::social::{self, Relation};
use crate::state::AppState;

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
    params(PageQuery),
    responses(
        (status = 200, description = "A page", body = PeoplePageEnvelope),
        BadPage,
        SignedInOnly,
    )
)]
pub async fn discover(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
) -> Result<Response, HumitError> {
    let (count, rows) = social::discover_people(&state, caller.app(), page.window()).await?;
    Ok(ok(page.body(
        count,
        rows.iter().map(dto::public_profile).collect(),
    )))
}

/// People recommended through an invite code: its owner, then the people they follow (at
/// most 100, most followed first; never the caller).
#[utoipa::path(
    get, path = "/api/users/onboard/", tag = "humit: people",
    security(("humit" = [])),
    params(InviteCodeQuery),
    responses(
        (status = 200, description = "The list", body = OnboardEnvelope),
        UnknownInviteCode,
        SignedInOnly,
    )
)]
pub async fn onboard(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Response, HumitError> {
    let code = query.require("code")?;
    let rows = social::onboard(&state, caller.app(), code).await?;
    let entries: Vec<Value> = rows.iter().map(dto::onboard_profile).collect();
    Ok(ok(Value::Array(entries)))
}

/// Follows someone (again: no change).
#[utoipa::path(
    post, path = "/api/users/{user_id}/follow/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, followed", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_FOLLOW_SELF", body = HumitErrorBody),
        SignedInOnly,
        NoSuchUser,
    )
)]
pub async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    relate(&state, &caller, Relation::Follow, &target, true).await
}

/// Unfollows someone (when not following: no change).
#[utoipa::path(
    delete, path = "/api/users/{user_id}/follow/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, not followed", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_FOLLOW_SELF", body = HumitErrorBody),
        SignedInOnly,
        NoSuchUser,
    )
)]
pub async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    relate(&state, &caller, Relation::Follow, &target, false).await
}

/// Mutes someone: their hums no longer show to the caller, nor they in discovery.
#[utoipa::path(
    post, path = "/api/users/{user_id}/mute/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, muted: true", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_MUTE_SELF", body = HumitErrorBody),
        SignedInOnly,
        NoSuchUser,
    )
)]
pub async fn mute(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    relate(&state, &caller, Relation::Mute, &target, true).await
}

/// Unmutes someone.
#[utoipa::path(
    delete, path = "/api/users/{user_id}/mute/", tag = "humit: people",
    security(("humit" = [])),
    params(("user_id" = String, Path)),
    responses(
        (status = 200, description = "Their profile, muted: null", body = PublicProfileEnvelope),
        (status = 400, description = "CANNOT_MUTE_SELF", body = HumitErrorBody),
        SignedInOnly,
        NoSuchUser,
    )
)]
pub async fn unmute(
    State(state): State<AppState>,
    caller: Caller,
    Path(target): Path<String>,
) -> Result<Response, HumitError> {
    relate(&state, &caller, Relation::Mute, &target, false).await
}

/// Turns `relation` with `target` on or off; answers their public profile.
async fn relate(
    state: &AppState,
    caller: &Caller,
    relation: Relation,
    target: &str,
    on: bool,
) -> Result<Response, HumitError> {
    let row = social::relate(state, caller.app(), relation, target, on).await?;
    Ok(ok(dto::public_profile(&row)))
}
