//! Stations: create (staff with `station: create`), discover by popularity, follow and unfollow.
//!
//! A station answers as `{station_id, name, description, image_url, number_of_followers,
//! number_of_hums, followed, created_at}` (see `docs/humit.md`). Following is the
//! `StationFollow` relation `<user_id>:<station_id>`; its counters are kept by the `social`
//! projection, exact under concurrent follows and unfollows.

use aggregates::social::{RelationCommand, RelationError, StationFollow};
use aggregates::station::{Station, StationCommand, StationError};
use aggregates::user::Action;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{codes, HumitError, Json};
use super::extract::Caller;
use super::openapi::{HumitErrorBody, StationEnvelope, StationPageEnvelope};
use super::page::{PageRequest, QueryParams};
use super::{command_error, created, db, dto, ok, queries};
use crate::state::AppState;
use crate::store::Commit;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/stations", post(create))
        .route("/api/stations/discover", get(discover))
        .route(
            "/api/stations/{station_id}/follow",
            post(follow).delete(unfollow),
        )
}

/// The model name of stations in staff privileges (`{"station": ["create"]}`).
pub const STATION_MODEL: &str = "station";

/// The longest station name.
pub const MAX_NAME: usize = 80;
/// The longest station description.
pub const MAX_DESCRIPTION: usize = 500;

/// `POST /api/stations/` as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StationBody {
    /// 1 to 80 characters.
    #[serde(default)]
    #[schema(value_type = String, example = "Lo-fi Beats")]
    name: Value,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    description: Value,
    /// An http(s) URL.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    image_url: Value,
}

/// A valid new station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStation {
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Cover image URL (`""` for none).
    pub image_url: String,
}

fn invalid(message: &str) -> HumitError {
    HumitError::invalid(codes::INVALID_STATION, message)
}

fn optional_string(value: &Value, name: &str) -> Result<String, HumitError> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.trim().to_string()),
        _ => Err(invalid(&format!("{name} must be a string"))),
    }
}

impl StationBody {
    /// Checks the fields.
    ///
    /// # Errors
    /// 400 `MISSING_FIELD` without a name, `INVALID_STATION` for a bad field.
    pub fn parse(&self) -> Result<NewStation, HumitError> {
        let name = optional_string(&self.name, "name")?;
        if name.is_empty() {
            return Err(HumitError::missing_field("name"));
        }
        if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(invalid(&format!(
                "name must have at most {MAX_NAME} characters"
            )));
        }
        let description = optional_string(&self.description, "description")?;
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(invalid(&format!(
                "description must have at most {MAX_DESCRIPTION} characters"
            )));
        }
        let image_url = optional_string(&self.image_url, "image_url")?;
        if !image_url.is_empty() {
            let ok = url::Url::parse(&image_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
                && image_url.len() <= 2048;
            if !ok {
                return Err(invalid("image_url must be an http(s) URL"));
            }
        }
        Ok(NewStation {
            name,
            description,
            image_url,
        })
    }
}

/// Whether `id` can be a station id at all (checked before touching the store).
fn plausible_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks on the write side (never stale) that a station exists.
///
/// # Errors
/// 404 `STATION_DOES_NOT_EXIST`, or a store failure.
pub async fn ensure_exists(state: &AppState, station_id: &str) -> Result<(), HumitError> {
    if !plausible_id(station_id) {
        return Err(HumitError::station_does_not_exist());
    }
    let station: Station = state
        .commands
        .load(station_id)
        .await
        .map_err(HumitError::internal)?;
    if station.exists() {
        Ok(())
    } else {
        Err(HumitError::station_does_not_exist())
    }
}

/// A station as the caller sees it, after the `social` projection reached `position`.
async fn answer(
    state: &AppState,
    caller: &Caller,
    station_id: &str,
    position: Option<Commit>,
) -> Result<Value, HumitError> {
    state.wait_for(position, &["social"]).await;
    let row = queries::station(&state.read_pool, caller.user_id(), station_id)
        .await
        .map_err(db)?
        .ok_or_else(HumitError::station_does_not_exist)?;
    Ok(dto::station(&row))
}

