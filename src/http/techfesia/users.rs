//! `/users...`: list (staff), create, read, update, delete (staff), disable, profile picture
//! from a linked provider and auth modes; the privileges routes live in `privileges.rs`, the
//! parsing of the list's query and of the bodies in `users_input.rs`.
//! Each handler parses the wire, calls one use case of [`crate::app::accounts`] (where the
//! policy lives), and maps the answer.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;

use super::dto::{
    AuthModesDto, CreateUserRequest, FieldErrorsDto, MessageDto, PageErrorDto, PictureRequest,
    UpdateUserRequest, UpdatedUserDto, UserDto, UserPageDto,
};
use super::extract::{anonymous, Caller, OptionalJson};
use super::users_input::ListQuery;
use super::{Json, TfError};
use crate::app::accounts;
use crate::app::sessions::Provider;
use crate::app::Error;
use crate::state::AppState;

pub use super::users_input::{DEFAULT_LIMIT, MAX_LIMIT};

/// The `/users` routes (trailing slashes are trimmed before routing).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route(
            "/users/{username}",
            get(read).put(update).delete(delete_user),
        )
        .route("/users/{username}/disable", put(disable))
        .route("/users/{username}/picture", put(picture))
        .route(
            "/users/{username}/privileges",
            get(super::privileges::privileges).put(super::privileges::set_privileges),
        )
        .route("/users/{username}/auth_modes", get(auth_modes))
}

/// Lists users, staff only: `limit` (default 10, at most 100), 1-based `page`, and any other
/// camelCase field as an exact-match filter.
#[utoipa::path(
    get, path = "/users", tag = "users",
    params(
        ("limit" = Option<String>, Query, pattern = r"^[0-9]*[1-9][0-9]*$", description = "Page size: a positive integer (default 10; sizes over 100 give 100)"),
        ("page" = Option<String>, Query, pattern = r"^[0-9]*[1-9][0-9]*$", description = "1-based page: a positive integer (default 1); a page past the last answers 400"),
        ("username" = Option<String>, Query, description = "Any user field (camelCase) filters by exact match"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserPageDto),
        (status = 400, description = "A page past the end, a bad `limit` or an unknown filter", body = super::schema::ListErrorDto),
        super::schema::NeedsPermission,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, TfError> {
    let ListQuery {
        limit,
        page,
        filters,
    } = ListQuery::parse(raw.as_deref());
    let found = match accounts::list(&state, caller.app(), filters, limit, page).await {
        Ok(found) => found,
        Err(Error::NoSuchPage { page_size, pages }) => {
            let body = PageErrorDto {
                message: "This page does not exist".into(),
                page_size,
                no_of_pages: pages,
            };
            return Ok((StatusCode::BAD_REQUEST, axum::Json(body)).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let body = UserPageDto {
        current_page: found.current,
        no_of_pages: found.pages,
        users: found.rows.iter().map(UserDto::from).collect(),
    };
    Ok(axum::Json(body).into_response())
}

/// Creates a password account. `username`, `email` and `password` are required.
#[utoipa::path(
    post, path = "/users", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserDto),
        (status = 400, description = "Missing or invalid field", body = FieldErrorsDto),
        (status = 422, description = "Username or email taken", body = FieldErrorsDto),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<CreateUserRequest>,
) -> Result<(StatusCode, axum::Json<UserDto>), TfError> {
    let (username, details, password) = body.parse()?;
    let (user_id, row) = accounts::sign_up(
        &state,
        username.clone(),
        details.clone(),
        password,
        &anonymous(&headers),
    )
    .await?;
    let dto = match row {
        Some(row) => UserDto::from(&row),
        // The read model is late beyond the wait: answer from what was just stored.
        None => UserDto::just_created(user_id, username, details),
    };
    Ok((StatusCode::CREATED, axum::Json(dto)))
}

/// One user: themselves, or anyone for staff who may read users.
#[utoipa::path(
    get, path = "/users/{username}", tag = "users",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserDto),
        super::schema::NeedsPermissionOnUser,
    )
)]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<UserDto>, TfError> {
    let row = accounts::read(&state, caller.app(), &username).await?;
    Ok(axum::Json(UserDto::from(&row)))
}

/// Updates personal details (fields left out keep their value). `username` and `publicId`
/// cannot change and the password is changed elsewhere: 422.
#[utoipa::path(
    put, path = "/users/{username}", tag = "users",
    params(("username" = String, Path)),
    request_body = UpdateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = UpdatedUserDto),
        (status = 400, body = FieldErrorsDto), super::schema::NeedsPermissionOnUser,
        (status = 422, description = "A field that may not change, or a taken email", body = FieldErrorsDto),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    Json(body): Json<UpdateUserRequest>,
) -> Result<axum::Json<UpdatedUserDto>, TfError> {
    let change = body.parse();
    let updated = accounts::update(&state, caller.app(), &username, change).await?;
    Ok(axum::Json(UpdatedUserDto::new(
        updated.user_id,
        updated.username,
        updated.details,
    )))
}

/// Deletes a user for good (staff who may delete users). Their sessions end at once, their
/// row leaves every read model, and their username, email and identities become free.
#[utoipa::path(
    delete, path = "/users/{username}", tag = "users",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        super::schema::NeedsPermissionOnUser,
    )
)]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<StatusCode, TfError> {
    accounts::delete(&state, caller.app(), &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables an account: no login, no action, every token dead at once. A user may disable
/// themselves; staff who may update users may disable others.
#[utoipa::path(
    put, path = "/users/{username}/disable", tag = "users",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = MessageDto),
        super::schema::NeedsPermissionOnUser,
    )
)]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<MessageDto>, TfError> {
    accounts::disable(&state, caller.app(), &username).await?;
    Ok(axum::Json(MessageDto::new("User disabled")))
}

/// Takes the profile picture from a linked OAuth provider (the first linked one when the
/// body names none).
#[utoipa::path(
    put, path = "/users/{username}/picture", tag = "users",
    params(("username" = String, Path)),
    request_body(content = Option<PictureRequest>, description = "Optional: without a body, the first linked provider"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = MessageDto),
        (status = 400, body = FieldErrorsDto), super::schema::NeedsPermissionOnUser,
        (status = 422, description = "No such linked provider, or it has no picture", body = FieldErrorsDto),
    )
)]
pub async fn picture(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    OptionalJson(body): OptionalJson<PictureRequest>,
) -> Result<axum::Json<MessageDto>, TfError> {
    let provider = match body.unwrap_or_default().provider.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) => Provider::parse(&name.to_lowercase())
            .map(Some)
            .ok_or_else(|| {
                BTreeMap::from([(
                    "provider".to_string(),
                    "Unknown o-auth provider; use google, github, facebook or spotify.".to_string(),
                )])
            }),
    };
    accounts::use_provider_picture(&state, caller.app(), &username, provider).await?;
    Ok(axum::Json(MessageDto::new("Profile Picture updated")))
}

/// How a user can sign in: password or not, and the linked providers.
#[utoipa::path(
    get, path = "/users/{username}/auth_modes", tag = "users",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuthModesDto),
        super::schema::NeedsPermissionOnUser,
    )
)]
pub async fn auth_modes(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<AuthModesDto>, TfError> {
    let modes = accounts::auth_modes(&state, caller.app(), &username).await?;
    Ok(axum::Json(AuthModesDto {
        password: modes.password,
        o_auth: modes.o_auth,
    }))
}
