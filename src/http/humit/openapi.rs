//! The OpenAPI description of the humit dialect ([`HumitApi`]), merged into `/openapi.json`
//! by `crate::http::openapi`. The envelopes it names live in [`super::dto::envelope`], which
//! the handlers import too.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::dto::envelope::*;
use super::dto::{HumDto, OnboardEntry, PublicProfile, SelfProfile, StationDto};
use super::{auth, hums, people, profile, stations, uploads, users};

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
