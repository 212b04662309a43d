//! Reads of the `rm_users` read model (the app runs them on its read pool): one user by id,
//! and filtered, paged lists. The rows are written by [`super::UsersProjection`], beside this.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

/// A row of `rm_users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// The user id.
    pub user_id: String,
    /// The username.
    pub username: String,
    /// Email.
    pub email: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Phone.
    pub phone_number: String,
    /// College.
    pub college_name: String,
    /// Picture URL.
    pub profile_picture: String,
    /// Created.
    pub date_joined: DateTime<Utc>,
    /// Last sign-in.
    pub last_login: Option<DateTime<Utc>>,
    /// `normal`, `staff`, `superuser`.
    pub role: String,
    /// Staff privileges, `{model: [action]}`.
    pub privileges: serde_json::Value,
    /// Disabled.
    pub disabled: bool,
    /// Has a password.
    pub has_password: bool,
    /// Linked providers, `{provider: {...}}`.
    pub providers: serde_json::Value,
}

const COLUMNS: &str = "user_id, username, email, first_name, last_name, phone_number, \
    college_name, profile_picture, date_joined, last_login, role, privileges, disabled, \
    has_password, providers";

/// One user by id.
///
/// # Errors
/// Database errors.
pub async fn by_id(pool: &PgPool, user_id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "SELECT {COLUMNS} FROM rm_users WHERE user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// A list filter: a camelCase field and the value it must equal.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// A text column equal to a value.
    Text(&'static str, String),
    /// A timestamp column equal to an instant.
    Time(&'static str, DateTime<Utc>),
}

/// Why a filter could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// No such field.
    Unknown,
    /// The value does not parse (dates).
    Invalid,
}

impl Filter {
    /// The filter on camelCase `field` for `value`.
    ///
    /// # Errors
    /// [`FilterError`] for an unknown field or an unreadable date.
    pub fn parse(field: &str, value: &str) -> Result<Self, FilterError> {
        let column = match field {
            "publicId" => "user_id",
            "username" => "username",
            "firstName" => "first_name",
            "lastName" => "last_name",
            "email" => "email",
            "phoneNumber" => "phone_number",
            "collegeName" => "college_name",
            "profilePicture" => "profile_picture",
            "dateJoined" | "lastLogin" => {
                let at = DateTime::parse_from_rfc3339(value)
                    .map_err(|_| FilterError::Invalid)?
                    .with_timezone(&Utc);
                let column = if field == "dateJoined" {
                    "date_joined"
                } else {
                    "last_login"
                };
                return Ok(Self::Time(column, at));
            }
            _ => return Err(FilterError::Unknown),
        };
        Ok(Self::Text(column, value.to_string()))
    }
}

fn push_filters(builder: &mut QueryBuilder<'_, Postgres>, filters: &[Filter]) {
    builder.push(" WHERE true");
    for filter in filters {
        match filter {
            // Column names come from the fixed list above, never from the request.
            // Postgres text cannot hold NUL: no row has such a value (and the parameter
            // would be refused).
            Filter::Text(_, value) if value.contains('\0') => {
                builder.push(" AND false");
            }
            Filter::Text(column, value) => {
                builder.push(format!(" AND {column} = "));
                builder.push_bind(value.clone());
            }
            Filter::Time(column, at) => {
                builder.push(format!(" AND {column} = "));
                builder.push_bind(*at);
            }
        }
    }
}

/// How many users match `filters`.
///
/// # Errors
/// Database errors.
pub async fn count(pool: &PgPool, filters: &[Filter]) -> Result<i64, sqlx::Error> {
    let mut builder = QueryBuilder::new("SELECT count(*) FROM rm_users");
    push_filters(&mut builder, filters);
    builder.build_query_scalar().fetch_one(pool).await
}

/// The users matching `filters`, oldest first, `limit` of them after skipping `offset`.
///
/// # Errors
/// Database errors.
pub async fn page(
    pool: &PgPool,
    filters: &[Filter],
    limit: i64,
    offset: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let mut builder = QueryBuilder::new(format!("SELECT {COLUMNS} FROM rm_users"));
    push_filters(&mut builder, filters);
    builder.push(" ORDER BY date_joined, user_id LIMIT ");
    builder.push_bind(limit);
    builder.push(" OFFSET ");
    builder.push_bind(offset);
    builder.build_query_as().fetch_all(pool).await
}
