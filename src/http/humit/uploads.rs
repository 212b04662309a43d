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

use aggregates::user::{User, UserCommand, UserError};
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::error::{codes, AnyJson, HumitError};
use super::extract::Caller;
use super::openapi::{HumitErrorBody, UploadEnvelope, UploadedData, UploadedEnvelope};
use super::page::QueryParams;
use super::{command_error, ok};
use crate::adapters::storage::{
    parse_profile_key, profile_key, GrantError, LocalGrant, StoredObject, UploadRequest, JPEG,
    MAX_UPLOAD_EXPIRY,
};
use crate::identity;
use crate::state::AppState;
use crate::store::Commit;
use crate::store::{Actor, CommandContext};

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
    #[schema(value_type = String, example = "profile")]
    file_type: Option<String>,
}

fn storage_error(error: impl std::fmt::Display) -> HumitError {
    tracing::error!(%error, "storage failed");
    HumitError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        codes::STORAGE_UNAVAILABLE,
        "File storage is not available right now. Please try again",
    )
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
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID", body = HumitErrorBody),
        (status = 503, description = "STORAGE_UNAVAILABLE", body = HumitErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %caller.user_id()))]
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
    let upload_id = uuid::Uuid::new_v4().to_string();
    let key = profile_key(caller.user_id(), &upload_id);
    let request = UploadRequest {
        key: key.clone(),
        content_type: JPEG.to_string(),
        max_size: state.config.upload_limit as u64,
        expires_in: MAX_UPLOAD_EXPIRY,
    };
    let presigned = state
        .storage
        .presign_upload(&request)
        .await
        .map_err(storage_error)?;
    let command = UserCommand::StartProfilePictureUpload {
        upload_id: upload_id.clone(),
        key,
        expires_at: presigned.expires_at,
        now: Utc::now(),
    };
    state
        .commands
        .execute::<User>(caller.user_id(), command, &caller.ctx())
        .await
        .map_err(|e| command_error(e, user_error))?;
    tracing::info!(%upload_id, "profile picture upload started");
    Ok(ok(json!({"id": upload_id, "upload_url": presigned.url})))
}

fn user_error(error: UserError) -> HumitError {
    match error {
        UserError::Disabled | UserError::NotFound => HumitError::account_disabled(),
        other => HumitError::internal(other),
    }
}

/// Makes upload `upload_id` the user's picture. An upload that completed already is fine.
async fn complete(
    state: &AppState,
    user_id: &str,
    upload_id: &str,
    key: &str,
    ctx: &CommandContext,
) -> Result<Option<Commit>, HumitError> {
    let command = UserCommand::CompleteProfilePictureUpload {
        upload_id: upload_id.to_string(),
        url: state.storage.public_url(key),
        now: Utc::now(),
    };
    match state.commands.execute::<User>(user_id, command, ctx).await {
        Ok(position) => {
            tracing::info!(%user_id, %upload_id, "profile picture uploaded");
            Ok(position)
        }
        Err(crate::store::CommandError::Rejected(UserError::UploadNotFound)) => Ok(None),
        Err(e) => Err(command_error(e, user_error)),
    }
}

fn acceptable(object: &StoredObject, limit: u64) -> bool {
    let jpeg = object
        .content_type
        .as_deref()
        .is_some_and(|t| essence(t).eq_ignore_ascii_case(JPEG));
    jpeg && object.size > 0 && object.size <= limit
}

fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// How many pending uploads one reconciliation asks the store about.
const RECONCILE_MAX: usize = 3;

