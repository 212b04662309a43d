//! What the OAuth providers say: the providers humit knows, the one [`ProviderProfile`] each
//! provider's "who am I" answer is read into, and why a provider could not vouch for a token.
//! The clients that ask ([`super::OAuthClient`], [`super::binding`]) build on these; the unit
//! tests below read each provider's real answer shapes.

use serde::Deserialize;
use serde_json::Value;

/// A supported OAuth provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Google (`/oauth2/v3/userinfo`).
    Google,
    /// GitHub (`/user`).
    Github,
    /// Facebook (`/me?fields=id,name,email,picture`).
    Facebook,
    /// Spotify (`/me`).
    Spotify,
}

impl Provider {
    /// Every provider, in the order the API lists them.
    pub const ALL: [Provider; 4] = [
        Provider::Google,
        Provider::Github,
        Provider::Facebook,
        Provider::Spotify,
    ];

    /// The provider named `name` (lower case, as in URLs and events).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The name used in URLs, events and claims.
    pub fn name(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Github => "github",
            Self::Facebook => "facebook",
            Self::Spotify => "spotify",
        }
    }
}

/// Who a provider says an access token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProfile {
    /// The provider.
    pub provider: Provider,
    /// The provider's stable id for the person.
    pub subject: String,
    /// Their email address, when the provider shares one.
    pub email: Option<String>,
    /// First name (or the whole display name when it cannot be split).
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// A handle to derive a username from (GitHub login, Spotify id, email local part...).
    pub handle_hint: Option<String>,
    /// Their picture, if any.
    pub picture_url: Option<String>,
}

/// Why a provider could not vouch for a token.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider refused the token (invalid, expired, revoked, wrong scope).
    #[error("the provider refused the access token")]
    Rejected,
    /// The provider could not be reached or failed.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider answered something without a usable identity.
    #[error("unexpected provider answer: {0}")]
    Malformed(String),
}

/// Splits a display name into first and last name at the last space.
fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_string(), last.trim().to_string()),
        None => (name.to_string(), String::new()),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn email_local_part(email: &Option<String>) -> Option<String> {
    email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .map(str::to_string)
}

/// Reads a provider's answer into a profile.
///
/// # Errors
/// [`OAuthError::Malformed`] when the answer has no subject.
pub fn parse_profile(provider: Provider, body: Value) -> Result<ProviderProfile, OAuthError> {
    let malformed = |e: serde_json::Error| OAuthError::Malformed(e.to_string());
    let profile = match provider {
        Provider::Google => {
            #[derive(Deserialize)]
            struct Google {
                sub: String,
                email: Option<String>,
                #[serde(default)]
                email_verified: bool,
                name: Option<String>,
                given_name: Option<String>,
                family_name: Option<String>,
                picture: Option<String>,
            }
            let g: Google = serde_json::from_value(body).map_err(malformed)?;
            // An unverified address is not the person's to claim.
            let email = non_empty(g.email).filter(|_| g.email_verified);
            let (first, last) = match (non_empty(g.given_name), non_empty(g.family_name)) {
                (None, None) => split_name(g.name.as_deref().unwrap_or_default()),
                (first, last) => (first.unwrap_or_default(), last.unwrap_or_default()),
            };
            ProviderProfile {
                provider,
                subject: g.sub,
                handle_hint: email_local_part(&email),
                email,
                first_name: first,
                last_name: last,
                picture_url: non_empty(g.picture),
            }
        }
        Provider::Github => {
            #[derive(Deserialize)]
            struct Github {
                id: Value,
                login: Option<String>,
                name: Option<String>,
                email: Option<String>,
                avatar_url: Option<String>,
            }
            let g: Github = serde_json::from_value(body).map_err(malformed)?;
            let (first, last) = split_name(g.name.as_deref().unwrap_or_default());
            ProviderProfile {
                provider,
                subject: id_string(&g.id)?,
                email: non_empty(g.email),
                first_name: first,
                last_name: last,
                handle_hint: non_empty(g.login),
                picture_url: non_empty(g.avatar_url),
            }
        }
        Provider::Facebook => {
            #[derive(Deserialize)]
            struct Facebook {
                id: Value,
                name: Option<String>,
                email: Option<String>,
                picture: Option<Value>,
            }
            let f: Facebook = serde_json::from_value(body).map_err(malformed)?;
            let (first, last) = split_name(f.name.as_deref().unwrap_or_default());
            let email = non_empty(f.email);
            let picture = f
                .picture
                .as_ref()
                .and_then(|p| p.pointer("/data/url"))
                .and_then(Value::as_str)
                .map(str::to_string);
            ProviderProfile {
                provider,
                subject: id_string(&f.id)?,
                handle_hint: email_local_part(&email)
                    .or_else(|| non_empty(f.name.clone()).map(|n| n.replace(' ', "_"))),
                email,
                first_name: first,
                last_name: last,
                picture_url: non_empty(picture),
            }
        }
        Provider::Spotify => {
            #[derive(Deserialize)]
            struct Image {
                url: Option<String>,
            }
            #[derive(Deserialize)]
            struct Spotify {
                id: String,
                display_name: Option<String>,
                email: Option<String>,
                #[serde(default)]
                images: Vec<Image>,
            }
            let s: Spotify = serde_json::from_value(body).map_err(malformed)?;
            let (first, last) = split_name(s.display_name.as_deref().unwrap_or_default());
            ProviderProfile {
                provider,
                handle_hint: Some(s.id.clone()),
                subject: s.id,
                email: non_empty(s.email),
                first_name: first,
                last_name: last,
                picture_url: s.images.into_iter().find_map(|i| non_empty(i.url)),
            }
        }
    };
    if profile.subject.trim().is_empty() {
        return Err(OAuthError::Malformed("empty subject".into()));
    }
    Ok(profile)
}

