//! The `users` projection: one row per person in `rm_users`, serving both API dialects.

pub mod read;

use aggregates::session::SessionEvent;
use aggregates::user::{Role, UserDetails, UserEvent};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres};

use crate::{write, Envelope, Projection, ProjectionError};

/// Builds `rm_users` from `User` events (and logins, from `Session.SessionStarted`).
pub struct UsersProjection;

/// A login (`Session.SessionStarted`, or the user's own copy of it) moves `last_login`.
const LAST_LOGIN: &str = "UPDATE rm_users SET last_login = $2 WHERE user_id = $1";

/// Binds a person's details in their column order: email, first name, last name, phone
/// number, college, picture.
fn bind_details(
    query: Query<'_, Postgres, PgArguments>,
    details: UserDetails,
) -> Query<'_, Postgres, PgArguments> {
    query
        .bind(details.email)
        .bind(details.first_name)
        .bind(details.last_name)
        .bind(details.phone_number)
        .bind(details.college_name)
        .bind(details.profile_picture)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Normal => "normal",
        Role::Staff => "staff",
        Role::Superuser => "superuser",
    }
}

#[async_trait::async_trait]
impl Projection for UsersProjection {
    fn name(&self) -> &'static str {
        "users"
    }

    fn bindings(&self) -> &'static [&'static str] {
        &["User.#", "Session.SessionStarted"]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_users"]
    }

    async fn apply(&self, conn: &mut PgConnection, env: &Envelope) -> Result<(), ProjectionError> {
        if env.aggregate_type == "Session" {
            if let SessionEvent::SessionStarted { user_id, at, .. } =
                env.decode::<SessionEvent>()?
            {
                write::set(conn, LAST_LOGIN, &user_id, at).await?;
            }
            return Ok(());
        }
        if env.aggregate_type != "User" {
            return Ok(());
        }
        let id = env.aggregate_id.as_str();
        match env.decode::<UserEvent>()? {
            UserEvent::UserRegistered {
                user_id,
                username,
                details,
                referral_code,
                signup_method,
                role,
                at,
            } => {
                let insert = sqlx::query(
                    "INSERT INTO rm_users (user_id, username, email, first_name, last_name,
                        phone_number, college_name, profile_picture, referral_code, signup_method,
                        role, date_joined)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(user_id)
                .bind(username);
                bind_details(insert, details)
                    .bind(referral_code)
                    .bind(signup_method)
                    .bind(role_name(role))
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
            }
            UserEvent::PasswordSet { .. } => {
                write::touch(
                    conn,
                    "UPDATE rm_users SET has_password = true WHERE user_id = $1",
                    id,
                )
                .await?;
            }
            UserEvent::ProviderLinked {
                provider,
                subject,
                picture_url,
                ..
            } => {
                let link = serde_json::json!({ provider: {"subject": subject, "picture_url": picture_url} });
                write::set(
                    conn,
                    "UPDATE rm_users SET providers = providers || $2 WHERE user_id = $1",
                    id,
                    link,
                )
                .await?;
            }
            UserEvent::SpotifyTokensUpdated { country, .. } => {
                write::set(
                    conn,
                    "UPDATE rm_users SET country = COALESCE($2, country) WHERE user_id = $1",
                    id,
                    country,
                )
                .await?;
            }
            UserEvent::DetailsUpdated { details, .. } => {
                let update = sqlx::query(
                    "UPDATE rm_users SET email = $2, first_name = $3, last_name = $4,
                        phone_number = $5, college_name = $6, profile_picture = $7
                     WHERE user_id = $1",
                )
                .bind(id);
                bind_details(update, details).execute(&mut *conn).await?;
            }
            UserEvent::UsernameChanged { username, .. } => {
                write::set(
                    conn,
                    "UPDATE rm_users SET username = $2 WHERE user_id = $1",
                    id,
                    username,
                )
                .await?;
            }
            UserEvent::ProfileRegistered {
                profile,
                first_name,
                last_name,
                ..
            } => {
                sqlx::query(
                    "UPDATE rm_users SET date_of_birth = $2, favourite_artists = $3,
                        notification_id = $4, playlist_id = $5, internal_username = $6,
                        referred_by = $7, first_name = $8, last_name = $9, signup_stage = 1
                     WHERE user_id = $1",
                )
                .bind(id)
                .bind(profile.date_of_birth)
                .bind(profile.favourite_artists)
                .bind(profile.notification_id)
                .bind(profile.playlist_id)
                .bind(profile.internal_username)
                .bind(profile.referred_by)
                .bind(first_name)
                .bind(last_name)
                .execute(&mut *conn)
                .await?;
            }
            UserEvent::ProfilePictureChanged { url, .. }
            | UserEvent::ProfilePictureUploaded { url, .. } => {
                write::set(
                    conn,
                    "UPDATE rm_users SET profile_picture = $2 WHERE user_id = $1",
                    id,
                    url,
                )
                .await?;
            }
            UserEvent::SessionStarted { at, .. } => {
                write::set(conn, LAST_LOGIN, id, at).await?;
            }
            UserEvent::RoleChanged {
                role, privileges, ..
            } => {
                let privileges = serde_json::to_value(privileges)
                    .map_err(|e| ProjectionError::Invalid(e.to_string()))?;
                sqlx::query("UPDATE rm_users SET role = $2, privileges = $3 WHERE user_id = $1")
                    .bind(id)
                    .bind(role_name(role))
                    .bind(privileges)
                    .execute(&mut *conn)
                    .await?;
            }
            UserEvent::UserDisabled { .. } => {
                write::touch(
                    conn,
                    "UPDATE rm_users SET disabled = true WHERE user_id = $1",
                    id,
                )
                .await?;
            }
            UserEvent::UserDeleted { .. } => {
                write::touch(conn, "DELETE FROM rm_users WHERE user_id = $1", id).await?;
            }
            UserEvent::ReferralCredited { .. } => {
                write::touch(
                    conn,
                    "UPDATE rm_users SET tokens = tokens + 1 WHERE user_id = $1",
                    id,
                )
                .await?;
            }
            UserEvent::NotificationIdChanged {
                notification_id, ..
            } => {
                write::set(
                    conn,
                    "UPDATE rm_users SET notification_id = $2 WHERE user_id = $1",
                    id,
                    notification_id,
                )
                .await?;
            }
            UserEvent::SessionRevoked { .. }
            | UserEvent::AllSessionsRevoked { .. }
            | UserEvent::PasswordResetRequested { .. }
            | UserEvent::ProfilePictureUploadStarted { .. } => {}
        }
        Ok(())
    }
}
