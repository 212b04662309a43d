//! The registration form (`POST /api/users/profile/`), its checks (is a handle free: `GET
//! /api/users/username/`; whose is an invite code: `GET /api/users/referral_code/`, both read
//! from the claims on the write side, so never stale) and the caller's profile (`GET
//! /api/users/profile/`): the operations of the `humit: registration` tag.
//!
//! Registering claims the chosen handle (race-free: of many people claiming one handle at once,
//! exactly one wins), creates the user's humit playlist on Spotify, records `RegisterProfile`
//! (signup_stage 1), gives the provisional handle back, and credits the invite code's owner.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::auth::notification_id;
use super::dto::envelope::{
    EmptyEnvelope, HumitErrorBody, ProfileEnvelope, PublicProfileEnvelope, SignedInOnly,
    UnknownInviteCode,
};
use super::error::{codes, HumitError, Json};
use super::extract::Caller;
use super::page::{InviteCodeQuery, QueryParams};
use super::{dto, ok, validate};
use crate::app::profiles::{self, Registration};
use crate::app::social;
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users/profile", get(show).post(register))
        .route("/api/users/username", get(check_username))
        .route("/api/users/referral_code", get(check_referral_code))
}

/// The registration form as sent. Every field is read loosely here and checked in
/// [`RegistrationBody::parse`], so each bad field gets its own code.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegistrationBody {
    /// `YYYY-M-D` (zero padding optional) giving an age from 13 to 120. The pattern lists
    /// dates that do so until 2050 (1930 to 2012, days 1 to 28); any date in the age range is
    /// accepted.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = r"^(19[3-9][0-9]|200[0-9]|201[0-2])-(0?[1-9]|1[0-2])-(0?[1-9]|1[0-9]|2[0-8])$", example = "1994-4-26")]
    date_of_birth: Value,
    /// The handle: 3 to 30 letters, digits, `_`, `.` and `-`; unique.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = r"^[A-Za-z0-9_.-]{3,30}$", example = "Ftujklloo")]
    display_username: Value,
    /// A JSON string holding an object (`{"data": [...]}`), as Spotify gave it; the object
    /// itself, empty or null are accepted too.
    #[serde(default)]
    #[schema(schema_with = favourite_artists_schema)]
    favourite_artists: Value,
    /// 1 to 100 characters; split into `first_name` (first word) and `last_name` (the rest).
    #[serde(default)]
    #[schema(value_type = String, required = true, max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$", example = "Breakfree")]
    full_name: Value,
    /// Push notification id (up to 512 characters), or null.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 512)]
    notification_id: Value,
    /// A six-digit invite code (number or string), or null.
    #[serde(default)]
    #[schema(schema_with = referral_code_schema, example = 598631)]
    referral_code: Value,
}

/// `favourite_artists`: a JSON string holding `{"data": [...]}`, the object, empty or null.
fn favourite_artists_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let as_text = ObjectBuilder::new().schema_type(Type::String).pattern(Some(
        r#"^(\{"data": ?\[("[A-Za-z0-9 ]{1,40}"(, ?"[A-Za-z0-9 ]{1,40}")*)?\]\})?$"#,
    ));
    AnyOfBuilder::new()
        .item(as_text)
        .item(ObjectBuilder::new().schema_type(Type::Object))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .examples([serde_json::json!("{\"data\":[]}")])
        .into()
}

/// `referral_code`: six digits as a number or a string, empty or null for none.
fn referral_code_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(100_000))
                .maximum(Some(999_999)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^([0-9]{6})?$")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

fn string_field<'a>(
    value: &'a Value,
    name: &str,
    code: &'static str,
) -> Result<&'a str, HumitError> {
    match value {
        Value::Null => Err(HumitError::missing_field(name)),
        Value::String(s) if s.trim().is_empty() => Err(HumitError::missing_field(name)),
        Value::String(s) => Ok(s),
        _ => Err(HumitError::invalid(
            code,
            format!("{name} must be a string"),
        )),
    }
}

impl RegistrationBody {
    /// Checks every field (in the order of the seed's form).
    ///
    /// # Errors
    /// The first bad field's error.
    pub fn parse(&self, today: NaiveDate) -> Result<Registration, HumitError> {
        let date_of_birth = validate::date_of_birth(
            string_field(
                &self.date_of_birth,
                "date_of_birth",
                codes::INVALID_DATE_OF_BIRTH,
            )?,
            today,
        )?;
        let handle = validate::handle(string_field(
            &self.display_username,
            "display_username",
            codes::INVALID_USERNAME,
        )?)?;
        let favourite_artists = validate::favourite_artists(&self.favourite_artists)?;
        let (first_name, last_name) = validate::full_name(string_field(
            &self.full_name,
            "full_name",
            codes::INVALID_FULL_NAME,
        )?)?;
        Ok(Registration {
            date_of_birth,
            handle,
            favourite_artists,
            first_name,
            last_name,
            notification_id: notification_id(&self.notification_id)?,
            referral_code: validate::referral_code(&self.referral_code)?,
        })
    }
}

/// The registration form: claims the handle, creates the humit playlist on Spotify, sets
/// `signup_stage` 1 and credits the invite code's owner.
#[utoipa::path(
    post, path = "/api/users/profile/", tag = "humit: registration",
    security(("humit" = [])),
    request_body = RegistrationBody,
    responses(
        (status = 200, description = "Registered: the caller's profile", body = ProfileEnvelope),
        (status = 400, description = "MISSING_FIELD, INVALID_DATE_OF_BIRTH, INVALID_USERNAME, INVALID_FAVOURITE_ARTISTS, INVALID_FULL_NAME, INVALID_NOTIFICATION_ID, INVALID_REFERRAL_CODE", body = HumitErrorBody),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID, SPOTIFY_TOKEN_INVALID", body = HumitErrorBody),
        (status = 404, description = "USER_DOES_NOT_EXIST: nobody has that invite code", body = HumitErrorBody),
        (status = 409, description = "DISPLAY_USERNAME_NOT_UNIQUE, PROFILE_ALREADY_REGISTERED", body = HumitErrorBody),
        (status = 502, description = "SPOTIFY_UNAVAILABLE", body = HumitErrorBody),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RegistrationBody>,
) -> Result<Response, HumitError> {
    let form = body.parse(Utc::now().date_naive())?;
    let row = profiles::register(&state, caller.app(), form).await?;
    Ok(ok(dto::self_profile(&row)))
}

