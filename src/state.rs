//! The state every HTTP handler shares.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::auth::limits::LoginLimiter;
use crate::auth::passwords::Argon2Hasher;
use crate::auth::{Registry, Tokens};
use crate::bus::consistency::Checkpoints;
use crate::config::Config;
use crate::store::{CommandBus, Commit};

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Base of absolute URLs, without a trailing slash.
    pub public_url: Arc<str>,
    /// The primary database (event log, read models).
    pub pool: PgPool,
    /// Where read queries go (the primary, or `DATABASE_READ_URL`).
    pub read_pool: PgPool,
    /// Runs commands on aggregates.
    pub commands: Arc<CommandBus>,
    /// Projection checkpoints, for read-your-writes.
    pub checkpoints: Checkpoints,
    /// Mints and checks JWTs.
    pub tokens: Arc<Tokens>,
    /// The server key claim ids are derived with (`HUMIT_CLAIM_KEY`).
    pub claim_key: Arc<aggregates::claim::ClaimKey>,
    /// Authentication state of every user.
    pub registry: Arc<Registry>,
    /// Password hashing.
    pub hasher: Arc<Argon2Hasher>,
    /// Failed-login limits.
    pub limiter: Arc<LoginLimiter>,
    /// Upload URLs per user per minute.
    pub upload_throttle: Arc<crate::auth::throttle::UserThrottle>,
    /// The general per-client limit on the unauthenticated routes.
    pub throttle: Arc<crate::auth::throttle::ClientThrottle>,
    /// Password reset mail limits (per account and client), against mail bombing.
    pub reset_limiter: Arc<LoginLimiter>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Outgoing HTTP (Spotify, OAuth providers).
    pub http: reqwest::Client,
    /// The broker connection `/ready` checks (kept, not opened per call).
    pub broker_probe: Arc<crate::bus::broker::BrokerProbe>,
    /// Whether this process's relay is the active one.
    pub relay_leader: Arc<AtomicBool>,
    /// Outgoing mail (SMTP, or the outbox folder).
    pub mailer: Arc<dyn crate::adapters::mail::Mailer>,
    /// Asks OAuth providers who an access token belongs to.
    pub oauth: Arc<crate::adapters::oauth::OAuthClient>,
    /// The Spotify Web API (humit sign-up, playlists).
    pub spotify: Arc<crate::adapters::spotify::SpotifyClient>,
    /// Where profile pictures are uploaded (S3, or the local store).
    pub storage: Arc<dyn crate::adapters::storage::ObjectStore>,
    /// The local store when it is the storage (it also serves `/api/files/...`).
    pub local_files: Option<Arc<crate::adapters::storage::LocalStore>>,
}

impl AppState {
    /// Waits, bounded by `HUMIT_CONSISTENCY_WAIT_MS`, until `projections` applied the
    /// command's events (nothing to wait for when the command stored no event). The wait
    /// covers the sequencer numbering them and each named projection applying them.
    pub async fn wait_for(&self, commit: Option<Commit>, projections: &[&str]) {
        let Some(commit) = commit else { return };
        let budget = self.config.consistency_wait();
        if budget.is_zero() || projections.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        let Some(position) = commit.position_within(budget).await else {
            tracing::warn!(command_id = %commit.command_id(), "command not sequenced in time");
            return;
        };
        self.wait_until(projections, position, started, budget)
            .await;
    }

    /// Waits, bounded by `HUMIT_CONSISTENCY_WAIT_MS`, until `projections` reached a known
    /// global `position`.
    pub async fn wait_for_position(&self, position: Option<i64>, projections: &[&str]) {
        if let Some(position) = position {
            let budget = self.config.consistency_wait();
            self.wait_until(projections, position, std::time::Instant::now(), budget)
                .await;
        }
    }

    /// Waits until `projections` reached `position` on the primary and, with
    /// `DATABASE_READ_URL` (a streaming replica, where reads go), on the replica too: until
    /// `started + budget` at most.
    async fn wait_until(
        &self,
        projections: &[&str],
        position: i64,
        started: std::time::Instant,
        budget: std::time::Duration,
    ) {
        let left = budget.saturating_sub(started.elapsed());
        if !self.checkpoints.wait(projections, position, left).await
            || self.config.database_read_url.is_none()
        {
            return;
        }
        loop {
            match Checkpoints::reached_on(&self.read_pool, projections, position).await {
                Ok(true) => return,
                Ok(false) if started.elapsed() < budget => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                Ok(false) => {
                    tracing::warn!(position, "the read replica did not catch up in time");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot read the replica's checkpoints");
                    return;
                }
            }
        }
    }

    /// Waits until the in-memory auth state reflects the command (revocations, roles).
    pub async fn sync_auth(&self, commit: Option<Commit>) {
        let Some(commit) = commit else { return };
        let timeout = std::time::Duration::from_secs(1);
        let position = commit.position_within(timeout).await;
        let reached = match position {
            Some(position) => self.registry.sync_to(position, timeout).await,
            None => false,
        };
        if !reached {
            // The feed is late; read the log now rather than answer before the change holds.
            if let Err(error) = self.registry.catch_up(&self.pool).await {
                tracing::error!(%error, "auth state catch-up failed");
            }
        }
    }
}
