//! `/users...`: list (staff), create, read, update, delete (staff), disable, profile picture
//! from a linked provider and auth modes; the privileges routes live in `privileges.rs`.
//!
//! Who may do what: a user acts on their own account; staff act on others as far as their
//! `user` privileges go (`read`, `update`, `delete`), and only on normal users; a superuser
//! may do everything, and only a superuser may change another staff member or superuser.
//! Reads come from the `rm_users` read model; writes are commands on the `User` aggregate,
//! answered once the read model has them.

use std::collections::BTreeMap;

use aggregates::claim::ClaimKind;
use aggregates::user::{Action, Role, UserCommand, UserDetails};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;

use super::dto::{
    present, AuthModesDto, CreateUserRequest, DetailDto, FieldErrorsDto, MessageDto, PageErrorDto,
    PictureRequest, UpdateUserRequest, UpdatedUserDto, UserDto, UserPageDto,
};
use super::extract::{anonymous, Caller, OptionalJson};
use super::query::{self, Filter, FilterError, UserRow};
use super::{validate, Json, TfError};
use crate::adapters::oauth::Provider;
use crate::identity::{self, NewUser};
use crate::state::AppState;
use crate::store::Commit;

/// The model name of users in staff privileges.
pub const USER_MODEL: &str = "user";
/// The page size of `GET /users` when none is asked for.
pub const DEFAULT_LIMIT: u64 = 10;
/// The largest page size of `GET /users`.
pub const MAX_LIMIT: u64 = 100;

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

/// Resolves `username` to the user `caller` may act on with `action`: themselves (when
/// `self_allowed`), or anyone when their privileges allow `action` on users. A caller
/// without the privilege learns nothing about other accounts (403 whether or not they exist).
pub(super) async fn target(
    state: &AppState,
    caller: &Caller,
    username: &str,
    action: Action,
    self_allowed: bool,
) -> Result<String, TfError> {
    let owner = identity::owner_of(state, ClaimKind::Username, username).await?;
    let privileged = caller.principal.may(USER_MODEL, action);
    match owner {
        Some(id) if self_allowed && id == caller.id() => Ok(id),
        Some(id) if privileged => Ok(id),
        None if privileged => Err(TfError::not_found()),
        _ => Err(TfError::forbidden()),
    }
}

/// Refuses when a non-superuser changes another account that is not a normal user: staff
/// may change, disable or delete normal users only; another staff member's or a superuser's
/// email, state or account takes a superuser. The role is read from the write side (never
/// stale).
async fn guard_rank(state: &AppState, caller: &Caller, user_id: &str) -> Result<(), TfError> {
    if caller.id() == user_id || caller.principal.role == Role::Superuser {
        return Ok(());
    }
    let user = identity::load_user(state, user_id).await?;
    if user.role() != Role::Normal {
        tracing::info!(caller = %caller.id(), target = %user_id, "staff may not change staff");
        return Err(TfError::forbidden());
    }
    Ok(())
}

/// The read-model row of `user_id`, waiting (bounded) for the projection to reach `position`.
pub(super) async fn row_after(
    state: &AppState,
    user_id: &str,
    position: Option<Commit>,
) -> Result<Option<UserRow>, TfError> {
    state.wait_for(position, &["users"]).await;
    query::by_id(&state.read_pool, user_id)
        .await
        .map_err(TfError::internal)
}

fn bad_request(errors: BTreeMap<String, String>) -> Result<(), TfError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(TfError::fields(StatusCode::BAD_REQUEST, errors))
    }
}

