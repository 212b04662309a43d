//! OAuth identity providers: asks Google, GitHub, Facebook or Spotify who an access token
//! belongs to, and turns each provider's answer into one [`ProviderProfile`].
//!
//! Each provider is reached at a configurable base URL (`HUMIT_GOOGLE_API_URL` and friends),
//! so tests run the real client against a local server. The access token goes out only in the
//! `Authorization` header (or to the provider's own token check) and is never logged. Before
//! the "who am I" call, the token is bound to humit's own client ([`super::binding`]).
//!
//! (Over 400 lines: the four providers' answers are read in one place, and a hundred lines
//! of that are the unit tests of those readings.)

use serde::Deserialize;
use serde_json::Value;

use super::binding::{self, ProviderClients};
use crate::config::Config;

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

/// Calls the providers' "who am I" endpoints.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    google: String,
    github: String,
    facebook: String,
    spotify: String,
    spotify_accounts: String,
    clients: ProviderClients,
}

fn base(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

impl OAuthClient {
    /// A client for the providers `config` points at, sharing `http`.
    pub fn new(http: reqwest::Client, config: &Config) -> Self {
        Self {
            http,
            google: base(&config.google_api_url),
            github: base(&config.github_api_url),
            facebook: base(&config.facebook_api_url),
            spotify: base(&config.spotify_api_url),
            spotify_accounts: base(&config.spotify_accounts_url),
            clients: ProviderClients::from_config(config),
        }
    }

    /// humit's own client at each provider.
    pub fn clients(&self) -> &ProviderClients {
        &self.clients
    }

    fn base_of(&self, provider: Provider) -> &str {
        match provider {
            Provider::Google => &self.google,
            Provider::Github => &self.github,
            Provider::Facebook => &self.facebook,
            Provider::Spotify => &self.spotify,
        }
    }

    /// Binds the token to humit's client at `provider` (when configured), then asks the
    /// provider who it belongs to. For Spotify, `refresh_token` is exchanged for an access
    /// token issued to humit, and that one identifies the person.
    ///
    /// # Errors
    /// [`OAuthError::Rejected`] for a token of another client, or one the provider refuses;
    /// otherwise as [`OAuthClient::userinfo`].
    #[tracing::instrument(skip_all, fields(provider = provider.name()))]
    pub async fn identify(
        &self,
        provider: Provider,
        access_token: &str,
        refresh_token: Option<&str>,
    ) -> Result<ProviderProfile, OAuthError> {
        if let (Provider::Spotify, Some(app)) = (provider, &self.clients.spotify) {
            let grant =
                binding::spotify_exchange(&self.http, app, &self.spotify_accounts, refresh_token)
                    .await?;
            return self.userinfo(provider, &grant.access_token).await;
        }
        let subject = binding::check(
            &self.http,
            &self.clients,
            provider,
            self.base_of(provider),
            access_token,
        )
        .await?;
        let profile = self.userinfo(provider, access_token).await?;
        if subject.as_ref().is_some_and(|s| *s != profile.subject) {
            tracing::warn!("the token check and the profile name different people");
            return Err(OAuthError::Rejected);
        }
        Ok(profile)
    }

    fn userinfo_url(&self, provider: Provider) -> String {
        match provider {
            Provider::Google => format!("{}/oauth2/v3/userinfo", self.google),
            Provider::Github => format!("{}/user", self.github),
            Provider::Facebook => format!("{}/me?fields=id,name,email,picture", self.facebook),
            Provider::Spotify => format!("{}/me", self.spotify),
        }
    }

    /// Asks `provider` who `access_token` belongs to.
    ///
    /// # Errors
    /// [`OAuthError::Rejected`] when the provider refuses the token,
    /// [`OAuthError::Unavailable`] when it cannot be reached or fails,
    /// [`OAuthError::Malformed`] when its answer carries no identity.
    #[tracing::instrument(skip(self, access_token), fields(provider = provider.name()))]
    pub async fn userinfo(
        &self,
        provider: Provider,
        access_token: &str,
    ) -> Result<ProviderProfile, OAuthError> {
        let response = self
            .http
            .get(self.userinfo_url(provider))
            .bearer_auth(access_token)
            .header(reqwest::header::USER_AGENT, "humit")
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| OAuthError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        if matches!(status.as_u16(), 400 | 401 | 403) {
            tracing::info!(%status, "provider refused the token");
            return Err(OAuthError::Rejected);
        }
        if !status.is_success() {
            return Err(OAuthError::Unavailable(format!("status {status}")));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| OAuthError::Malformed(e.without_url().to_string()))?;
        parse_profile(provider, body)
    }
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
