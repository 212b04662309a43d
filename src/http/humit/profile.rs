//! The registration form (`POST /api/users/profile/`) and the caller's profile
//! (`GET /api/users/profile/`).
//!
//! Registering claims the chosen handle (race-free: of many people claiming one handle at once,
//! exactly one wins), creates the user's humit playlist on Spotify, records `RegisterProfile`
//! (signup_stage 1), gives the provisional handle back, and credits the invite code's owner.

use aggregates::claim::ClaimKind;
use aggregates::user::{HumitProfile, User, UserCommand, UserError};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, Utc};
use rand::Rng;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::{notification_id, spotify_error};
use super::error::{codes, HumitError, Json};
use super::extract::Caller;
use super::openapi::{HumitErrorBody, ProfileEnvelope};
use super::users::referral_owner;
use super::{command_error, db, dto, ok, queries, uploads, validate};
use crate::identity;
use crate::state::AppState;
use crate::store::CommandContext;
use crate::store::{later, Commit};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/profile", get(show).post(register))
}

/// The registration form as sent. Every field is read loosely here and checked in
/// [`RegistrationBody::parse`], so each bad field gets its own code.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegistrationBody {
    /// `YYYY-M-D` (zero padding optional); age 13 to 120.
    #[serde(default)]
    #[schema(value_type = String, example = "1994-4-26")]
    date_of_birth: Value,
    /// The handle: 3 to 30 letters, digits, `_` and `.`; unique.
    #[serde(default)]
    #[schema(value_type = String, example = "Ftujklloo")]
    display_username: Value,
    /// A JSON string holding an object (`{"data": [...]}`), as Spotify gave it.
    #[serde(default)]
    #[schema(value_type = String, example = "{\"data\":[]}")]
    favourite_artists: Value,
    /// Split into `first_name` (first word) and `last_name` (the rest).
    #[serde(default)]
    #[schema(value_type = String, example = "Breakfree")]
    full_name: Value,
    /// Push notification id, or null.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    notification_id: Value,
    /// An invite code (number or string), or null.
    #[serde(default)]
    #[schema(value_type = Option<u64>, example = 598631)]
    referral_code: Value,
}

/// A valid registration form.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    date_of_birth: NaiveDate,
    handle: String,
    favourite_artists: Value,
    first_name: String,
    last_name: String,
    notification_id: Option<String>,
    referral_code: Option<String>,
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

/// `breakfree453280`: the first name's letters and digits (or the handle's), and six digits.
fn internal_username(first_name: &str, handle: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(20)
            .collect()
    };
    let mut base = clean(first_name);
    if base.is_empty() {
        base = clean(handle);
    }
    let digits = rand::thread_rng().gen_range(100_000..1_000_000);
    format!("{base}{digits}")
}

/// Creates the user's humit playlist on Spotify with their stored token ("" when the account
/// has no Spotify link).
async fn create_playlist(state: &AppState, user: &User) -> Result<String, HumitError> {
    let (Some(token), Some(spotify_id)) = (
        user.spotify_access_token(),
        user.provider_subject("spotify"),
    ) else {
        return Ok(String::new());
    };
    state
        .spotify
        .create_playlist(token, spotify_id, "humit", "Songs from humit")
        .await
        .map_err(spotify_error)
}

fn user_error(error: UserError) -> HumitError {
    match error {
        UserError::ProfileAlreadyRegistered => already_registered(),
        UserError::Disabled => HumitError::account_disabled(),
        UserError::NotFound => HumitError::user_does_not_exist(),
        other => HumitError::internal(other),
    }
}

fn already_registered() -> HumitError {
    HumitError::conflict(
        codes::PROFILE_ALREADY_REGISTERED,
        "The registration form was submitted already",
    )
}

/// Gives back a handle claimed for a registration that failed, unless the user holds it now
/// (a concurrent submission of theirs succeeded with it).
async fn release_unused(state: &AppState, user_id: &str, handle: &str, ctx: &CommandContext) {
    if let Ok(user) = identity::load_user(state, user_id).await {
        if ClaimKind::Username.claim_id(user.username()) == ClaimKind::Username.claim_id(handle) {
            return;
        }
    }
    identity::release(state, ClaimKind::Username, handle, user_id, ctx).await;
}

