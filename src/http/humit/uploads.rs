//! Profile picture uploads.
//!
//! - `POST /api/users/files/upload/` `{"file_type": "profile"}`: records
//!   `StartProfilePictureUpload` and answers `{"id", "upload_url"}`, a presigned `PUT` URL
//!   (`image/jpeg`, at most 5 minutes, key `profile_images/<user_id>/<id>.jpg`).
//! - With the local store: `PUT /api/files/<key>?content_type=&max_size=&expires=&signature=`
//!   receives the file (type, size, JPEG signature checked) and completes the upload at once;
//!   `GET /api/files/<key>` serves it.
//! - With S3: the upload completes when humit next sees the object there ([`reconcile`], run
//!   on `GET`/`POST /api/users/profile/`): a `HEAD` checks type and size first.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::dto::envelope::{
    HumitErrorBody, SignedInOnly, UploadEnvelope, UploadedData, UploadedEnvelope,
};
use super::error::{codes, AnyJson, HumitError};
use super::extract::Caller;
use super::ok;
use super::page::QueryParams;
use crate::app::profiles::{self, essence, Grant, PICTURE_TYPE};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users/files/upload", post(start_upload))
        .route("/api/files/{*key}", get(serve_file).put(receive_file))
}

/// `POST /api/users/files/upload/` as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadBody {
    /// `profile`.
    #[serde(default)]
    #[schema(value_type = FileType, required = true, example = "profile")]
    file_type: Option<String>,
}

/// The kinds of file a client may upload (documentation only).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum FileType {
    /// A profile picture (JPEG).
    Profile,
}

/// A presigned upload URL for a profile picture: `PUT` the JPEG there with
/// `Content-Type: image/jpeg` within 5 minutes; it then becomes `profile_pic_url`.
#[utoipa::path(
    post, path = "/api/users/files/upload/", tag = "humit: uploads",
    security(("humit" = [])),
    request_body = UploadBody,
    responses(
        (status = 200, description = "The upload id and URL", body = UploadEnvelope),
        (status = 400, description = "MISSING_FIELD, INVALID_FILE_TYPE", body = HumitErrorBody),
        SignedInOnly,
        (status = 429, description = "TOO_MANY_REQUESTS: more upload URLs than HUMIT_UPLOADS_PER_MINUTE (with Retry-After)", body = HumitErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = HumitErrorBody),
    )
)]
pub async fn start_upload(
    State(state): State<AppState>,
    caller: Caller,
    AnyJson(body): AnyJson<UploadBody>,
) -> Result<Response, HumitError> {
    match body.file_type.as_deref().map(str::trim) {
        Some("profile") => {}
        None | Some("") => return Err(HumitError::missing_field("file_type")),
        Some(_) => {
            return Err(HumitError::invalid(
                codes::INVALID_FILE_TYPE,
                "file_type must be profile",
            ))
        }
    }
    let upload = profiles::start_upload(&state, caller.app()).await?;
    Ok(ok(json!({"id": upload.id, "upload_url": upload.url})))
}

fn grant(query: &QueryParams) -> Option<Grant> {
    Some(Grant {
        content_type: query.get("content_type")?.to_string(),
        max_size: query.get("max_size")?.parse().ok()?,
        expires: query.get("expires")?.parse().ok()?,
        signature: query.get("signature")?.to_string(),
    })
}

fn file_too_large(limit: u64) -> HumitError {
    HumitError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        codes::FILE_TOO_LARGE,
        format!("The file is larger than {limit} bytes"),
    )
}

/// The embedded store's upload endpoint (the `upload_url` without S3). The signed URL is
/// the authorisation: no token.
#[utoipa::path(
    put, path = "/api/files/{key}", tag = "humit: uploads",
    params(
        ("key" = String, Path, description = "profile_images/<user_id>/<id>.jpg"),
        ("content_type" = String, Query, description = "Signed content type"),
        ("max_size" = u64, Query, description = "Signed size limit"),
        ("expires" = i64, Query, description = "Signed expiry (Unix seconds)"),
        ("signature" = String, Query, description = "HMAC-SHA256 of the above"),
    ),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses(
        (status = 200, description = "Stored; now the profile picture", body = UploadedEnvelope),
        (status = 400, description = "INVALID_IMAGE", body = HumitErrorBody),
        (status = 403, description = "UPLOAD_URL_INVALID, UPLOAD_URL_EXPIRED", body = HumitErrorBody),
        (status = 413, description = "FILE_TOO_LARGE", body = HumitErrorBody),
        (status = 415, description = "INVALID_CONTENT_TYPE", body = HumitErrorBody),
    )
)]
pub async fn receive_file(
    State(state): State<AppState>,
    Path(key): Path<String>,
    query: QueryParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HumitError> {
    let grant = grant(&query);
    let granted = profiles::grant_upload(&state, &key, grant)?;
    let sent_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(essence)
        .unwrap_or_default();
    if !sent_type.eq_ignore_ascii_case(&granted.content_type) {
        return Err(HumitError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::INVALID_CONTENT_TYPE,
            format!("The upload must be sent as {}", granted.content_type),
        ));
    }
    let limit = granted.limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(file_too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| file_too_large(limit))?;
    if !profiles::is_jpeg(&bytes) {
        return Err(HumitError::invalid(
            codes::INVALID_IMAGE,
            "The file is not a JPEG image",
        ));
    }
    let (id, profile_pic_url) =
        profiles::receive_upload(&state, granted, &bytes, crate::http::request_id(&headers))
            .await?;
    Ok(ok(super::dto::to_value(&UploadedData {
        id,
        profile_pic_url,
    })))
}

/// A picture of the embedded store (public, like an S3 object URL).
#[utoipa::path(
    get, path = "/api/files/{key}", tag = "humit: uploads",
    params(("key" = String, Path, description = "profile_images/<user_id>/<id>.jpg")),
    responses(
        (status = 200, description = "The JPEG", content_type = "image/jpeg", body = Vec<u8>),
        (status = 404, description = "FILE_NOT_FOUND", body = HumitErrorBody),
    )
)]
pub async fn serve_file(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, HumitError> {
    let bytes = profiles::read_file(&state, &key).await?;
    // Only ever an image: never sniffed as anything else, never framed, and should a browser
    // open it as a document, nothing in it may run.
    Ok((
        [
            (header::CONTENT_TYPE, PICTURE_TYPE),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; frame-ancestors 'none'; sandbox",
            ),
        ],
        bytes,
    )
        .into_response())
}
