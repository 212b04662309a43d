//! Parsing the `/users` wire input into the use cases' typed input: the list's query, the
//! sign-up body and the update body. Field errors come out in the Techfesia shape (a map of
//! field to message); the handlers in `users.rs` only call these, one use case, and map.

use std::collections::BTreeMap;

use aggregates::user::UserDetails;
use axum::http::StatusCode;

use super::dto::{CreateUserRequest, UpdateUserRequest};
use super::{validate, TfError};
use crate::app::accounts::{DetailsChange, Filter, FilterError};
use crate::app::{unless_invalid, Checked, FieldErrors};

/// The page size of `GET /users` when none is asked for.
pub const DEFAULT_LIMIT: u64 = 10;
/// The largest page size of `GET /users`.
pub const MAX_LIMIT: u64 = 100;

/// `GET /users?...`: the page size, the 1-based page (`Some(0)` for one that does not parse)
/// and the exact-match filters, or the fields that are wrong.
pub struct ListQuery {
    /// The page size.
    pub limit: u64,
    /// The page asked for.
    pub page: Option<u64>,
    /// The filters.
    pub filters: Checked<Vec<Filter>>,
}

impl ListQuery {
    /// Reads the raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
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
        Self {
            limit,
            page: page.map(|p| p.parse::<u64>().unwrap_or(0)),
            filters: unless_invalid(errors, || filters),
        }
    }
}

fn bad_request(errors: FieldErrors) -> Result<(), TfError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(TfError::fields(StatusCode::BAD_REQUEST, errors))
    }
}

/// Checks the free-text fields present in a request, in the order of
/// [`validate::TEXT_FIELDS`] (first name, last name, phone, college, picture).
fn check_texts(values: [&Option<String>; 5], errors: &mut BTreeMap<String, String>) {
    for (value, (name, max)) in values.into_iter().zip(validate::TEXT_FIELDS) {
        if let Some(value) = value {
            if let Err(message) = validate::text(value, max) {
                errors.insert(name.to_string(), message);
            }
        }
    }
}

impl CreateUserRequest {
    /// The username, the details and the password of a sign-up.
    ///
    /// # Errors
    /// 400 with every missing required field, else with every invalid one.
    pub fn parse(self) -> Result<(String, UserDetails, String), TfError> {
        TfError::require(&[
            ("username", &self.username),
            ("email", &self.email),
            ("password", &self.password),
        ])?;
        let username = self.username.clone().unwrap_or_default().trim().to_string();
        let email = self.email.clone().unwrap_or_default().trim().to_string();
        let password = self.password.clone().unwrap_or_default();
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
        let texts = [
            &self.first_name,
            &self.last_name,
            &self.phone_number,
            &self.college_name,
            &self.profile_picture,
        ];
        check_texts(texts, &mut errors);
        bad_request(errors)?;
        let details = UserDetails {
            email: Some(email),
            first_name: self.first_name.unwrap_or_default(),
            last_name: self.last_name.unwrap_or_default(),
            phone_number: self.phone_number.unwrap_or_default(),
            college_name: self.college_name.unwrap_or_default(),
            profile_picture: self.profile_picture.unwrap_or_default(),
        };
        Ok((username, details, password))
    }
}

impl UpdateUserRequest {
    /// The change of details, or the fields that are wrong (a blank or invalid email, a text
    /// too long). Fields that may not change are passed on: the use case refuses them.
    pub fn parse(self) -> Checked<DetailsChange> {
        let mut errors = BTreeMap::new();
        let email = self.email.as_deref().map(str::trim);
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
        let texts = [
            &self.first_name,
            &self.last_name,
            &self.phone_number,
            &self.college_name,
            &self.profile_picture,
        ];
        check_texts(texts, &mut errors);
        let email = email.map(str::to_string);
        unless_invalid(errors, || DetailsChange {
            username: self.username,
            public_id: self.public_id,
            password: self.password.is_some(),
            email,
            first_name: self.first_name,
            last_name: self.last_name,
            phone_number: self.phone_number,
            college_name: self.college_name,
            profile_picture: self.profile_picture,
        })
    }
}
