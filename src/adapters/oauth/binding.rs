//! Binds a provider's token to humit's own OAuth client before anyone is signed in with it
//! (issue 11, finding 1). A token another app collected says who the person is to *that*
//! app; only a token issued to humit's client may sign into humit.
//!
//! - Google: `POST {google}/oauth2/v3/tokeninfo`; `aud` or `azp` must be one of
//!   `HUMIT_GOOGLE_CLIENT_ID`.
//! - Facebook: `GET {facebook}/debug_token` with the app token (`id|secret`); the token must
//!   be valid and its `app_id` humit's.
//! - GitHub: `POST {github}/applications/{client_id}/token` with the client id and secret
//!   (basic auth); GitHub answers 404 for a token of any other OAuth app.
//! - Spotify (no introspection endpoint): the refresh token the app sends is exchanged at
//!   `{accounts}/api/token` with humit's client credentials; Spotify refuses a refresh token
//!   issued to another client. The access token that exchange returns is the one used.
//!
//! A provider without configured credentials stays unbound (the embedded default, for
//! development): start-up logs a warning and `/ready` reports it as `unverified`.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::profile::{OAuthError, Provider};
use crate::config::Config;

/// A client id and secret.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client (app) id.
    pub id: String,
    /// The client (app) secret: `Debug` prints it redacted, so it is never logged.
    pub secret: SecretString,
}

/// humit's own client at each provider, as configured.
#[derive(Debug, Clone, Default)]
pub struct ProviderClients {
    /// Google client ids (web, Android, iOS: all humit's).
    pub google: Vec<String>,
    /// The GitHub OAuth app.
    pub github: Option<ClientCredentials>,
    /// The Facebook app.
    pub facebook: Option<ClientCredentials>,
    /// The Spotify app.
    pub spotify: Option<ClientCredentials>,
}

fn pair(id: &Option<String>, secret: &Option<String>) -> Option<ClientCredentials> {
    let id = id.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let secret = secret.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    Some(ClientCredentials {
        id: id.to_string(),
        secret: secret.into(),
    })
}

impl ProviderClients {
    /// The clients `config` names.
    pub fn from_config(config: &Config) -> Self {
        Self {
            google: config
                .google_client_id
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            github: pair(&config.github_client_id, &config.github_client_secret),
            facebook: pair(&config.facebook_app_id, &config.facebook_app_secret),
            spotify: pair(&config.spotify_client_id, &config.spotify_client_secret),
        }
    }

    /// Whether tokens of `provider` are bound to humit's client.
    pub fn verified(&self, provider: Provider) -> bool {
        match provider {
            Provider::Google => !self.google.is_empty(),
            Provider::Github => self.github.is_some(),
            Provider::Facebook => self.facebook.is_some(),
            Provider::Spotify => self.spotify.is_some(),
        }
    }
}

