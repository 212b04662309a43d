//! The OpenAPI description of the humit dialect ([`HumitApi`]), merged into `/openapi.json`
//! by `crate::http::openapi`. The envelopes it names live in [`super::dto::envelope`], which
//! the handlers import too.

use utoipa::OpenApi;

use super::dto::envelope::*;
use super::dto::{HumDto, OnboardEntry, PublicProfile, SelfProfile, StationDto};
use super::{auth, hums, people, profile, stations, uploads};

/// The OpenAPI description of the humit dialect.
#[derive(OpenApi)]
#[openapi(
    paths(
        auth::signup, auth::refresh,
        profile::check_username, profile::check_referral_code,
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
)]
pub struct HumitApi;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answers_published_schema_has_exactly_the_seed_fields() {
        // Which paths are published is checked against the served document by the
        // integration tests (`humit::auth`, `contract`); here, the fields of each answer.
        let components = HumitApi::openapi().components.unwrap();
        for (schema, fields) in super::super::dto::seed_fields() {
            let published = match components.schemas.get(&schema) {
                Some(utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(object))) => {
                    object.properties.keys().cloned().collect::<Vec<_>>()
                }
                _ => panic!("{schema} is not published as an object"),
            };
            assert_eq!(published, fields, "{schema}");
        }
    }
}