/// The caller's profile (an upload that arrived becomes `profile_pic_url` first).
#[utoipa::path(
    get, path = "/api/users/profile/", tag = "humit: registration",
    security(("humit" = [])),
    responses(
        (status = 200, description = "The caller's profile", body = ProfileEnvelope),
        SignedInOnly,
        (status = 404, description = "USER_DOES_NOT_EXIST: the account cannot be read (not yet in the read model right after sign-up, or deleted)", body = HumitErrorBody),
    )
)]
pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Response, HumitError> {
    let row = profiles::show(&state, caller.app()).await?;
    Ok(ok(dto::self_profile(&row)))
}

/// Whether a handle is free: `{}` when free (or already the caller's), 409
/// `DISPLAY_USERNAME_NOT_UNIQUE` when someone else has it (case-insensitive).
#[utoipa::path(
    get, path = "/api/users/username/", tag = "humit: registration",
    security(("humit" = [])),
    params(("username" = String, Query, description = "The handle to check: 3 to 30 letters, digits, `_`, `.` and `-`", pattern = r"^[A-Za-z0-9_.-]{3,30}$", example = "Rohit")),
    responses(
        (status = 200, description = "Free", body = EmptyEnvelope),
        (status = 400, description = "MISSING_PARAMETER, INVALID_USERNAME", body = HumitErrorBody),
        SignedInOnly,
        (status = 409, description = "DISPLAY_USERNAME_NOT_UNIQUE", body = HumitErrorBody),
    )
)]
pub async fn check_username(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Response, HumitError> {
    let wanted = query.require("username")?;
    // Any name someone holds (a Techfesia username may use more characters) is "taken";
    // a free one must also be a valid handle.
    profiles::check_handle(&state, caller.app(), wanted).await?;
    validate::handle(wanted)?;
    Ok(ok(json!({})))
}

/// Whose an invite code is: the owner's public profile, or 404 `USER_DOES_NOT_EXIST`.
#[utoipa::path(
    get, path = "/api/users/referral_code/", tag = "humit: registration",
    security(("humit" = [])),
    params(InviteCodeQuery),
    responses(
        (status = 200, description = "The owner", body = PublicProfileEnvelope),
        UnknownInviteCode,
        SignedInOnly,
    )
)]
pub async fn check_referral_code(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Response, HumitError> {
    let code = query.require("code")?;
    let row = social::referral_profile(&state, caller.app(), code).await?;
    Ok(ok(dto::public_profile(&row)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::profiles::internal_username;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn parse(v: Value) -> Result<Registration, HumitError> {
        serde_json::from_value::<RegistrationBody>(v)
            .unwrap()
            .parse(today())
    }

    fn seed_form() -> Value {
        json!({
            "date_of_birth": "1994-4-26",
            "display_username": "Ftujklloo",
            "favourite_artists": "{\"data\":[]}",
            "full_name": "Breakfree",
            "notification_id": null,
            "referral_code": 598631,
        })
    }

    #[test]
    fn the_seed_form_parses() {
        let form = parse(seed_form()).unwrap();
        assert_eq!(form.handle, "Ftujklloo");
        assert_eq!(form.first_name, "Breakfree");
        assert_eq!(form.last_name, " ");
        assert_eq!(form.favourite_artists, json!({"data": []}));
        assert_eq!(form.referral_code.as_deref(), Some("598631"));
        assert_eq!(form.date_of_birth.to_string(), "1994-04-26");
    }

    #[test]
    fn each_bad_field_has_its_code() {
        let with = |field: &str, value: Value| {
            let mut form = seed_form();
            form[field] = value;
            parse(form).unwrap_err().code
        };
        assert_eq!(
            with("date_of_birth", json!("soon")),
            codes::INVALID_DATE_OF_BIRTH
        );
        assert_eq!(
            with("date_of_birth", json!(1994)),
            codes::INVALID_DATE_OF_BIRTH
        );
        assert_eq!(with("date_of_birth", Value::Null), codes::MISSING_FIELD);
        assert_eq!(
            with("display_username", json!("a b")),
            codes::INVALID_USERNAME
        );
        assert_eq!(with("display_username", Value::Null), codes::MISSING_FIELD);
        assert_eq!(
            with("favourite_artists", json!("nope")),
            codes::INVALID_FAVOURITE_ARTISTS
        );
        assert_eq!(with("full_name", json!("")), codes::MISSING_FIELD);
        assert_eq!(with("full_name", json!(["x"])), codes::INVALID_FULL_NAME);
        assert_eq!(
            with("notification_id", json!(1)),
            codes::INVALID_NOTIFICATION_ID
        );
        assert_eq!(
            with("referral_code", json!("12")),
            codes::INVALID_REFERRAL_CODE
        );
    }

    #[test]
    fn internal_usernames_are_the_name_and_six_digits() {
        let name = internal_username("Breakfree", "Ftujklloo");
        assert!(name.starts_with("breakfree") && name.len() == 15, "{name}");
        let name = internal_username("émile", "Em_1");
        assert!(name.starts_with("mile"), "{name}");
    }
}
