//! Input rules of the Techfesia dialect (Django's defaults, which the original API had):
//! usernames, email addresses, passwords and the length of free-text fields. Used by the
//! handlers and by `humit create-superuser`, so both accept the same accounts.

/// The longest username (Django's `max_length`).
pub const USERNAME_MAX: usize = 150;
/// The shortest password (Django's `MinimumLengthValidator`).
pub const PASSWORD_MIN: usize = 8;
/// The longest password accepted (bounds the hashing work).
pub const PASSWORD_MAX: usize = 1024;
/// The longest email address (RFC 5321).
pub const EMAIL_MAX: usize = 254;

/// Letters, digits and `@ . + - _`, at most 150 characters.
///
/// # Errors
/// The message for the client.
pub fn username(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if value.chars().count() > USERNAME_MAX {
        return Err(format!(
            "Ensure this field has no more than {USERNAME_MAX} characters."
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "@.+-_".contains(c))
    {
        return Err("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.".into());
    }
    Ok(())
}

/// A syntactically valid address (as lettre parses it), at most 254 characters.
///
/// # Errors
/// The message for the client.
pub fn email(value: &str) -> Result<(), String> {
    if value.len() > EMAIL_MAX || value.parse::<lettre::Address>().is_err() {
        return Err("Enter a valid email address.".into());
    }
    Ok(())
}

/// At least 8 and at most 1024 characters.
///
/// # Errors
/// The message for the client.
pub fn password(value: &str) -> Result<(), String> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!(
            "This password is too short. It must contain at least {PASSWORD_MIN} characters."
        ));
    }
    if len > PASSWORD_MAX {
        return Err(format!(
            "Ensure this field has no more than {PASSWORD_MAX} characters."
        ));
    }
    Ok(())
}

/// A free-text field of at most `max` characters.
///
/// # Errors
/// The message for the client.
pub fn text(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!(
            "Ensure this field has no more than {max} characters."
        ));
    }
    Ok(())
}

/// The free-text fields of a user and their maximum lengths.
pub const TEXT_FIELDS: [(&str, usize); 5] = [
    ("firstName", 150),
    ("lastName", 150),
    ("phoneNumber", 32),
    ("collegeName", 255),
    ("profilePicture", 2048),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_django() {
        assert!(username("test_user_001").is_ok());
        assert!(username("a.b+c-d@e").is_ok());
        assert!(username("").is_err());
        assert!(username("with space").is_err());
        assert!(username("slash/").is_err());
        assert!(username(&"x".repeat(151)).is_err());
    }

    #[test]
    fn emails_and_passwords() {
        assert!(email("test_user_001@testers.techfesia.iiits.in").is_ok());
        assert!(email("nope").is_err());
        assert!(email("a@").is_err());
        assert!(password("Hello World").is_ok());
        assert!(password("short").is_err());
        assert!(password(&"x".repeat(1025)).is_err());
    }
}
