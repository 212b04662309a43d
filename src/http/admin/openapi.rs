//! The OpenAPI description of the admin API ([`AdminApi`]), merged into `/openapi.json` by
//! `crate::http::openapi`: its operations (tag `admin`, security scheme `admin`, a superuser's
//! Techfesia access token, declared there with the others) and the bodies of its answers,
//! which are the types the handlers serve ([`super::dto`]).

use utoipa::OpenApi;

use super::dto::{
    AdminErrorBody, AdminErrorItem, AggregateHistory, AggregateState, DeadLetterList, EventPage,
    ProjectionInfo, ProjectionList, RebuildAccepted, Redriven,
};
use super::{console, events, projections};
use crate::app::audit::{DeadLetter, Envelope, RebuildStatus};

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
)]
pub struct AdminApi;
