//! Field rules of the humit dialect: what the edge accepts before anything becomes a command.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::error::{codes, HumitError};

/// Handles: 3 to 30 characters, ASCII letters, digits, `_`, `.` and `-`; unique
/// case-insensitively.
pub fn handle(raw: &str) -> Result<String, HumitError> {
    let handle = raw.trim();
    let ok = (3..=30).contains(&handle.len())
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(handle.to_string())
    } else {
        Err(HumitError::invalid(
            codes::INVALID_USERNAME,
            "A handle has 3 to 30 characters: letters, digits, _, . and -",
        ))
    }
}

/// The youngest age accepted.
pub const MIN_AGE: i32 = 13;
/// The oldest age accepted.
pub const MAX_AGE: i32 = 120;

/// A date of birth as `YYYY-M-D` (zero-padding optional, as the app sends `1994-4-26`),
/// giving an age from 13 to 120 on `today`.
pub fn date_of_birth(raw: &str, today: NaiveDate) -> Result<NaiveDate, HumitError> {
    let invalid = |message: &str| HumitError::invalid(codes::INVALID_DATE_OF_BIRTH, message);
    let parts: Vec<&str> = raw.trim().split('-').collect();
    let date = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) => {
            match (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) {
                (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d),
                _ => None,
            }
        }
        _ => None,
    }
    .ok_or_else(|| invalid("date_of_birth must be a date like 1994-04-26"))?;
    let mut age = today.year() - date.year();
    if (today.month(), today.day()) < (date.month(), date.day()) {
        age -= 1;
    }
    if date > today || !(MIN_AGE..=MAX_AGE).contains(&age) {
        return Err(invalid(&format!(
            "You must be between {MIN_AGE} and {MAX_AGE} years old"
        )));
    }
    Ok(date)
}

/// The longest full name.
pub const MAX_FULL_NAME: usize = 100;

/// A full name, split into first name (the first word) and last name (the rest). With a
/// single word the last name is `" "`, as the seed shows for `"Breakfree"`.
pub fn full_name(raw: &str) -> Result<(String, String), HumitError> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_FULL_NAME || name.chars().any(char::is_control)
    {
        return Err(HumitError::invalid(
            codes::INVALID_FULL_NAME,
            format!("full_name must have 1 to {MAX_FULL_NAME} characters"),
        ));
    }
    Ok(match name.split_once(' ') {
        Some((first, last)) => (first.to_string(), last.to_string()),
        None => (name, " ".to_string()),
    })
}

/// The largest favourite-artists document (bytes of JSON).
pub const MAX_FAVOURITE_ARTISTS: usize = 32 * 1024;

/// Favourite artists: a JSON *string* holding an object (`"{\"data\":[]}"`), or the object
/// itself; absent or null is `{}`.
pub fn favourite_artists(value: &Value) -> Result<Value, HumitError> {
    let invalid = || {
        HumitError::invalid(
            codes::INVALID_FAVOURITE_ARTISTS,
            "favourite_artists must be a JSON object, like {\"data\": []}",
        )
    };
    let parsed = match value {
        Value::Null => return Ok(Value::Object(Default::default())),
        Value::String(s) if s.trim().is_empty() => return Ok(Value::Object(Default::default())),
        Value::String(s) => {
            if s.len() > MAX_FAVOURITE_ARTISTS {
                return Err(invalid());
            }
            serde_json::from_str::<Value>(s).map_err(|_| invalid())?
        }
        other => other.clone(),
    };
    if !parsed.is_object() || parsed.to_string().len() > MAX_FAVOURITE_ARTISTS {
        return Err(invalid());
    }
    Ok(parsed)
}

/// A referral code as sent: a number, a string of digits, or null/empty for none.
/// `Ok(None)` when none; 400 `INVALID_REFERRAL_CODE` when not six digits.
pub fn referral_code(value: &Value) -> Result<Option<String>, HumitError> {
    let invalid = || {
        HumitError::invalid(
            codes::INVALID_REFERRAL_CODE,
            "This invite code does not exist",
        )
    };
    let code = match value {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) if n.is_u64() => n.to_string(),
        // JSON does not tell 598631 from 598631.0: an integral number is that integer.
        Value::Number(n)
            if n.as_f64()
                .is_some_and(|f| f.fract() == 0.0 && (0.0..1e6).contains(&f)) =>
        {
            format!("{}", n.as_f64().unwrap_or_default() as u64)
        }
        _ => return Err(invalid()),
    };
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(code))
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn handles() {
        assert_eq!(handle(" Ftujklloo ").unwrap(), "Ftujklloo");
        assert!(handle("a.b_c9").is_ok());
        assert!(handle("rohit-k").is_ok());
        for bad in ["ab", "has space", "émile", "x/y", &"z".repeat(31)] {
            assert_eq!(
                handle(bad).unwrap_err().code,
                codes::INVALID_USERNAME,
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_of_birth() {
        assert_eq!(
            date_of_birth("1994-4-26", today()).unwrap(),
            NaiveDate::from_ymd_opt(1994, 4, 26).unwrap()
        );
        assert!(date_of_birth("1994-04-26", today()).is_ok());
        for bad in [
            "1994-13-01",
            "1994-02-30",
            "26-04-1994",
            "yesterday",
            "",
            "2020-01-01",
            "2030-01-01",
            "1800-01-01",
        ] {
            assert_eq!(
                date_of_birth(bad, today()).unwrap_err().code,
                codes::INVALID_DATE_OF_BIRTH,
                "{bad}"
            );
        }
        // Thirteen today, not a day before.
        assert!(date_of_birth("2013-11-23", today()).is_ok());
        assert!(date_of_birth("2013-11-24", today()).is_err());
    }

    #[test]
    fn full_names() {
        assert_eq!(
            full_name("Breakfree").unwrap(),
            ("Breakfree".into(), " ".into())
        );
        assert_eq!(
            full_name("  Harshita   Prabha Rao ").unwrap(),
            ("Harshita".into(), "Prabha Rao".into())
        );
        assert!(full_name("   ").is_err());
        assert!(full_name(&"n".repeat(101)).is_err());
    }

    #[test]
    fn favourite_artists_are_an_object_or_a_string_holding_one() {
        assert_eq!(
            favourite_artists(&json!("{\"data\":[]}")).unwrap(),
            json!({"data": []})
        );
        assert_eq!(
            favourite_artists(&json!({"data": ["x"]})).unwrap(),
            json!({"data": ["x"]})
        );
        assert_eq!(favourite_artists(&Value::Null).unwrap(), json!({}));
        for bad in [json!("[1]"), json!("{bad"), json!(5), json!([1])] {
            assert!(favourite_artists(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn referral_codes() {
        assert_eq!(
            referral_code(&json!(598631)).unwrap().as_deref(),
            Some("598631")
        );
        assert_eq!(
            referral_code(&json!("598631")).unwrap().as_deref(),
            Some("598631")
        );
        assert_eq!(
            referral_code(&json!(598631.0)).unwrap().as_deref(),
            Some("598631")
        );
        assert_eq!(referral_code(&Value::Null).unwrap(), None);
        assert_eq!(referral_code(&json!("")).unwrap(), None);
        for bad in [
            json!(12),
            json!("abcdef"),
            json!(-598631),
            json!(1.5),
            json!(12345.0),
            json!(1e6),
            json!(true),
        ] {
            assert_eq!(
                referral_code(&bad).unwrap_err().code,
                codes::INVALID_REFERRAL_CODE
            );
        }
    }
}
