//! The Spotify Web API, as humit uses it: who a token belongs to (`GET /me`) and creating a
//! user's humit playlist (`POST /users/{id}/playlists`).
//!
//! The base URL comes from `HUMIT_SPOTIFY_API_URL` (default `https://api.spotify.com/v1`), so
//! tests point it at an in-test server. Tokens are passed through, never logged.

use serde::Deserialize;
use serde_json::json;

/// Why a Spotify call failed.
#[derive(Debug, thiserror::Error)]
pub enum SpotifyError {
    /// Spotify refused the token (401): expired, revoked or not a token.
    #[error("spotify rejected the access token")]
    Unauthorized,
    /// Spotify could not be reached or answered something unusable.
    #[error("spotify unavailable: {0}")]
    Unavailable(String),
}

/// The person a Spotify access token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpotifyProfile {
    /// The Spotify user id.
    pub id: String,
    /// ISO 3166-1 alpha-2 country, when the token has the `user-read-private` scope.
    #[serde(default)]
    pub country: Option<String>,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Profile images, largest first.
    #[serde(default)]
    pub images: Vec<SpotifyImage>,
}

/// A Spotify profile image.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpotifyImage {
    /// Its URL.
    pub url: String,
}

#[derive(Deserialize)]
struct Playlist {
    id: String,
}

/// A client of the Spotify Web API.
#[derive(Debug, Clone)]
pub struct SpotifyClient {
    http: reqwest::Client,
    base: String,
    /// humit's Spotify app and the accounts service, when configured.
    app: Option<(super::oauth::binding::ClientCredentials, String)>,
}

impl SpotifyClient {
    /// A client on `base` (without a trailing slash) using `http`.
    pub fn new(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            app: None,
        }
    }

    /// Binds sign-ups to humit's Spotify `app` at the accounts service `accounts`.
    #[must_use]
    pub fn with_app(
        mut self,
        app: Option<super::oauth::binding::ClientCredentials>,
        accounts: &str,
    ) -> Self {
        self.app = app.map(|app| (app, accounts.trim_end_matches('/').to_string()));
        self
    }

    /// Binds a sign-up's tokens to humit's client: with humit's Spotify app configured, the
    /// refresh token is exchanged with humit's credentials (Spotify refuses one of another
    /// client) and the tokens answered are humit's own; without it, the tokens are kept as
    /// sent (unverified). Answers the (access, refresh) tokens to use and keep.
    ///
    /// # Errors
    /// [`SpotifyError::Unauthorized`] for a refresh token of another client,
    /// [`SpotifyError::Unavailable`] when the accounts service fails.
    #[tracing::instrument(skip_all)]
    pub async fn bind(
        &self,
        access_token: &str,
        refresh_token: &str,
    ) -> Result<(String, String), SpotifyError> {
        use super::oauth::OAuthError;
        let Some((app, accounts)) = &self.app else {
            return Ok((access_token.to_string(), refresh_token.to_string()));
        };
        match super::oauth::binding::spotify_exchange(
            &self.http,
            app,
            accounts,
            Some(refresh_token),
        )
        .await
        {
            Ok(grant) => Ok((
                grant.access_token,
                grant
                    .refresh_token
                    .unwrap_or_else(|| refresh_token.to_string()),
            )),
            Err(OAuthError::Rejected) => Err(SpotifyError::Unauthorized),
            Err(e) => Err(SpotifyError::Unavailable(e.to_string())),
        }
    }

    fn url(&self, segments: &[&str]) -> Result<url::Url, SpotifyError> {
        let mut url = url::Url::parse(&self.base)
            .map_err(|e| SpotifyError::Unavailable(format!("bad HUMIT_SPOTIFY_API_URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| SpotifyError::Unavailable("bad HUMIT_SPOTIFY_API_URL".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn check(response: reqwest::Response) -> Result<reqwest::Response, SpotifyError> {
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(SpotifyError::Unauthorized);
        }
        if !status.is_success() {
            return Err(SpotifyError::Unavailable(format!("status {status}")));
        }
        Ok(response)
    }

    /// Sends `request` and reads its JSON answer; a refused token is
    /// [`SpotifyError::Unauthorized`], anything else that fails [`SpotifyError::Unavailable`]
    /// (without the URL, which may carry an id).
    async fn answer<T: serde::de::DeserializeOwned>(
        request: reqwest::RequestBuilder,
    ) -> Result<T, SpotifyError> {
        let unavailable =
            |e: reqwest::Error| SpotifyError::Unavailable(e.without_url().to_string());
        let response = request.send().await.map_err(unavailable)?;
        Self::check(response)
            .await?
            .json()
            .await
            .map_err(unavailable)
    }

    /// Who `access_token` belongs to.
    ///
    /// # Errors
    /// [`SpotifyError::Unauthorized`] when Spotify refuses the token, otherwise
    /// [`SpotifyError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn me(&self, access_token: &str) -> Result<SpotifyProfile, SpotifyError> {
        let request = self.http.get(self.url(&["me"])?);
        let profile: SpotifyProfile = Self::answer(request.bearer_auth(access_token)).await?;
        if profile.id.trim().is_empty() {
            return Err(SpotifyError::Unavailable("profile without an id".into()));
        }
        tracing::debug!(spotify_id = %profile.id, "spotify identified the token");
        Ok(profile)
    }

    /// Creates a private playlist `name` for Spotify user `spotify_id`; answers its id.
    ///
    /// # Errors
    /// [`SpotifyError::Unauthorized`] when Spotify refuses the token, otherwise
    /// [`SpotifyError::Unavailable`].
    #[tracing::instrument(skip(self, access_token))]
    pub async fn create_playlist(
        &self,
        access_token: &str,
        spotify_id: &str,
        name: &str,
        description: &str,
    ) -> Result<String, SpotifyError> {
        let request = self
            .http
            .post(self.url(&["users", spotify_id, "playlists"])?)
            .bearer_auth(access_token)
            .json(&json!({"name": name, "public": false, "description": description}));
        let playlist: Playlist = Self::answer(request).await?;
        tracing::info!(playlist_id = %playlist.id, "spotify playlist created");
        Ok(playlist.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_base_path_and_escape_ids() {
        let client = SpotifyClient::new(reqwest::Client::new(), "https://api.spotify.com/v1/");
        assert_eq!(
            client.url(&["me"]).unwrap().as_str(),
            "https://api.spotify.com/v1/me"
        );
        assert_eq!(
            client
                .url(&["users", "a b/c", "playlists"])
                .unwrap()
                .as_str(),
            "https://api.spotify.com/v1/users/a%20b%2Fc/playlists"
        );
    }
}
