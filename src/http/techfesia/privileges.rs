//! `/users/<username>/privileges`: an account's state (`normal`, `staff` with per-model
//! privileges, `superuser`, `disabled`), read by staff and set by superusers only.

use aggregates::user::{Action, Privileges, Role};
use axum::extract::{Path, State};

use super::dto::{present, FieldErrorsDto, PrivilegesDto, SetPrivilegesRequest};
use super::extract::Caller;
use super::{Json, TfError};
use crate::app::accounts::{self, UserRow};
use crate::app::{Checked, FieldErrors};
use crate::state::AppState;

fn role_of(name: &str) -> Role {
    match name {
        "superuser" => Role::Superuser,
        "staff" => Role::Staff,
        _ => Role::Normal,
    }
}

fn privileges_view(row: &UserRow) -> PrivilegesDto {
    if row.disabled {
        return PrivilegesDto {
            state: "disabled".into(),
            privileges: None,
        };
    }
    match role_of(&row.role) {
        Role::Staff => PrivilegesDto {
            state: "staff".into(),
            privileges: Some(
                serde_json::from_value::<Privileges>(row.privileges.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(model, actions)| {
                        let actions = actions.into_iter().map(action_name).collect();
                        (model, actions)
                    })
                    .collect(),
            ),
        },
        Role::Superuser => PrivilegesDto {
            state: "superuser".into(),
            privileges: None,
        },
        Role::Normal => PrivilegesDto {
            state: "normal".into(),
            privileges: None,
        },
    }
}

fn action_name(action: Action) -> String {
    match action {
        Action::Read => "read",
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
    }
    .to_string()
}

fn parse_action(name: &str) -> Option<Action> {
    match name {
        "read" => Some(Action::Read),
        "create" => Some(Action::Create),
        "update" => Some(Action::Update),
        "delete" => Some(Action::Delete),
        _ => None,
    }
}

/// An account's state (`normal`, `staff` with its privileges, `superuser`, `disabled`);
/// staff who may read users only.
#[utoipa::path(
    get, path = "/users/{username}/privileges", tag = "users",
    params(("username" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = PrivilegesDto),
        super::schema::NeedsPermissionOnUser,
    )
)]
pub async fn privileges(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<axum::Json<PrivilegesDto>, TfError> {
    let row = accounts::privileges(&state, caller.app(), &username).await?;
    Ok(axum::Json(privileges_view(&row)))
}

/// Makes someone staff with per-model privileges, a superuser, or normal again; superusers
/// only, and not on their own account. Takes effect at once on the person's tokens. A body
/// with `privileges` and no `state` means staff.
#[utoipa::path(
    put, path = "/users/{username}/privileges", tag = "users",
    params(("username" = String, Path)),
    request_body = SetPrivilegesRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = PrivilegesDto),
        (status = 400, body = FieldErrorsDto), super::schema::NeedsPermissionOnUser,
        (status = 422, description = "A superuser changing their own role", body = FieldErrorsDto),
    )
)]
pub async fn set_privileges(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    Json(body): Json<SetPrivilegesRequest>,
) -> Result<axum::Json<PrivilegesDto>, TfError> {
    let change = parse_change(body);
    let row = accounts::set_privileges(&state, caller.app(), &username, change).await?;
    Ok(axum::Json(privileges_view(&row)))
}

fn invalid(field: &str, message: &str) -> FieldErrors {
    FieldErrors::from([(field.to_string(), message.to_string())])
}

/// The role and privileges a request asks for. Privileges alone mean staff: that is the
/// only state that has them.
fn parse_change(body: SetPrivilegesRequest) -> Checked<(Role, Privileges)> {
    let state_name = match (present(&body.state), &body.privileges) {
        (Some(s), _) => s.trim().to_lowercase(),
        (None, Some(_)) => "staff".to_string(),
        (None, None) => return Err(invalid("state", "missing required field")),
    };
    let role = match state_name.as_str() {
        "normal" => Role::Normal,
        "staff" => Role::Staff,
        "superuser" => Role::Superuser,
        _ => return Err(invalid("state", "Must be one of normal, staff, superuser.")),
    };
    let mut privileges = Privileges::new();
    if role == Role::Staff {
        for (model, actions) in body.privileges.unwrap_or_default() {
            let model = model.trim().to_string();
            if model.is_empty() || model.chars().count() > 64 {
                return Err(invalid(
                    "privileges",
                    "Model names must have 1 to 64 characters.",
                ));
            }
            if model.chars().any(char::is_control) {
                return Err(invalid(
                    "privileges",
                    "Model names may not contain control characters.",
                ));
            }
            let mut set = std::collections::BTreeSet::new();
            for action in actions {
                let parsed = parse_action(action.trim()).ok_or_else(|| {
                    invalid(
                        "privileges",
                        &format!("Unknown privilege {action:?} for {model:?}; use read, create, update or delete."),
                    )
                })?;
                set.insert(parsed);
            }
            privileges.insert(model, set);
        }
    }
    Ok((role, privileges))
}
