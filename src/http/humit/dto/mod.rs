//! The humit wire shapes, built from read-model rows: the caller's own profile, a public
//! profile (adds `followed` and `muted`), an onboarding entry (adds `member_since`), a station
//! and a hum. Field names and value conventions follow the seed document: `bio` is always
//! null, absent strings are `""`, ids are strings, dates are `YYYY-MM-DD`, timestamps RFC 3339
//! with microseconds and `Z`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

pub mod envelope;

use crate::app::social::{HumRow, StationRow, UserRow, ONBOARDING_STATIONS};

/// The seed's fields of each humit answer, by schema name (`tests/fixtures/humit-fields.json`,
/// which the integration tests read too): the one list the serializers, the published schemas
/// and the served answers are held to.
#[cfg(test)]
pub(crate) fn seed_fields() -> std::collections::BTreeMap<String, Vec<String>> {
    let text = include_str!("../../../../tests/fixtures/humit-fields.json");
    let mut all: std::collections::BTreeMap<String, Value> = serde_json::from_str(text).unwrap();
    all.remove("//");
    all.into_iter()
        .map(|(name, fields)| (name, serde_json::from_value(fields).unwrap()))
        .collect()
}

/// A timestamp as the seed writes it: `2020-02-09T16:02:05.931031Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn favourite_artists(row: &UserRow) -> Value {
    match &row.favourite_artists {
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({}),
    }
}

/// `true` when muted, else null (the seed shows `"muted": null` for someone not muted).
fn muted(row: &UserRow) -> Option<bool> {
    row.muted.then_some(true)
}

/// The caller's own profile (`GET`/`POST /api/users/profile/`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SelfProfile {
    /// Always null (humit has no bios yet).
    #[schema(value_type = Option<String>)]
    pub bio: Option<String>,
    /// ISO country code Spotify reports (`""` when unknown).
    #[schema(example = "IN")]
    pub country_name: String,
    /// `YYYY-MM-DD`; null before registration.
    #[schema(example = "1994-04-26")]
    pub date_of_birth: Option<String>,
    /// As given in the form, parsed (`{}` before registration).
    #[schema(value_type = Object, example = json!({"data": []}))]
    pub favourite_artists: Value,
    /// The first word of `full_name`.
    pub first_name: String,
    /// The first name's letters and six digits (`""` before registration).
    #[schema(example = "breakfree453280")]
    pub internal_username: String,
    /// The rest of `full_name` (`" "` for a one-word name).
    pub last_name: String,
    /// The push notification id (`""` when none).
    pub notification_id: String,
    /// People following this user.
    pub number_of_followers: i64,
    /// People this user follows.
    pub number_of_following: i64,
    /// Hums posted.
    pub number_of_hums: i64,
    /// Whether the user follows at least 3 stations (needed to hum).
    pub onboarding_done: bool,
    /// The humit playlist on Spotify (`""` before registration).
    pub playlist_id: String,
    /// The uploaded picture (`""` when none).
    pub profile_pic_url: String,
    /// Six digits, the user's invite code.
    #[schema(example = "255539")]
    pub referral_code: String,
    /// Whether the registration form was submitted.
    pub signup_done: bool,
    /// 0 before registration, 1 after.
    pub signup_stage: i32,
    /// Referral credits.
    pub tokens: i32,
    /// The unique handle.
    pub user_handle: String,
    /// Opaque id.
    pub user_id: String,
}

/// Someone else's profile (invite code lookup, people discovery, follow and mute answers).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicProfile {
    /// Always null.
    #[schema(value_type = Option<String>)]
    pub bio: Option<String>,
    /// ISO country code (`""` when unknown).
    pub country_name: String,
    /// Favourite artists (`{}` when none).
    #[schema(value_type = Object)]
    pub favourite_artists: Value,
    /// First name.
    pub first_name: String,
    /// Whether the caller follows them.
    pub followed: bool,
    /// Last name.
    pub last_name: String,
    /// `true` when the caller muted them, else null.
    pub muted: Option<bool>,
    /// Push notification id (`""` when none).
    pub notification_id: String,
    /// Followers.
    pub number_of_followers: i64,
    /// Following.
    pub number_of_following: i64,
    /// Hums posted.
    pub number_of_hums: i64,
    /// Picture (`""` when none).
    pub profile_pic_url: String,
    /// Their invite code.
    pub referral_code: String,
    /// Referral credits.
    pub tokens: i32,
    /// Handle.
    pub user_handle: String,
    /// Opaque id.
    pub user_id: String,
}

/// An entry of `GET /api/users/onboard/`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OnboardEntry {
    /// Always null.
    #[schema(value_type = Option<String>)]
    pub bio: Option<String>,
    /// ISO country code (`""` when unknown).
    pub country_name: String,
    /// Favourite artists (`{}` when none).
    #[schema(value_type = Object)]
    pub favourite_artists: Value,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// When they joined, RFC 3339 with microseconds.
    #[schema(example = "2020-02-09T16:02:05.931031Z")]
    pub member_since: String,
    /// `true` when the caller muted them, else null.
    pub muted: Option<bool>,
    /// Hums posted.
    pub number_of_hums: i64,
    /// Picture (`""` when none).
    pub profile_pic_url: String,
    /// Handle.
    pub user_handle: String,
    /// Opaque id.
    pub user_id: String,
}

/// A station.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StationDto {
    /// When it was created, RFC 3339 with microseconds.
    pub created_at: String,
    /// Description.
    pub description: String,
    /// Whether the caller follows it.
    pub followed: bool,
    /// Cover image (`""` when none).
    pub image_url: String,
    /// Display name.
    pub name: String,
    /// Followers.
    pub number_of_followers: i64,
    /// Hums posted to it.
    pub number_of_hums: i64,
    /// Opaque id.
    pub station_id: String,
}

