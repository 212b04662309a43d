//! The OpenAPI description of the humit dialect ([`HumitApi`]), merged into `/openapi.json`
//! by `crate::http::openapi`. The success and error envelopes are spelled out per answer
//! (`{"data": ..., "success": true}`, `{"display_error", "errors", "extra_data", "success"}`).

use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::dto::{HumDto, OnboardEntry, PublicProfile, SelfProfile, StationDto};
use super::{auth, hums, people, profile, stations, uploads, users};

/// The data of a sign-up answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SignupData {
    /// humit access token (3600 s), sent as `Authorization: humit <token>`.
    pub humit_access_token: String,
    /// humit refresh token, for `POST /api/users/auth/token-refresh/`.
    pub humit_refresh_token: String,
    /// 0 until the registration form is submitted, then 1.
    pub signup_stage: i32,
    /// The Spotify access token given.
    pub spotify_access_token: String,
    /// The Spotify refresh token given.
    pub spotify_refresh_token: String,
}

/// The data of a token refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccessData {
    /// A new humit access token for the same session.
    pub humit_access_token: String,
}

/// An empty object: `{}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EmptyData {}

/// An upload URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UploadData {
    /// The upload id: the file is stored as `<id>.jpg`.
    pub id: String,
    /// Presigned `PUT` URL: `Content-Type: image/jpeg`, valid 5 minutes.
    pub upload_url: String,
}

/// A finished local upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UploadedData {
    /// The upload id.
    pub id: String,
    /// The user's new picture.
    pub profile_pic_url: String,
}

/// One error of the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HumitErrorItem {
    /// Stable code (`docs/humit-errors.md`).
    #[schema(example = "USER_DOES_NOT_EXIST")]
    pub code: String,
    /// Fit to show.
    #[schema(example = "User Does Not Exist")]
    pub message: String,
    /// Always `error`.
    #[schema(example = "error")]
    pub status: String,
}

/// Every humit error body (with a 4xx/5xx status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HumitErrorBody {
    /// The error to show.
    pub display_error: HumitErrorItem,
    /// The same error, in a list.
    pub errors: Vec<HumitErrorItem>,
    /// Always `{}`.
    pub extra_data: EmptyData,
    /// Always false.
    pub success: bool,
}

macro_rules! page {
    ($name:ident, $item:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
        pub struct $name {
            /// How many in all.
            pub count: i64,
            /// Absolute URL of the next page, or null.
            pub next: Option<String>,
            /// Absolute URL of the previous page, or null.
            pub previous: Option<String>,
            /// This page.
            pub results: Vec<$item>,
        }
    };
}

page!(StationPage, StationDto, "stations");
page!(PeoplePage, PublicProfile, "people");
page!(HumPage, HumDto, "hums");

macro_rules! envelope {
    ($name:ident, $data:ty) => {
        #[doc = concat!("`{\"data\": ", stringify!($data), ", \"success\": true}`.")]
        #[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
        pub struct $name {
            /// The answer.
            pub data: $data,
            /// Always true.
            pub success: bool,
        }
    };
}

envelope!(SignupEnvelope, SignupData);
envelope!(AccessEnvelope, AccessData);
envelope!(EmptyEnvelope, EmptyData);
envelope!(ProfileEnvelope, SelfProfile);
envelope!(PublicProfileEnvelope, PublicProfile);
envelope!(OnboardEnvelope, Vec<OnboardEntry>);
envelope!(UploadEnvelope, UploadData);
envelope!(UploadedEnvelope, UploadedData);
envelope!(StationEnvelope, StationDto);
envelope!(StationPageEnvelope, StationPage);
envelope!(PeoplePageEnvelope, PeoplePage);
envelope!(HumEnvelope, HumDto);
envelope!(HumPageEnvelope, HumPage);

/// Adds the `humit` security scheme: `Authorization: humit <access token>`.
struct HumitSecurity;

impl Modify for HumitSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "humit",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "humit app: `Authorization: humit <humit_access_token>` (the refresh token on \
                 `POST /api/users/auth/token-refresh/`)",
            ))),
        );
    }
}

/// The OpenAPI description of the humit dialect.
#[derive(OpenApi)]
#[openapi(
    paths(
        auth::signup, auth::refresh,
        users::check_username, users::check_referral_code,
        profile::register, profile::show,
        uploads::start_upload, uploads::receive_file, uploads::serve_file,
        stations::create, stations::discover, stations::follow, stations::unfollow,
        people::discover, people::onboard, people::follow, people::unfollow, people::mute,
        people::unmute,
        hums::post_hum, hums::station_hums,
    ),
    components(schemas(
        auth::SignupBody, profile::RegistrationBody, uploads::UploadBody, stations::StationBody,
        hums::HumBody,
        SelfProfile, PublicProfile, OnboardEntry, StationDto, HumDto,
        SignupData, AccessData, EmptyData, UploadData, UploadedData, HumitErrorItem,
        HumitErrorBody, StationPage, PeoplePage, HumPage,
        SignupEnvelope, AccessEnvelope, EmptyEnvelope, ProfileEnvelope, PublicProfileEnvelope,
        OnboardEnvelope, UploadEnvelope, UploadedEnvelope, StationEnvelope, StationPageEnvelope,
        PeoplePageEnvelope, HumEnvelope, HumPageEnvelope,
    )),
    tags(
        (name = "humit: auth", description = "Spotify sign-up and humit tokens"),
        (name = "humit: registration", description = "The registration form and its checks"),
        (name = "humit: uploads", description = "Profile pictures"),
        (name = "humit: stations", description = "Stations and their hums"),
        (name = "humit: people", description = "People to follow, follows, mutes"),
        (name = "humit: hums", description = "Tracks shared to stations"),
    ),
    modifiers(&HumitSecurity)
)]
pub struct HumitApi;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_has_every_humit_path_and_the_security_scheme() {
        let doc = HumitApi::openapi();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        for path in [
            "/api/users/auth/signup/",
            "/api/users/auth/token-refresh/",
            "/api/users/username/",
            "/api/users/referral_code/",
            "/api/users/files/upload/",
            "/api/users/profile/",
            "/api/stations/",
            "/api/stations/discover/",
            "/api/stations/{station_id}/follow/",
            "/api/stations/{station_id}/hums/",
            "/api/users/discover/",
            "/api/users/onboard/",
            "/api/users/{user_id}/follow/",
            "/api/users/{user_id}/mute/",
            "/api/hums/",
            "/api/files/{key}",
        ] {
            assert!(
                paths.iter().any(|p| *p == path),
                "{path} missing: {paths:?}"
            );
        }
        let components = doc.components.clone().unwrap();
        assert!(components.security_schemes.contains_key("humit"));
        assert!(components.schemas.contains_key("SelfProfile"));
        assert!(doc.to_json().is_ok());
    }
}
