//! `/asyncapi.json`: the AsyncAPI 3.0 document of the public event stream, built by
//! [`crate::app::stream_contract`] from the event types themselves and kept in
//! `docs/asyncapi.json`.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::stream_contract;
use crate::state::AppState;

/// `/asyncapi.json`.
pub fn router() -> Router<AppState> {
    Router::new().route("/asyncapi.json", get(asyncapi_json))
}

/// The AsyncAPI 3.0 document of the event stream.
#[utoipa::path(
    get, path = "/asyncapi.json", tag = "ops",
    responses((status = 200, description = "The AsyncAPI 3.0 document of the event stream", content_type = "application/json", body = Object))
)]
pub async fn asyncapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        stream_contract::json(),
    )
        .into_response()
}