/// A hum: a track shared to a station.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HumDto {
    /// The note (`""` when none).
    pub caption: String,
    /// When it was posted, RFC 3339 with microseconds.
    pub created_at: String,
    /// Opaque id.
    pub hum_id: String,
    /// The station.
    pub station_id: String,
    /// The Spotify track id.
    #[schema(example = "4uLU6hMCjMI75M1A2tKUQC")]
    pub track_id: String,
    /// The author's handle.
    pub user_handle: String,
    /// The author.
    pub user_id: String,
}

/// Serializes a response shape (plain structs of strings, numbers and JSON values).
pub fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The caller's own profile.
pub fn self_profile(row: &UserRow) -> Value {
    to_value(&SelfProfile {
        bio: None,
        country_name: row.country.clone().unwrap_or_default(),
        date_of_birth: row.date_of_birth.map(|d| d.format("%Y-%m-%d").to_string()),
        favourite_artists: favourite_artists(row),
        first_name: row.first_name.clone(),
        internal_username: row.internal_username.clone().unwrap_or_default(),
        last_name: row.last_name.clone(),
        notification_id: row.notification_id.clone().unwrap_or_default(),
        number_of_followers: row.followers,
        number_of_following: row.following,
        number_of_hums: row.hums,
        onboarding_done: row.stations >= ONBOARDING_STATIONS,
        playlist_id: row.playlist_id.clone().unwrap_or_default(),
        profile_pic_url: row.profile_picture.clone(),
        referral_code: row.referral_code.clone(),
        signup_done: row.signup_stage >= 1,
        signup_stage: row.signup_stage,
        tokens: row.tokens,
        user_handle: row.username.clone(),
        user_id: row.user_id.clone(),
    })
}

/// Someone else's profile.
pub fn public_profile(row: &UserRow) -> Value {
    to_value(&PublicProfile {
        bio: None,
        country_name: row.country.clone().unwrap_or_default(),
        favourite_artists: favourite_artists(row),
        first_name: row.first_name.clone(),
        followed: row.followed,
        last_name: row.last_name.clone(),
        muted: muted(row),
        notification_id: row.notification_id.clone().unwrap_or_default(),
        number_of_followers: row.followers,
        number_of_following: row.following,
        number_of_hums: row.hums,
        profile_pic_url: row.profile_picture.clone(),
        referral_code: row.referral_code.clone(),
        tokens: row.tokens,
        user_handle: row.username.clone(),
        user_id: row.user_id.clone(),
    })
}

/// An onboarding entry.
pub fn onboard_profile(row: &UserRow) -> Value {
    to_value(&OnboardEntry {
        bio: None,
        country_name: row.country.clone().unwrap_or_default(),
        favourite_artists: favourite_artists(row),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        member_since: timestamp(row.date_joined),
        muted: muted(row),
        number_of_hums: row.hums,
        profile_pic_url: row.profile_picture.clone(),
        user_handle: row.username.clone(),
        user_id: row.user_id.clone(),
    })
}

/// A station.
pub fn station(row: &StationRow) -> Value {
    to_value(&StationDto {
        created_at: timestamp(row.created_at),
        description: row.description.clone(),
        followed: row.followed,
        image_url: row.image_url.clone(),
        name: row.name.clone(),
        number_of_followers: row.followers,
        number_of_hums: row.hums,
        station_id: row.station_id.clone(),
    })
}

/// A hum.
pub fn hum(row: &HumRow) -> Value {
    to_value(&HumDto {
        caption: row.caption.clone(),
        created_at: timestamp(row.posted_at),
        hum_id: row.hum_id.clone(),
        station_id: row.station_id.clone(),
        track_id: row.track_id.clone(),
        user_handle: row.user_handle.clone().unwrap_or_default(),
        user_id: row.user_id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn row() -> UserRow {
        UserRow {
            user_id: "2751".into(),
            username: "Ftujklloo".into(),
            first_name: "Breakfree".into(),
            last_name: " ".into(),
            profile_picture: String::new(),
            referral_code: "255539".into(),
            signup_stage: 1,
            date_of_birth: NaiveDate::from_ymd_opt(1994, 4, 26),
            favourite_artists: Some(json!({"data": []})),
            notification_id: None,
            playlist_id: Some("07iff1phure10snDAETDOz".into()),
            internal_username: Some("breakfree453280".into()),
            country: Some("IN".into()),
            tokens: 0,
            date_joined: Utc.with_ymd_and_hms(2020, 2, 9, 16, 2, 5).unwrap()
                + chrono::Duration::microseconds(931_031),
            followers: 0,
            following: 0,
            hums: 0,
            stations: 0,
            followed: false,
            muted: false,
        }
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn the_profile_has_the_seed_fields_and_conventions() {
        let v = self_profile(&row());
        assert_eq!(keys(&v), seed_fields()["SelfProfile"]);
        assert_eq!(v["date_of_birth"], "1994-04-26");
        assert_eq!(v["notification_id"], "");
        assert!(v["bio"].is_null());
        assert_eq!(v["signup_done"], true);
        assert_eq!(v["user_id"], "2751");
    }

    #[test]
    fn public_and_onboard_entries_match_the_seed() {
        let v = public_profile(&row());
        assert_eq!(keys(&v), seed_fields()["PublicProfile"]);
        assert!(v["muted"].is_null());
        assert_eq!(v["followed"], false);
        let v = onboard_profile(&row());
        assert_eq!(v["member_since"], "2020-02-09T16:02:05.931031Z");
        assert_eq!(keys(&v), seed_fields()["OnboardEntry"]);
    }
}