/// Lists users, staff only: `limit` (default 10, at most 100), 1-based `page`, and any other
/// camelCase field as an exact-match filter.
#[utoipa::path(
    get, path = "/users", tag = "users",
    params(
        ("limit" = Option<u64>, Query, description = "Page size (default 10, at most 100)"),
        ("page" = Option<u64>, Query, description = "1-based page (default 1)"),
        ("username" = Option<String>, Query, description = "Any user field (camelCase) filters by exact match"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserPageDto),
        (status = 400, description = "Page past the end", body = PageErrorDto),
        (status = 401, body = DetailDto), (status = 403, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, TfError> {
    if !caller.principal.may(USER_MODEL, Action::Read) {
        return Err(TfError::forbidden());
    }
    let mut limit = DEFAULT_LIMIT;
    let mut page: Option<String> = None;
    let mut filters = Vec::new();
    let mut errors = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "limit" => match value.parse::<u64>() {
                Ok(n) if n > 0 => limit = n.min(MAX_LIMIT),
                _ => {
                    errors.insert("limit".into(), "A positive integer is required.".into());
                }
            },
            "page" => page = Some(value.into_owned()),
            field => match Filter::parse(field, &value) {
                Ok(filter) => filters.push(filter),
                Err(FilterError::Unknown) => {
                    errors.insert(field.to_string(), "Unknown field.".into());
                }
                Err(FilterError::Invalid) => {
                    errors.insert(
                        field.to_string(),
                        "Enter a valid ISO 8601 date and time.".into(),
                    );
                }
            },
        }
    }
    bad_request(errors)?;
    let total = query::count(&state.read_pool, &filters)
        .await
        .map_err(TfError::internal)?;
    let total = u64::try_from(total).unwrap_or_default();
    let pages = total.div_ceil(limit).max(1);
    let current = match page.as_deref().map(str::parse::<u64>) {
        None => 1,
        Some(Ok(n)) if (1..=pages).contains(&n) => n,
        Some(_) => {
            let body = PageErrorDto {
                message: "This page does not exist".into(),
                page_size: limit,
                no_of_pages: pages,
            };
            return Ok((StatusCode::BAD_REQUEST, axum::Json(body)).into_response());
        }
    };
    let offset = (current - 1) * limit;
    let rows = query::page(
        &state.read_pool,
        &filters,
        i64::try_from(limit).unwrap_or(i64::MAX),
        i64::try_from(offset).unwrap_or(i64::MAX),
    )
    .await
    .map_err(TfError::internal)?;
    let body = UserPageDto {
        current_page: current,
        no_of_pages: pages,
        users: rows.iter().map(UserDto::from).collect(),
    };
    Ok(axum::Json(body).into_response())
}

/// Checks the free-text fields present in a request.
fn check_texts(fields: [(&str, &Option<String>); 5], errors: &mut BTreeMap<String, String>) {
    for ((name, value), (_, max)) in fields.into_iter().zip(validate::TEXT_FIELDS) {
        if let Some(value) = value {
            if let Err(message) = validate::text(value, max) {
                errors.insert(name.to_string(), message);
            }
        }
    }
}