/// Creates a station: superusers, and staff with the `station: create` privilege.
#[utoipa::path(
    post, path = "/api/stations/", tag = "humit: stations",
    security(("humit" = [])),
    request_body = StationBody,
    responses(
        (status = 201, description = "Created", body = StationEnvelope),
        (status = 400, description = "MISSING_FIELD, INVALID_STATION", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 403, description = "PERMISSION_DENIED", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id()))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<StationBody>,
) -> Result<Response, HumitError> {
    if !caller.principal.may(STATION_MODEL, Action::Create) {
        return Err(HumitError::forbidden(
            "Only staff with the station: create privilege can create stations",
        ));
    }
    let station = body.parse()?;
    let station_id = uuid::Uuid::new_v4().simple().to_string();
    let command = StationCommand::CreateStation {
        station_id: station_id.clone(),
        name: station.name,
        description: station.description,
        image_url: station.image_url,
        created_by: caller.user_id().to_string(),
        now: Utc::now(),
    };
    let position = state
        .commands
        .execute::<Station>(&station_id, command, &caller.ctx())
        .await
        .map_err(|e| {
            command_error(e, |e: StationError| {
                HumitError::conflict(codes::CONCURRENT_MODIFICATION, e.to_string())
            })
        })?;
    tracing::info!(%station_id, "station created");
    Ok(created(
        answer(&state, &caller, &station_id, position).await?,
    ))
}

/// Every station, most popular first (followers, then hums), with `followed` for the caller.
#[utoipa::path(
    get, path = "/api/stations/discover/", tag = "humit: stations",
    security(("humit" = [])),
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100, default 20"),
        ("offset" = Option<i64>, Query, description = "From 0, default 0"),
    ),
    responses(
        (status = 200, description = "A page", body = StationPageEnvelope),
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
    let (count, rows) = queries::discover_stations(&state.read_pool, caller.user_id(), page)
        .await
        .map_err(db)?;
    let results = rows.iter().map(dto::station).collect();
    Ok(ok(page.body(
        &state.public_url,
        "/api/stations/discover/",
        count,
        results,
    )))
}

async fn set_follow(
    state: &AppState,
    caller: &Caller,
    station_id: &str,
    on: bool,
) -> Result<Response, HumitError> {
    ensure_exists(state, station_id).await?;
    let (subject, object, now) = (
        caller.user_id().to_string(),
        station_id.to_string(),
        Utc::now(),
    );
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
    let id = format!("{}:{station_id}", caller.user_id());
    let position = state
        .commands
        .execute::<StationFollow>(&id, command, &caller.ctx())
        .await
        .map_err(|e| command_error(e, |e: RelationError| HumitError::internal(e)))?;
    tracing::info!(%station_id, follow = on, "station follow");
    Ok(ok(answer(state, caller, station_id, position).await?))
}

/// Follows a station (following again changes nothing).
#[utoipa::path(
    post, path = "/api/stations/{station_id}/follow/", tag = "humit: stations",
    security(("humit" = [])),
    params(("station_id" = String, Path)),
    responses(
        (status = 200, description = "The station, followed", body = StationEnvelope),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 404, description = "STATION_DOES_NOT_EXIST", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id(), %station_id))]
pub async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> Result<Response, HumitError> {
    set_follow(&state, &caller, &station_id, true).await
}

/// Unfollows a station (when not following, nothing changes).
#[utoipa::path(
    delete, path = "/api/stations/{station_id}/follow/", tag = "humit: stations",
    security(("humit" = [])),
    params(("station_id" = String, Path)),
    responses(
        (status = 200, description = "The station, not followed", body = StationEnvelope),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 404, description = "STATION_DOES_NOT_EXIST", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id(), %station_id))]
pub async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> Result<Response, HumitError> {
    set_follow(&state, &caller, &station_id, false).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<NewStation, HumitError> {
        serde_json::from_value::<StationBody>(v).unwrap().parse()
    }

    #[test]
    fn station_fields_are_checked() {
        let s = parse(json!({"name": " Lo-fi ", "description": "beats"})).unwrap();
        assert_eq!(s.name, "Lo-fi");
        assert_eq!(s.image_url, "");
        assert_eq!(parse(json!({})).unwrap_err().code, codes::MISSING_FIELD);
        assert_eq!(
            parse(json!({"name": "x".repeat(81)})).unwrap_err().code,
            codes::INVALID_STATION
        );
        assert_eq!(
            parse(json!({"name": "x", "image_url": "javascript:alert(1)"}))
                .unwrap_err()
                .code,
            codes::INVALID_STATION
        );
        assert_eq!(
            parse(json!({"name": "x", "description": 5}))
                .unwrap_err()
                .code,
            codes::INVALID_STATION
        );
        assert!(parse(json!({"name": "x", "image_url": "https://img/x.jpg"})).is_ok());
    }

    #[test]
    fn implausible_ids_never_reach_the_store() {
        assert!(plausible_id("0f3a"));
        assert!(!plausible_id(""));
        assert!(!plausible_id("a:b"));
        assert!(!plausible_id(&"a".repeat(65)));
    }
}
