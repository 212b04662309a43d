//! Wiring: [`Application::build`] connects, migrates, starts the background tasks and binds
//! the listener (port 0 picks a free port, which [`Application::port`] reports).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use aggregates::user::UserServices;
use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::limits::LoginLimiter;
use crate::auth::passwords::Argon2Hasher;
use crate::auth::{jwt, Registry, Tokens};
use crate::bus::consistency::Checkpoints;
use crate::bus::projector::Projector;
use crate::bus::relay::Relay;
use crate::bus::BusSettings;
use crate::config::Config;
use crate::state::AppState;
use crate::store::Sequenced;
use crate::store::{db, CommandBus};

/// Password reset mails per (account, client) per window (the account as a whole gets ten
/// times as many, from all clients together).
const RESET_MAILS_PER_WINDOW: u32 = 3;
/// The password reset mail window (seconds).
const RESET_WINDOW_SECS: u64 = 15 * 60;

/// What a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Serve the HTTP API.
    pub http: bool,
    /// Run the relay and the projectors.
    pub workers: bool,
}

impl Mode {
    /// HTTP, relay and projectors in one process.
    pub const ALL: Self = Self {
        http: true,
        workers: true,
    };
    /// HTTP only (`humit serve --no-workers`).
    pub const API: Self = Self {
        http: true,
        workers: false,
    };
    /// Relay and projectors only (`humit worker`).
    pub const WORKER: Self = Self {
        http: false,
        workers: true,
    };
}