/// Registers the form; answers the last position reached.
async fn submit(
    state: &AppState,
    caller: &Caller,
    form: Registration,
) -> Result<Option<Commit>, HumitError> {
    let me = caller.user_id();
    let ctx = caller.ctx();
    let user = identity::load_user(state, me)
        .await
        .map_err(HumitError::internal)?;
    if !user.exists() {
        return Err(HumitError::user_does_not_exist());
    }
    if user.profile_registered() {
        return Err(already_registered());
    }
    let referrer = match &form.referral_code {
        None => None,
        Some(code) => match referral_owner(state, code).await? {
            Some(owner) if owner != me => Some(owner),
            Some(_) => {
                return Err(HumitError::invalid(
                    codes::INVALID_REFERRAL_CODE,
                    "You cannot use your own invite code",
                ))
            }
            None => return Err(HumitError::user_does_not_exist()),
        },
    };
    if !identity::claim(state, ClaimKind::Username, &form.handle, me, &ctx)
        .await
        .map_err(|e| match e {
            identity::IdentityError::Conflict => HumitError::concurrent(),
            other => HumitError::internal(other),
        })?
    {
        return Err(HumitError::username_taken());
    }
    let old_handle = user.username().to_string();
    let same_handle =
        ClaimKind::Username.claim_id(&old_handle) == ClaimKind::Username.claim_id(&form.handle);
    let registered = async {
        let playlist_id = create_playlist(state, &user).await?;
        let command = UserCommand::RegisterProfile {
            username: form.handle.clone(),
            profile: HumitProfile {
                date_of_birth: form.date_of_birth,
                favourite_artists: form.favourite_artists.clone(),
                notification_id: form
                    .notification_id
                    .clone()
                    .or_else(|| user.notification_id().map(str::to_string)),
                referred_by: referrer.clone(),
                playlist_id,
                internal_username: internal_username(&form.first_name, &form.handle),
            },
            first_name: form.first_name.clone(),
            last_name: form.last_name.clone(),
            now: Utc::now(),
        };
        state
            .commands
            .execute::<User>(me, command, &ctx)
            .await
            .map_err(|e| command_error(e, user_error))
    }
    .await;
    let mut position = match registered {
        Ok(position) => position,
        Err(error) => {
            if !same_handle {
                release_unused(state, me, &form.handle, &ctx).await;
            }
            return Err(error);
        }
    };
    if !same_handle {
        identity::release(state, ClaimKind::Username, &old_handle, me, &ctx).await;
    }
    if let Some(referrer) = &referrer {
        let command = UserCommand::CreditReferral {
            referred_user_id: me.to_string(),
            now: Utc::now(),
        };
        // The registration holds whatever happens here: a failed credit is logged, not
        // answered, so the client never retries a form that was accepted.
        match state
            .commands
            .execute::<User>(referrer, command, &ctx)
            .await
        {
            Ok(p) => position = later(position, p).await,
            Err(error) => tracing::error!(%error, %referrer, "failed to credit a referral"),
        }
    }
    tracing::info!(user_id = %me, handle = %form.handle, referred = referrer.is_some(), "humit profile registered");
    Ok(position)
}

/// The caller's profile after `position`, with any arrived upload applied first.
async fn answer(
    state: &AppState,
    caller: &Caller,
    position: Option<Commit>,
) -> Result<Response, HumitError> {
    let uploaded = uploads::reconcile(state, caller).await?;
    state
        .wait_for(later(position, uploaded).await, &["users", "social"])
        .await;
    let row = queries::user(&state.read_pool, caller.user_id(), caller.user_id())
        .await
        .map_err(db)?
        .ok_or_else(HumitError::user_does_not_exist)?;
    Ok(ok(dto::self_profile(&row)))
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
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id()))]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RegistrationBody>,
) -> Result<Response, HumitError> {
    let form = body.parse(Utc::now().date_naive())?;
    let position = submit(&state, &caller, form).await?;
    answer(&state, &caller, position).await
}

/// The caller's profile (an upload that arrived becomes `profile_pic_url` first).
#[utoipa::path(
    get, path = "/api/users/profile/", tag = "humit: registration",
    security(("humit" = [])),
    responses(
        (status = 200, description = "The caller's profile", body = ProfileEnvelope),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id()))]
pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Response, HumitError> {
    answer(&state, &caller, None).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