/// Completes the newest pending upload of the caller that the store now holds (and deletes
/// one that breaks the type or size rules). Storage failures are logged, not answered: the
/// profile still shows. Answers the position reached.
///
/// # Errors
/// Event store failures.
pub async fn reconcile(state: &AppState, caller: &Caller) -> Result<Option<Commit>, HumitError> {
    let user = identity::load_user(state, caller.user_id())
        .await
        .map_err(HumitError::internal)?;
    let now = Utc::now();
    let limit = state.config.upload_limit as u64;
    let candidates = user
        .pending_uploads()
        .into_iter()
        // An URL expired an hour ago can no longer bring anything.
        .filter(|(_, u)| u.expires_at + chrono::Duration::hours(1) > now)
        .take(RECONCILE_MAX);
    for (upload_id, pending) in candidates {
        match state.storage.head(&pending.key).await {
            Ok(Some(object)) if acceptable(&object, limit) => {
                return complete(
                    state,
                    caller.user_id(),
                    upload_id,
                    &pending.key,
                    &caller.ctx(),
                )
                .await;
            }
            Ok(Some(object)) => {
                tracing::warn!(%upload_id, size = object.size, content_type = ?object.content_type, "refused upload deleted");
                if let Err(error) = state.storage.delete(&pending.key).await {
                    tracing::warn!(%error, "failed to delete a refused upload");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, %upload_id, "storage check failed"),
        }
    }
    Ok(None)
}

fn grant(query: &QueryParams) -> Option<LocalGrant> {
    Some(LocalGrant {
        content_type: query.get("content_type")?.to_string(),
        max_size: query.get("max_size")?.parse().ok()?,
        expires: query.get("expires")?.parse().ok()?,
        signature: query.get("signature")?.to_string(),
    })
}

fn upload_url_invalid() -> HumitError {
    HumitError::new(
        StatusCode::FORBIDDEN,
        codes::UPLOAD_URL_INVALID,
        "This upload URL is not valid",
    )
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
#[tracing::instrument(skip_all, fields(%key))]
pub async fn receive_file(
    State(state): State<AppState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HumitError> {
    let store = state
        .local_files
        .clone()
        .ok_or_else(|| HumitError::not_found(codes::FILE_NOT_FOUND, "Not found"))?;
    let grant = grant(&QueryParams::parse(query.as_deref())).ok_or_else(upload_url_invalid)?;
    store
        .verify(&key, &grant, Utc::now())
        .map_err(|e| match e {
            GrantError::Expired => HumitError::new(
                StatusCode::FORBIDDEN,
                codes::UPLOAD_URL_EXPIRED,
                "This upload URL has expired. Please ask for a new one",
            ),
            GrantError::BadKey | GrantError::BadSignature => upload_url_invalid(),
        })?;
    let (user_id, upload_id) = parse_profile_key(&key).ok_or_else(upload_url_invalid)?;
    let sent_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(essence)
        .unwrap_or_default();
    if !sent_type.eq_ignore_ascii_case(&grant.content_type) {
        return Err(HumitError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::INVALID_CONTENT_TYPE,
            format!("The upload must be sent as {}", grant.content_type),
        ));
    }
    let limit = grant.max_size.min(state.config.upload_limit as u64);
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
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(HumitError::invalid(
            codes::INVALID_IMAGE,
            "The file is not a JPEG image",
        ));
    }
    store.write(&key, &bytes).await.map_err(storage_error)?;
    let ctx = CommandContext {
        actor: Actor::User {
            id: user_id.to_string(),
            role: "normal".into(),
        },
        request_id: crate::http::request_id(&headers),
    };
    let position = complete(&state, user_id, upload_id, &key, &ctx).await?;
    state.wait_for(position, &["users"]).await;
    Ok(ok(super::dto::to_value(&UploadedData {
        id: upload_id.to_string(),
        profile_pic_url: state.storage.public_url(&key),
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
    let not_found = || HumitError::not_found(codes::FILE_NOT_FOUND, "File not found");
    let store = state.local_files.clone().ok_or_else(not_found)?;
    if parse_profile_key(&key).is_none() {
        return Err(not_found());
    }
    let bytes = store
        .read(&key)
        .await
        .map_err(storage_error)?
        .ok_or_else(not_found)?;
    // Only ever an image: never sniffed as anything else, never framed, and should a browser
    // open it as a document, nothing in it may run.
    Ok((
        [
            (header::CONTENT_TYPE, JPEG),
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