/// Tokens Spotify's accounts service minted for humit's client.
#[derive(Debug, Clone, Deserialize)]
pub struct SpotifyGrant {
    /// A fresh access token, issued to humit.
    pub access_token: String,
    /// A rotated refresh token, when Spotify rotates it.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

fn unavailable(e: reqwest::Error) -> OAuthError {
    OAuthError::Unavailable(e.without_url().to_string())
}

/// Reads a check's answer: 400/401/403/404/422 are a refusal, any other failure an outage.
async fn checked<T: serde::de::DeserializeOwned>(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, OAuthError> {
    let response = response.map_err(unavailable)?;
    let status = response.status();
    if matches!(status.as_u16(), 400 | 401 | 403 | 404 | 422) {
        tracing::warn!(%status, "the provider says the token is not humit's");
        return Err(OAuthError::Rejected);
    }
    if !status.is_success() {
        return Err(OAuthError::Unavailable(format!("status {status}")));
    }
    response
        .json()
        .await
        .map_err(|e| OAuthError::Malformed(e.without_url().to_string()))
}

/// Checks that `access_token` was issued to humit's client at `provider` (base URL `base`).
/// Answers the provider's subject when the check names one (compared with the profile
/// later), `None` when the provider is not configured (nothing checked).
///
/// Spotify is not checked here: its tokens are bound by [`spotify_exchange`].
///
/// # Errors
/// [`OAuthError::Rejected`] for a token of another client.
pub async fn check(
    http: &reqwest::Client,
    clients: &ProviderClients,
    provider: Provider,
    base: &str,
    access_token: &str,
) -> Result<Option<String>, OAuthError> {
    match provider {
        Provider::Google if !clients.google.is_empty() => {
            #[derive(Deserialize)]
            struct TokenInfo {
                aud: Option<String>,
                azp: Option<String>,
                sub: Option<String>,
            }
            let info: TokenInfo = checked(
                http.post(format!("{base}/oauth2/v3/tokeninfo"))
                    .form(&[("access_token", access_token)])
                    .send()
                    .await,
            )
            .await?;
            let ours = |v: &Option<String>| v.as_ref().is_some_and(|v| clients.google.contains(v));
            if !(ours(&info.aud) || ours(&info.azp)) {
                tracing::warn!(aud = ?info.aud, azp = ?info.azp, "a Google token of another client");
                return Err(OAuthError::Rejected);
            }
            Ok(info.sub)
        }
        Provider::Facebook => {
            let Some(app) = &clients.facebook else {
                return Ok(None);
            };
            #[derive(Deserialize)]
            struct Debug {
                data: DebugData,
            }
            #[derive(Deserialize)]
            struct DebugData {
                #[serde(default)]
                app_id: Option<String>,
                #[serde(default)]
                is_valid: bool,
                #[serde(default)]
                user_id: Option<String>,
            }
            let app_token = format!("{}|{}", app.id, app.secret.expose_secret());
            let answer: Debug = checked(
                http.get(format!("{base}/debug_token"))
                    .query(&[("input_token", access_token), ("access_token", &app_token)])
                    .send()
                    .await,
            )
            .await?;
            if !answer.data.is_valid || answer.data.app_id.as_deref() != Some(app.id.as_str()) {
                tracing::warn!(app_id = ?answer.data.app_id, "a Facebook token of another app");
                return Err(OAuthError::Rejected);
            }
            Ok(answer.data.user_id)
        }
        Provider::Github => {
            let Some(app) = &clients.github else {
                return Ok(None);
            };
            #[derive(Deserialize)]
            struct Check {
                user: Option<serde_json::Value>,
            }
            let url = format!("{base}/applications/{}/token", urlencode(&app.id));
            let answer: Check = checked(
                http.post(url)
                    .basic_auth(&app.id, Some(app.secret.expose_secret()))
                    .header(reqwest::header::USER_AGENT, "humit")
                    .header(reqwest::header::ACCEPT, "application/vnd.github+json")
                    .json(&serde_json::json!({ "access_token": access_token }))
                    .send()
                    .await,
            )
            .await?;
            Ok(answer
                .user
                .as_ref()
                .and_then(|u| u.get("id"))
                .map(|id| match id {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }))
        }
        Provider::Google | Provider::Spotify => Ok(None),
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Exchanges `refresh_token` at Spotify's accounts service (`accounts` base URL) with
/// humit's client credentials. Spotify refuses a refresh token of another client.
///
/// # Errors
/// [`OAuthError::Rejected`] for a refresh token of another client (or none at all),
/// [`OAuthError::Unavailable`] when the accounts service fails.
pub async fn spotify_exchange(
    http: &reqwest::Client,
    app: &ClientCredentials,
    accounts: &str,
    refresh_token: Option<&str>,
) -> Result<SpotifyGrant, OAuthError> {
    let Some(refresh_token) = refresh_token.map(str::trim).filter(|t| !t.is_empty()) else {
        tracing::warn!("a Spotify sign-in without a refresh token cannot be bound to humit");
        return Err(OAuthError::Rejected);
    };
    checked(
        http.post(format!("{}/api/token", accounts.trim_end_matches('/')))
            .basic_auth(&app.id, Some(app.secret.expose_secret()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_secret_never_prints() {
        let app = pair(&Some("app-id".into()), &Some(" s3cr3t-value ".into())).unwrap();
        let printed = format!("{app:?}");
        assert!(printed.contains("app-id"), "{printed}");
        assert!(!printed.contains("s3cr3t-value"), "{printed}");
        assert_eq!(app.secret.expose_secret(), "s3cr3t-value");
    }
}