/// Provider ids come as strings (Google, Facebook, Spotify) or numbers (GitHub).
fn id_string(id: &Value) -> Result<String, OAuthError> {
    match id {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(OAuthError::Malformed(
            "id is neither a string nor a number".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn google_keeps_only_a_verified_email() {
        let p = parse_profile(
            Provider::Google,
            json!({"sub": "g1", "email": "a@b.c", "email_verified": true, "given_name": "Ann",
                   "family_name": "Lee", "picture": "https://g/p.jpg"}),
        )
        .unwrap();
        assert_eq!(p.subject, "g1");
        assert_eq!(p.email.as_deref(), Some("a@b.c"));
        assert_eq!(
            (p.first_name.as_str(), p.last_name.as_str()),
            ("Ann", "Lee")
        );
        assert_eq!(p.handle_hint.as_deref(), Some("a"));
        let p = parse_profile(
            Provider::Google,
            json!({"sub": "g1", "email": "a@b.c", "email_verified": false}),
        )
        .unwrap();
        assert_eq!(p.email, None);
    }

    #[test]
    fn github_ids_are_numbers_and_facebook_pictures_are_nested() {
        let p = parse_profile(
            Provider::Github,
            json!({"id": 42, "login": "octo", "name": "Octo Cat", "email": null,
                   "avatar_url": "https://gh/a.png"}),
        )
        .unwrap();
        assert_eq!(p.subject, "42");
        assert_eq!(p.handle_hint.as_deref(), Some("octo"));
        assert_eq!(
            (p.first_name.as_str(), p.last_name.as_str()),
            ("Octo", "Cat")
        );
        let p = parse_profile(
            Provider::Facebook,
            json!({"id": "fb1", "name": "Zed", "picture": {"data": {"url": "https://fb/p"}}}),
        )
        .unwrap();
        assert_eq!(p.picture_url.as_deref(), Some("https://fb/p"));
        assert_eq!(p.handle_hint.as_deref(), Some("Zed"));
    }

    #[test]
    fn spotify_takes_the_first_image_and_an_answer_without_id_is_malformed() {
        let p = parse_profile(
            Provider::Spotify,
            json!({"id": "sp1", "display_name": "DJ", "images": [{"url": "https://sp/1"}]}),
        )
        .unwrap();
        assert_eq!(p.picture_url.as_deref(), Some("https://sp/1"));
        assert!(matches!(
            parse_profile(Provider::Spotify, json!({"display_name": "x"})),
            Err(OAuthError::Malformed(_))
        ));
        assert!(matches!(
            parse_profile(Provider::Google, json!({"sub": " "})),
            Err(OAuthError::Malformed(_))
        ));
    }
}
