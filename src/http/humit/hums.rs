//! Hums: a Spotify track a user shares to a station (`POST /api/hums/`), and a station's hums
//! (`GET /api/stations/<station_id>/hums/`). Posting needs onboarding done: at least three
//! stations followed, else 403 `ONBOARDING_INCOMPLETE`.
//!
//! A hum answers as `{hum_id, station_id, track_id, caption, user_id, user_handle,
//! created_at}`; it counts in its author's `number_of_hums` and its station's.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::envelope::{
    BadPage, HumEnvelope, HumPageEnvelope, HumitErrorBody, NoSuchStation, SignedInOnly,
};
use super::error::{codes, HumitError, Json};
use super::extract::Caller;
use super::page::{Page, PageQuery};
use super::{created, dto, ok};
use crate::app::social;
use crate::state::AppState;

pub use crate::app::social::NewHum;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/hums", post(post_hum))
        .route("/api/stations/{station_id}/hums", get(station_hums))
}

/// The longest caption.
pub const MAX_CAPTION: usize = 280;

/// `POST /api/hums/` as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HumBody {
    /// The station.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = r"\S")]
    station_id: Value,
    /// A Spotify track id, `spotify:track:<id>` or an `open.spotify.com/track/` link.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = r"^(spotify:track:|https://open\.spotify\.com/track/)?[A-Za-z0-9_-]{1,64}$", example = "4uLU6hMCjMI75M1A2tKUQC")]
    track_id: Value,
    /// Up to 280 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 280)]
    caption: Value,
}

/// A Spotify track id (base-62, 22 characters on Spotify; 1 to 64 letters, digits, `-` and
/// `_` accepted), also taken from `spotify:track:<id>` or
/// `https://open.spotify.com/track/<id>?...`.
pub fn track_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let id = raw
        .strip_prefix("spotify:track:")
        .or_else(|| {
            raw.strip_prefix("https://open.spotify.com/track/")
                .map(|rest| rest.split(['?', '/']).next().unwrap_or_default())
        })
        .unwrap_or(raw);
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| id.to_string())
}

impl HumBody {
    /// Checks the fields.
    ///
    /// # Errors
    /// 400 `MISSING_FIELD`, `INVALID_TRACK_ID`, `INVALID_CAPTION`.
    pub fn parse(&self) -> Result<NewHum, HumitError> {
        let station_id = match &self.station_id {
            Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => return Err(HumitError::missing_field("station_id")),
        };
        let track_id = match &self.track_id {
            Value::Null => return Err(HumitError::missing_field("track_id")),
            Value::String(s) if s.trim().is_empty() => {
                return Err(HumitError::missing_field("track_id"))
            }
            Value::String(s) => track_id(s),
            _ => None,
        }
        .ok_or_else(|| {
            HumitError::invalid(
                codes::INVALID_TRACK_ID,
                "track_id must be a Spotify track id",
            )
        })?;
        let caption = match &self.caption {
            Value::Null => String::new(),
            Value::String(s) => s.trim().to_string(),
            _ => {
                return Err(HumitError::invalid(
                    codes::INVALID_CAPTION,
                    "caption must be a string",
                ))
            }
        };
        if caption.chars().count() > MAX_CAPTION {
            return Err(HumitError::invalid(
                codes::INVALID_CAPTION,
                format!("caption must have at most {MAX_CAPTION} characters"),
            ));
        }
        Ok(NewHum {
            station_id,
            track_id,
            caption,
        })
    }
}

/// Shares a track to a station. Needs onboarding done (3 stations followed).
#[utoipa::path(
    post, path = "/api/hums/", tag = "humit: hums",
    security(("humit" = [])),
    request_body = HumBody,
    responses(
        (status = 201, description = "Posted", body = HumEnvelope),
        (status = 400, description = "MISSING_FIELD, INVALID_TRACK_ID, INVALID_CAPTION", body = HumitErrorBody),
        SignedInOnly,
        (status = 403, description = "ONBOARDING_INCOMPLETE", body = HumitErrorBody),
        NoSuchStation,
    )
)]
pub async fn post_hum(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<HumBody>,
) -> Result<Response, HumitError> {
    let hum = body.parse()?;
    let row = social::post_hum(&state, caller.app(), hum).await?;
    Ok(created(dto::hum(&row)))
}

/// A station's hums, newest first, without those of people the caller muted.
#[utoipa::path(
    get, path = "/api/stations/{station_id}/hums/", tag = "humit: stations",
    security(("humit" = [])),
    params(("station_id" = String, Path), PageQuery),
    responses(
        (status = 200, description = "A page", body = HumPageEnvelope),
        BadPage,
        SignedInOnly,
        NoSuchStation,
    )
)]
pub async fn station_hums(
    State(state): State<AppState>,
    caller: Caller,
    Path(station_id): Path<String>,
    page: Page,
) -> Result<Response, HumitError> {
    let (count, rows) =
        social::station_hums(&state, caller.app(), &station_id, page.window()).await?;
    Ok(ok(page.body(count, rows.iter().map(dto::hum).collect())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TRACK: &str = "4uLU6hMCjMI75M1A2tKUQC";

    #[test]
    fn track_ids_come_bare_as_uris_or_as_links() {
        assert_eq!(track_id(TRACK).as_deref(), Some(TRACK));
        assert_eq!(
            track_id(&format!("spotify:track:{TRACK}")).as_deref(),
            Some(TRACK)
        );
        assert_eq!(
            track_id(&format!("https://open.spotify.com/track/{TRACK}?si=abc")).as_deref(),
            Some(TRACK)
        );
        assert_eq!(track_id("t-1").as_deref(), Some("t-1"));
        assert_eq!(track_id("4uLU6hMCjMI75M1A2tKUQ!"), None);
        assert_eq!(track_id(&"x".repeat(65)), None);
        assert_eq!(track_id("a b"), None);
    }

    #[test]
    fn hum_fields_are_checked() {
        let parse = |v: Value| serde_json::from_value::<HumBody>(v).unwrap().parse();
        let hum = parse(json!({"station_id": "s1", "track_id": TRACK})).unwrap();
        assert_eq!(hum.caption, "");
        assert_eq!(
            parse(json!({"track_id": TRACK})).unwrap_err().code,
            codes::MISSING_FIELD
        );
        assert_eq!(
            parse(json!({"station_id": "s1", "track_id": "no spaces"}))
                .unwrap_err()
                .code,
            codes::INVALID_TRACK_ID
        );
        assert_eq!(
            parse(json!({"station_id": "s1", "track_id": TRACK, "caption": "c".repeat(281)}))
                .unwrap_err()
                .code,
            codes::INVALID_CAPTION
        );
    }
}
