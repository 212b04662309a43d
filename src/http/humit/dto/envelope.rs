//! The humit envelopes, spelled out per answer for the OpenAPI document and the handlers:
//! `{"data": ..., "success": true}` and `{"display_error", "errors", "extra_data", "success"}`,
//! and the small data shapes only they carry.

use serde::Serialize;
use utoipa::ToSchema;

use super::{HumDto, OnboardEntry, PublicProfile, SelfProfile, StationDto};

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

/// The answer of every humit operation that needs a signed-in caller, named in the
/// operations' `responses(...)` next to their own rows.
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID")]
pub struct SignedInOnly(#[allow(dead_code)] HumitErrorBody);

/// The answer of every humit page operation to a bad `limit` or `offset`.
#[derive(utoipa::IntoResponses)]
#[response(status = 400, description = "INVALID_LIMIT, INVALID_OFFSET")]
pub struct BadPage(#[allow(dead_code)] HumitErrorBody);

/// The answer of every operation on a station that does not exist.
#[derive(utoipa::IntoResponses)]
#[response(status = 404, description = "STATION_DOES_NOT_EXIST")]
pub struct NoSuchStation(#[allow(dead_code)] HumitErrorBody);

/// The answer of every operation on a person who does not exist.
#[derive(utoipa::IntoResponses)]
#[response(status = 404, description = "USER_DOES_NOT_EXIST")]
pub struct NoSuchUser(#[allow(dead_code)] HumitErrorBody);

/// The answers of the operations that look an invite code up: no `code`, or nobody's.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum UnknownInviteCode {
    #[response(status = 400, description = "MISSING_PARAMETER")]
    Missing(HumitErrorBody),
    #[response(status = 404, description = "USER_DOES_NOT_EXIST")]
    Unknown(HumitErrorBody),
}
