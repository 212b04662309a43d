//! OAuth identity providers: asks Google, GitHub, Facebook or Spotify who an access token
//! belongs to, and turns each provider's answer into one [`ProviderProfile`].
//!
//! Each provider is reached at a configurable base URL (`HUMIT_GOOGLE_API_URL` and friends),
//! so tests run the real client against a local server. The access token goes out only in the
//! `Authorization` header (or to the provider's own token check) and is never logged. Before
//! the "who am I" call, the token is bound to humit's own client ([`binding`]).
//!
//! - [`profile`]: the providers, the profile their answers are read into, the errors.
//! - [`binding`]: the check that a token was issued to humit's own client.

pub mod binding;
pub mod profile;

use serde_json::Value;

use self::binding::ProviderClients;
pub use self::profile::{parse_profile, OAuthError, Provider, ProviderProfile};
use crate::config::Config;

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
