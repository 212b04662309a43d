//! The OpenAPI description of the admin API ([`AdminApi`]), merged into `/openapi.json` by
//! `crate::http::openapi`: its operations (tag `admin`), the `admin` security scheme (a
//! superuser's Techfesia access token as a Bearer token) and the bodies of its answers, which
//! are the types the handlers serve ([`super::dto`]).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::dto::{
    AdminErrorBody, AdminErrorItem, AggregateHistory, AggregateState, DeadLetterList, EventPage,
    ProjectionInfo, ProjectionList, RebuildAccepted, Redriven,
};
use super::{console, events, projections};
use crate::app::audit::{DeadLetter, Envelope, RebuildStatus};

/// Adds the `admin` security scheme.
struct AdminSecurity;

impl Modify for AdminSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".into());
        bearer.description = Some(
            "Admin API: `Authorization: Bearer <access token>` of a superuser, from \
             `POST /auth/token/`"
                .into(),
        );
        components.add_security_scheme("admin", SecurityScheme::Http(bearer));
    }
}

/// The OpenAPI description of the admin API.
#[derive(OpenApi)]
#[openapi(
    paths(
        console::page,
        events::list, events::history, events::state_at,
        projections::list, projections::rebuild, projections::dead_letters,
        projections::redrive,
    ),
    components(schemas(
        AdminErrorBody, AdminErrorItem, Envelope, EventPage, AggregateHistory, AggregateState,
        RebuildStatus, ProjectionInfo, ProjectionList, RebuildAccepted, DeadLetter,
        DeadLetterList, Redriven,
    )),
    tags((name = "admin", description = "Admin API (superusers): audit trail, time travel, projections, dead letters")),
    modifiers(&AdminSecurity)
)]
pub struct AdminApi;