/// Creates a password account. `username`, `email` and `password` are required.
#[utoipa::path(
    post, path = "/users/", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserDto),
        (status = 400, description = "Missing or invalid field", body = FieldErrorsDto),
        (status = 422, description = "Username or email taken", body = FieldErrorsDto),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<CreateUserRequest>,
) -> Result<(StatusCode, axum::Json<UserDto>), TfError> {
    let missing: Vec<&str> = [
        ("username", &body.username),
        ("email", &body.email),
        ("password", &body.password),
    ]
    .into_iter()
    .filter(|(_, v)| present(v).is_none())
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(TfError::missing(&missing));
    }
    let username = body.username.clone().unwrap_or_default().trim().to_string();
    let email = body.email.clone().unwrap_or_default().trim().to_string();
    let password = body.password.clone().unwrap_or_default();
    let mut errors = BTreeMap::new();
    if let Err(m) = validate::username(&username) {
        errors.insert("username".into(), m);
    }
    if let Err(m) = validate::email(&email) {
        errors.insert("email".into(), m);
    }
    if let Err(m) = validate::password(&password) {
        errors.insert("password".into(), m);
    }
    check_texts(
        [
            ("firstName", &body.first_name),
            ("lastName", &body.last_name),
            ("phoneNumber", &body.phone_number),
            ("collegeName", &body.college_name),
            ("profilePicture", &body.profile_picture),
        ],
        &mut errors,
    );
    bad_request(errors)?;
    let details = UserDetails {
        email: Some(email),
        first_name: body.first_name.unwrap_or_default(),
        last_name: body.last_name.unwrap_or_default(),
        phone_number: body.phone_number.unwrap_or_default(),
        college_name: body.college_name.unwrap_or_default(),
        profile_picture: body.profile_picture.unwrap_or_default(),
    };
    let new = NewUser {
        username: username.clone(),
        details: details.clone(),
        password: Some(password),
        identity: None,
        spotify_tokens: None,
        role: Role::Normal,
    };
    let (user_id, position) = identity::register(&state, new, &anonymous(&headers)).await?;
    tracing::info!(%user_id, ?position, "user created");
    state.sync_auth(position.clone()).await;
    let dto = match row_after(&state, &user_id, position).await? {
        Some(row) => UserDto::from(&row),
        // The read model is late beyond the wait: answer from what was just stored.
        None => UserDto {
            public_id: user_id,
            username,
            first_name: details.first_name,
            last_name: details.last_name,
            email: details.email,
            phone_number: details.phone_number,
            college_name: details.college_name,
            profile_picture: details.profile_picture,
            date_joined: super::dto::iso(chrono::Utc::now()),
            last_login: None,
        },
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
        (status = 401, body = DetailDto), (status = 403, body = DetailDto),
        (status = 404, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<UserDto>, TfError> {
    let user_id = target(&state, &caller, &username, Action::Read, true).await?;
    let row = query::by_id(&state.read_pool, &user_id)
        .await
        .map_err(TfError::internal)?
        .ok_or_else(TfError::not_found)?;
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
        (status = 400, body = FieldErrorsDto), (status = 401, body = DetailDto),
        (status = 403, body = DetailDto), (status = 404, body = DetailDto),
        (status = 422, description = "A field that may not change, or a taken email", body = FieldErrorsDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    Json(body): Json<UpdateUserRequest>,
) -> Result<axum::Json<UpdatedUserDto>, TfError> {
    let user_id = target(&state, &caller, &username, Action::Update, true).await?;
    guard_rank(&state, &caller, &user_id).await?;
    let user = identity::load_user(&state, &user_id).await?;
    if !user.exists() {
        return Err(TfError::not_found());
    }
    let mut frozen = BTreeMap::new();
    if body
        .username
        .as_deref()
        .is_some_and(|u| u != user.username())
    {
        frozen.insert("username".into(), "This field cannot be changed.".into());
    }
    if body.public_id.as_deref().is_some_and(|p| p != user_id) {
        frozen.insert("publicId".into(), "This field cannot be changed.".into());
    }
    if body.password.is_some() {
        frozen.insert(
            "password".into(),
            "The password cannot be changed here; use /users/<username>/password/.".into(),
        );
    }
    let mut errors = BTreeMap::new();
    let email = body.email.as_deref().map(str::trim);
    match email {
        Some("") => {
            errors.insert("email".into(), "This field may not be blank.".into());
        }
        Some(e) => {
            if let Err(m) = validate::email(e) {
                errors.insert("email".into(), m);
            }
        }
        None => {}
    }
    check_texts(
        [
            ("firstName", &body.first_name),
            ("lastName", &body.last_name),
            ("phoneNumber", &body.phone_number),
            ("collegeName", &body.college_name),
            ("profilePicture", &body.profile_picture),
        ],
        &mut errors,
    );
    bad_request(errors)?;
    if !frozen.is_empty() {
        return Err(TfError::fields(StatusCode::UNPROCESSABLE_ENTITY, frozen));
    }
    let current = user.details().clone();
    let details = UserDetails {
        email: email.map(str::to_string).or(current.email),
        first_name: body.first_name.unwrap_or(current.first_name),
        last_name: body.last_name.unwrap_or(current.last_name),
        phone_number: body.phone_number.unwrap_or(current.phone_number),
        college_name: body.college_name.unwrap_or(current.college_name),
        profile_picture: body.profile_picture.unwrap_or(current.profile_picture),
    };
    let position =
        identity::update_details(&state, &user_id, details.clone(), &caller.ctx()).await?;
    state.wait_for(position, &["users"]).await;
    Ok(axum::Json(UpdatedUserDto {
        public_id: user_id,
        username: user.username().to_string(),
        first_name: details.first_name,
        last_name: details.last_name,
        email: details.email,
        phone_number: details.phone_number,
        college_name: details.college_name,
        profile_picture: details.profile_picture,
    }))
}

/// Deletes a user for good (staff who may delete users). Their sessions end at once, their
/// row leaves every read model, and their username, email and identities become free.
#[utoipa::path(
    delete, path = "/users/{username}/", tag = "users",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = DetailDto), (status = 403, body = DetailDto),
        (status = 404, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<StatusCode, TfError> {
    let user_id = target(&state, &caller, &username, Action::Delete, false).await?;
    guard_rank(&state, &caller, &user_id).await?;
    let position = identity::delete_user(&state, &user_id, &caller.ctx()).await?;
    state.sync_auth(position.clone()).await;
    state.wait_for(position, &["users"]).await;
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
        (status = 401, body = DetailDto), (status = 403, body = DetailDto),
        (status = 404, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<MessageDto>, TfError> {
    let user_id = target(&state, &caller, &username, Action::Update, true).await?;
    guard_rank(&state, &caller, &user_id).await?;
    let command = UserCommand::Disable {
        now: chrono::Utc::now(),
    };
    let position = state
        .commands
        .execute::<aggregates::user::User>(&user_id, command, &caller.ctx())
        .await?;
    tracing::info!(%user_id, ?position, "user disabled");
    state.sync_auth(position.clone()).await;
    state.wait_for(position, &["users"]).await;
    Ok(axum::Json(MessageDto::new("User disabled")))
}

/// Takes the profile picture from a linked OAuth provider (the first linked one when the
/// body names none).
#[utoipa::path(
    put, path = "/users/{username}/picture", tag = "users",
    params(("username" = String, Path)),
    request_body = PictureRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = MessageDto),
        (status = 400, body = FieldErrorsDto), (status = 401, body = DetailDto),
        (status = 403, body = DetailDto), (status = 404, body = DetailDto),
        (status = 422, description = "No such linked provider, or it has no picture", body = FieldErrorsDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn picture(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    OptionalJson(body): OptionalJson<PictureRequest>,
) -> Result<axum::Json<MessageDto>, TfError> {
    let user_id = target(&state, &caller, &username, Action::Update, true).await?;
    guard_rank(&state, &caller, &user_id).await?;
    let provider = match body.unwrap_or_default().provider.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(
            Provider::parse(&name.to_lowercase())
                .ok_or_else(|| {
                    TfError::field(
                        StatusCode::BAD_REQUEST,
                        "provider",
                        "Unknown o-auth provider; use google, github, facebook or spotify.",
                    )
                })?
                .name()
                .to_string(),
        ),
    };
    let command = UserCommand::UseProviderPicture {
        provider,
        now: chrono::Utc::now(),
    };
    let position = state
        .commands
        .execute::<aggregates::user::User>(&user_id, command, &caller.ctx())
        .await?;
    state.wait_for(position, &["users"]).await;
    Ok(axum::Json(MessageDto::new("Profile Picture updated")))
}

/// How a user can sign in: password or not, and the linked providers.
#[utoipa::path(
    get, path = "/users/{username}/auth_modes", tag = "users",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuthModesDto),
        (status = 401, body = DetailDto), (status = 403, body = DetailDto),
        (status = 404, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn auth_modes(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<AuthModesDto>, TfError> {
    let user_id = target(&state, &caller, &username, Action::Read, true).await?;
    let row = query::by_id(&state.read_pool, &user_id)
        .await
        .map_err(TfError::internal)?
        .ok_or_else(TfError::not_found)?;
    let linked: Vec<String> = row
        .providers
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    // The providers in the API's order, then any other, by name.
    let mut o_auth: Vec<String> = Provider::ALL
        .iter()
        .map(|p| p.name().to_string())
        .filter(|p| linked.contains(p))
        .collect();
    let mut others: Vec<String> = linked
        .into_iter()
        .filter(|p| Provider::parse(p).is_none())
        .collect();
    others.sort();
    o_auth.extend(others);
    Ok(axum::Json(AuthModesDto {
        password: row.has_password,
        o_auth,
    }))
}