/// A built, not yet running, humit process.
pub struct Application {
    listener: Option<TcpListener>,
    port: u16,
    state: AppState,
    stop: Arc<watch::Sender<bool>>,
    halt: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// The bus settings a configuration implies.
pub fn bus_settings(config: &Config) -> BusSettings {
    BusSettings {
        amqp_url: config.amqp_url.clone(),
        exchange: config.exchange.clone(),
        prefetch: config.prefetch,
        max_attempts: config.max_attempts,
        quorum_queues: config.quorum_queues,
        queue_expires_ms: config.queue_expires_ms,
    }
}

impl Application {
    /// Connects to Postgres (creating and migrating the database), loads the auth state,
    /// starts the background tasks `mode` asks for, and binds the listener.
    ///
    /// # Errors
    /// When Postgres is unreachable, a migration fails, or the address cannot be bound.
    pub async fn build(config: Config, mode: Mode) -> anyhow::Result<Self> {
        let pool = db::migrate(&config.database_url).await?;
        let erased = crate::store::vault::Vault::new(pool.clone())
            .reconcile()
            .await?;
        if erased > 0 {
            tracing::info!(erased, "finished interrupted erasures");
        }
        let read_pool = match &config.database_read_url {
            Some(url) => db::lazy_pool(url, 20)?,
            None => pool.clone(),
        };
        let hasher = Arc::new(Argon2Hasher::new(config.hash_concurrency));
        let sequenced = Sequenced::default();
        let commands = CommandBus::new(
            pool.clone(),
            UserServices {
                passwords: hasher.clone(),
            },
            sequenced.clone(),
        );
        let key = jwt::load_key(
            config.jwt_secret.as_deref(),
            config.jwt_key_file.as_deref(),
            &config.data_dir,
        )?;
        let tokens = Arc::new(Tokens::new(
            &key,
            &config.jwt_issuer,
            config.access_ttl_secs,
            config.app_access_ttl_secs,
            config.refresh_ttl_secs,
        ));
        let claim_key = Arc::new(claim_key(config.claim_key.as_deref())?);
        let registry = Arc::new(Registry::default());
        if let Err(error) = crate::auth::snapshot::restore(&registry, &pool).await {
            tracing::warn!(%error, "auth snapshot not read; reading the whole log");
        }
        registry
            .catch_up(&pool)
            .await
            .context("failed to load the auth state")?;
        let checkpoints = Checkpoints::default();
        checkpoints.load(&pool).await?;

        // `stop` asks the process to stop; `halt` stops the background tasks, once the
        // requests in flight are done (see `run_until_stopped`).
        let (stop, _) = watch::channel(false);
        let (halt, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        // Every process is a sequencer candidate (one leads): API-only processes too, so that
        // commands get their positions even where no worker runs.
        let listener = Sequenced::listen(&pool)
            .await
            .context("failed to listen for the sequencer")?;
        tasks.spawn(
            sequenced
                .clone()
                .follow(pool.clone(), listener, stop_rx.clone()),
        );
        tasks.spawn(sequenced.clone().run(pool.clone(), stop_rx.clone()));
        tasks.spawn(registry.clone().follow(pool.clone(), stop_rx.clone()));
        tasks.spawn(checkpoints.clone().follow(pool.clone(), stop_rx.clone()));
        if config.auth_snapshot_secs > 0 {
            tasks.spawn(crate::auth::snapshot::every(
                registry.clone(),
                pool.clone(),
                std::time::Duration::from_secs(config.auth_snapshot_secs),
                stop_rx.clone(),
            ));
        }
        let relay_leader = Arc::new(AtomicBool::new(false));
        if mode.workers {
            let settings = bus_settings(&config);
            let bus_pool = db::bus_pool(&config.database_url, 10).await?;
            tasks.spawn(
                Relay::new(bus_pool.clone(), settings.clone(), relay_leader.clone())
                    .run(stop_rx.clone()),
            );
            for projection in projections::all() {
                let projector = Projector::new(projection, bus_pool.clone(), settings.clone());
                tasks.spawn(projector.run(stop_rx.clone()));
            }
        }

        let (listener, port) = if mode.http {
            let listener = TcpListener::bind(config.addr)
                .await
                .with_context(|| format!("failed to bind {}", config.addr))?;
            let port = listener.local_addr()?.port();
            (Some(listener), port)
        } else {
            (None, 0)
        };
        let mut bound = config.addr;
        bound.set_port(port);
        let public_url: Arc<str> = config.public_url(bound).into();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .context("failed to build the HTTP client")?;
        let mailer = crate::adapters::mail::from_config(&config)?;
        let oauth = Arc::new(crate::adapters::oauth::OAuthClient::new(
            http.clone(),
            &config,
        ));
        let spotify = Arc::new(
            crate::adapters::spotify::SpotifyClient::new(http.clone(), &config.spotify_api_url)
                .with_app(
                    oauth.clients().spotify.clone(),
                    &config.spotify_accounts_url,
                ),
        );
        warn_unverified_providers(&oauth);
        let (storage, local_files) = storage(&config, &key, &public_url).await;
        let state = AppState {
            mailer,
            oauth,
            spotify,
            storage,
            local_files,
            broker_probe: Arc::new(crate::bus::broker::BrokerProbe::new(&config.amqp_url)),
            upload_throttle: Arc::new(crate::auth::throttle::UserThrottle::new(
                config.uploads_per_minute,
            )),
            throttle: Arc::new(crate::auth::throttle::ClientThrottle::new(
                config.anon_rate_per_minute,
                config.anon_burst,
            )),
            reset_limiter: Arc::new(LoginLimiter::new(
                RESET_MAILS_PER_WINDOW,
                std::time::Duration::from_secs(RESET_WINDOW_SECS),
            )),
            limiter: Arc::new(LoginLimiter::new(
                config.login_max_failures,
                std::time::Duration::from_secs(config.login_window_secs),
            )),
            config: Arc::new(config),
            public_url,
            pool,
            read_pool,
            commands,
            checkpoints,
            tokens,
            claim_key,
            registry,
            hasher,
            metrics: crate::telemetry::metrics_handle(),
            http,
            relay_leader,
        };
        if mode.workers {
            tasks.spawn(crate::app::profiles::sweep_abandoned(
                state.clone(),
                stop_rx.clone(),
            ));
        }
        Ok(Self {
            listener,
            port,
            state,
            stop: Arc::new(stop),
            halt,
            tasks,
        })
    }

    /// The bound port (0 without HTTP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Sending `true` stops the process gracefully.
    pub fn stop_handle(&self) -> Arc<watch::Sender<bool>> {
        self.stop.clone()
    }

    /// Serves until Ctrl-C, SIGTERM or the stop handle, then shuts down gracefully: stops
    /// accepting, lets the requests in flight finish (at most `HUMIT_SHUTDOWN_GRACE_MS`; the
    /// background tasks keep running meanwhile, since those requests wait for the sequencer
    /// and the projections), then stops the background tasks: each projector finishes and
    /// acknowledges its current batch, and the relay and the sequencer give their advisory
    /// locks back, so that another process takes over at once.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        let mut stop_rx = self.stop.subscribe();
        let (signalled, mut signalled_rx) = watch::channel(false);
        let stopped = async move {
            tokio::select! {
                () = shutdown_signal() => {}
                _ = stop_rx.wait_for(|s| *s) => {}
            }
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            signalled.send_replace(true);
        };
        let grace = std::time::Duration::from_millis(self.state.config.shutdown_grace_ms);
        match self.listener.take() {
            Some(listener) => {
                let app = crate::http::app(self.state.clone());
                tracing::info!(port = self.port, url = %self.state.public_url, "serving");
                let server = axum::serve(
                    listener,
                    axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                        std::net::SocketAddr,
                    >(app),
                )
                .with_graceful_shutdown(stopped);
                let deadline = async move {
                    let _ = signalled_rx.wait_for(|s| *s).await;
                    tokio::time::sleep(grace).await;
                };
                tokio::select! {
                    served = server => served.context("server failed")?,
                    () = deadline => tracing::warn!(?grace, "requests still in flight after the grace period; cut"),
                }
            }
            None => stopped.await,
        }
        self.stop.send_replace(true);
        self.halt.send_replace(true);
        while self.tasks.join_next().await.is_some() {}
        tracing::info!("stopped");
        Ok(())
    }
}

/// The profile picture storage: S3 when `HUMIT_S3_BUCKET` is set, else the local store
/// (whose URL signing key derives from the JWT key, shared by every process).
async fn storage(
    config: &Config,
    key: &[u8],
    public_url: &str,
) -> (
    Arc<dyn crate::adapters::storage::ObjectStore>,
    Option<Arc<crate::adapters::storage::LocalStore>>,
) {
    use crate::adapters::storage::{LocalStore, S3Store};
    match config.s3_bucket.as_deref().filter(|b| !b.is_empty()) {
        Some(bucket) => {
            let store =
                S3Store::from_env(bucket, config.s3_endpoint.as_deref(), &config.s3_region).await;
            tracing::info!(bucket, endpoint = ?config.s3_endpoint, "profile pictures go to S3");
            (Arc::new(store), None)
        }
        None => {
            let local = Arc::new(LocalStore::new(
                &config.data_dir.join("uploads"),
                key,
                public_url,
            ));
            (local.clone(), Some(local))
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The claim key from `HUMIT_CLAIM_KEY` (at least 32 bytes), or the public development key
/// with a loud warning.
fn claim_key(configured: Option<&str>) -> anyhow::Result<aggregates::claim::ClaimKey> {
    match configured.filter(|k| !k.is_empty()) {
        Some(key) => aggregates::claim::ClaimKey::new(key.as_bytes()).map_err(|e| {
            anyhow::anyhow!(
                "HUMIT_CLAIM_KEY: {e} (for example the output of `openssl rand -hex 32`)"
            )
        }),
        None => {
            tracing::warn!(
                "HUMIT_CLAIM_KEY is not set: claim ids use the public development key, so an \
                 erased email can be confirmed by hashing a guess (see README, production \
                 checklist)"
            );
            Ok(aggregates::claim::ClaimKey::development())
        }
    }
}

/// Says loudly, once at start-up, which providers' tokens are not bound to humit's client.
fn warn_unverified_providers(oauth: &crate::adapters::oauth::OAuthClient) {
    for provider in crate::adapters::oauth::Provider::ALL {
        if !oauth.clients().verified(provider) {
            tracing::warn!(
                provider = provider.name(),
                "UNVERIFIED provider: its tokens are not bound to humit's own client, so a token \
                 any other app collected signs in as its owner; configure the client id and \
                 secret (see README, production checklist)"
            );
        }
    }
}
