//! Stations: create (staff with `station: create`), discover by popularity, follow and unfollow.
//!
//! A station answers as `{station_id, name, description, image_url, number_of_followers,
//! number_of_hums, followed, created_at}` (see `docs/humit.md`). Following is the
//! `StationFollow` relation `<user_id>:<station_id>`; its counters are kept by the `social`
//! projection, exact under concurrent follows and unfollows.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::envelope::{
    BadPage, HumitErrorBody, NoSuchStation, SignedInOnly, StationEnvelope, StationPageEnvelope,
};
use super::error::{codes, HumitError, Json};
use super::extract::Caller;
use super::page::{Page, PageQuery};
use super::{created, dto, ok};
use crate::app::social;
use crate::state::AppState;

pub use crate::app::social::{NewStation, STATION_MODEL};

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

/// The longest station name.
pub const MAX_NAME: usize = 80;
/// The longest station description.
pub const MAX_DESCRIPTION: usize = 500;

/// `POST /api/stations/` as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StationBody {
    /// 1 to 80 characters, no control characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, max_length = 80, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$", example = "Lo-fi Beats")]
    name: Value,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    description: Value,
    /// An http(s) URL (up to 2048 characters), or empty.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2048, pattern = r"^(https?://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?)?$")]
    image_url: Value,
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

/// Creates a station: superusers, and staff with the `station: create` privilege.
#[utoipa::path(
    post, path = "/api/stations/", tag = "humit: stations",
    security(("humit" = [])),
    request_body = StationBody,
    responses(
        (status = 201, description = "Created", body = StationEnvelope),
        (status = 400, description = "MISSING_FIELD, INVALID_STATION", body = HumitErrorBody),
        SignedInOnly,
        (status = 403, description = "PERMISSION_DENIED", body = HumitErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<StationBody>,
) -> Result<Response, HumitError> {
    let row = social::create_station(&state, caller.app(), body.parse()).await?;
    Ok(created(dto::station(&row)))
}

/// Every station, most popular first (followers, then hums), with `followed` for the caller.
#[utoipa::path(
    get, path = "/api/stations/discover/", tag = "humit: stations",
    security(("humit" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page", body = StationPageEnvelope),
        BadPage,
        SignedInOnly,
    )
)]
pub async fn discover(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
) -> Result<Response, HumitError> {
    let (count, rows) = social::discover_stations(&state, caller.app(), page.window()).await?;
    Ok(ok(page.body(count, rows.iter().map(dto::station).collect())))
}

/// Follows a station (following again changes nothing).
#[utoipa::path(
    post, path = "/api/stations/{station_id}/follow/", tag = "humit: stations",
    security(("humit" = [])),
    params(("station_id" = String, Path)),
    responses(
        (status = 200, description = "The station, followed", body = StationEnvelope),
        SignedInOnly,
        NoSuchStation,
    )
)]
pub async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> Result<Response, HumitError> {
    let row = social::follow_station(&state, caller.app(), &station_id, true).await?;
    Ok(ok(dto::station(&row)))
}

/// Unfollows a station (when not following, nothing changes).
#[utoipa::path(
    delete, path = "/api/stations/{station_id}/follow/", tag = "humit: stations",
    security(("humit" = [])),
    params(("station_id" = String, Path)),
    responses(
        (status = 200, description = "The station, not followed", body = StationEnvelope),
        SignedInOnly,
        NoSuchStation,
    )
)]
pub async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(station_id): Path<String>,
) -> Result<Response, HumitError> {
    let row = social::follow_station(&state, caller.app(), &station_id, false).await?;
    Ok(ok(dto::station(&row)))
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
}
