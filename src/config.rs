//! Configuration: one typed struct, read from flags and environment variables (each flag's
//! `--help` line names its variable). Secrets are `Option<String>` wrapped where printed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// humit: one event log, two APIs.
#[derive(Debug, Parser)]
#[command(name = "humit", version, about)]
pub struct Cli {
    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub config: Config,
    /// What to run (default: `serve`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API, and (unless --no-workers) run the relay and the projectors.
    Serve {
        /// Serve HTTP only; run `humit worker` elsewhere for the relay and projections.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run the relay and the projectors without HTTP.
    Worker,
    /// Create the database if missing and apply migrations.
    Migrate,
    /// Create a superuser (like Django's createsuperuser).
    CreateSuperuser {
        /// Username.
        #[arg(long)]
        username: String,
        /// Email.
        #[arg(long)]
        email: String,
        /// Password.
        #[arg(long, env = "HUMIT_SUPERUSER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Load data through the same commands the API uses.
    Seed {
        /// Load the demo data set: stations, users, follows and hums.
        #[arg(long)]
        demo: bool,
    },
    /// Rebuild a projection (or, with --all, every one) from the event log.
    Replay {
        /// The projection's name (`users`, `social`).
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        projection: Option<String>,
        /// Rebuild every projection, one after the other (disaster recovery).
        #[arg(long)]
        all: bool,
    },
    /// Print the event log (for an operator with database access).
    Events(EventsArgs),
}

/// The filter of `humit events`.
#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Only events after this global position.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
    /// Only this aggregate type.
    #[arg(long)]
    pub aggregate_type: Option<String>,
    /// Only this aggregate id.
    #[arg(long)]
    pub aggregate_id: Option<String>,
    /// Only this event type.
    #[arg(long)]
    pub event_type: Option<String>,
    /// Only events caused by this actor (a user id, `system` or `anonymous`).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only events recorded at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events recorded before this RFC 3339 time.
    #[arg(long)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every setting of a humit process.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Postgres for the event log and read models; the database is created if missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/humit"
    )]
    pub database_url: String,
    /// Optional Postgres replica for read queries.
    #[arg(long, env = "DATABASE_READ_URL")]
    pub database_read_url: Option<String>,
    /// RabbitMQ.
    #[arg(
        long,
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,
    /// Address the HTTP API listens on (port 0 picks a free port).
    #[arg(long, env = "HUMIT_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Base of the absolute URLs the API returns; default `http://<HUMIT_ADDR>`.
    #[arg(long, env = "HUMIT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The durable topic exchange every event is published to.
    #[arg(long, env = "HUMIT_EXCHANGE", default_value = "humit.events")]
    pub exchange: String,
    /// Where local uploads, the mail outbox and a generated signing key live.
    #[arg(long, env = "HUMIT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Declare projection queues as quorum queues (for a RabbitMQ cluster).
    #[arg(long, env = "HUMIT_QUORUM_QUEUES", default_value_t = false)]
    pub quorum_queues: bool,
    /// Delete projection queues unused for this long (ms); for throw-away test runs.
    #[arg(long, env = "HUMIT_QUEUE_EXPIRES_MS")]
    pub queue_expires_ms: Option<u32>,
    /// Messages a projector may hold unacknowledged; it applies up to this many in one
    /// transaction.
    #[arg(long, env = "HUMIT_PREFETCH", default_value_t = 256)]
    pub prefetch: u16,
    /// Attempts before a failing message is dead-lettered.
    #[arg(long, env = "HUMIT_MAX_ATTEMPTS", default_value_t = 3)]
    pub max_attempts: u32,
    /// Longest a command's response waits for the projections it names (ms).
    #[arg(long, env = "HUMIT_CONSISTENCY_WAIT_MS", default_value_t = 2000)]
    pub consistency_wait_ms: u64,
    /// HMAC key for JWTs, at least 32 bytes. Without it (and without a key file), a random
    /// key is generated once into `HUMIT_DATA_DIR/jwt.key`.
    #[arg(long, env = "HUMIT_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Server key for the ids of unique claims (usernames, emails, provider identities), at
    /// least 32 bytes; the same in every process and never changed. Without it, a public
    /// development key is used (and a warning logged): an erased email could then be
    /// confirmed by hashing a guess.
    #[arg(long, env = "HUMIT_CLAIM_KEY", hide_env_values = true)]
    pub claim_key: Option<String>,
    /// File holding the JWT key.
    #[arg(long, env = "HUMIT_JWT_KEY_FILE")]
    pub jwt_key_file: Option<PathBuf>,
    /// `iss` of the JWTs.
    #[arg(long, env = "HUMIT_JWT_ISSUER", default_value = "humit")]
    pub jwt_issuer: String,
    /// Lifetime of Techfesia access tokens (seconds).
    #[arg(long, env = "HUMIT_ACCESS_TTL_SECS", default_value_t = 900)]
    pub access_ttl_secs: u64,
    /// Lifetime of refresh tokens (seconds).
    #[arg(long, env = "HUMIT_REFRESH_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_ttl_secs: u64,
    /// Lifetime of humit access tokens (seconds).
    #[arg(long, env = "HUMIT_APP_ACCESS_TTL_SECS", default_value_t = 3600)]
    pub app_access_ttl_secs: u64,
    /// Spotify Web API base URL.
    #[arg(
        long,
        env = "HUMIT_SPOTIFY_API_URL",
        default_value = "https://api.spotify.com/v1"
    )]
    pub spotify_api_url: String,
    /// Google API base URL (`/oauth2/v3/userinfo`).
    #[arg(
        long,
        env = "HUMIT_GOOGLE_API_URL",
        default_value = "https://www.googleapis.com"
    )]
    pub google_api_url: String,
    /// GitHub API base URL (`/user`).
    #[arg(
        long,
        env = "HUMIT_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// Facebook Graph API base URL (`/me`).
    #[arg(
        long,
        env = "HUMIT_FACEBOOK_API_URL",
        default_value = "https://graph.facebook.com"
    )]
    pub facebook_api_url: String,
    /// Spotify accounts service base URL (`/api/token`), where a sign-up's refresh token is
    /// exchanged with humit's client credentials.
    #[arg(
        long,
        env = "HUMIT_SPOTIFY_ACCOUNTS_URL",
        default_value = "https://accounts.spotify.com"
    )]
    pub spotify_accounts_url: String,
    /// humit's Spotify client id. With the secret, only refresh tokens issued to this client
    /// sign in; without, Spotify sign-ins are unverified (a warning at start-up).
    #[arg(long, env = "HUMIT_SPOTIFY_CLIENT_ID")]
    pub spotify_client_id: Option<String>,
    /// humit's Spotify client secret.
    #[arg(long, env = "HUMIT_SPOTIFY_CLIENT_SECRET", hide_env_values = true)]
    pub spotify_client_secret: Option<String>,
    /// humit's Google OAuth client ids (comma-separated: web, Android, iOS). When set, a
    /// Google token whose `aud`/`azp` is another client is refused.
    #[arg(long, env = "HUMIT_GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,
    /// humit's GitHub OAuth app client id. With the secret, only tokens of this app sign in.
    #[arg(long, env = "HUMIT_GITHUB_CLIENT_ID")]
    pub github_client_id: Option<String>,
    /// humit's GitHub OAuth app client secret.
    #[arg(long, env = "HUMIT_GITHUB_CLIENT_SECRET", hide_env_values = true)]
    pub github_client_secret: Option<String>,
    /// humit's Facebook app id. With the secret, only tokens of this app sign in.
    #[arg(long, env = "HUMIT_FACEBOOK_APP_ID")]
    pub facebook_app_id: Option<String>,
    /// humit's Facebook app secret.
    #[arg(long, env = "HUMIT_FACEBOOK_APP_SECRET", hide_env_values = true)]
    pub facebook_app_secret: Option<String>,
    /// SMTP server for mail (`smtp://host:port`); without it mail goes to `HUMIT_DATA_DIR/outbox/`.
    #[arg(long, env = "HUMIT_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender address of mail.
    #[arg(
        long,
        env = "HUMIT_MAIL_FROM",
        default_value = "humit <no-reply@humit.local>"
    )]
    pub mail_from: String,
    /// S3 bucket for profile pictures; without it, uploads go to humit itself.
    #[arg(long, env = "HUMIT_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// Endpoint of an S3-compatible store (path-style).
    #[arg(long, env = "HUMIT_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region.
    #[arg(long, env = "HUMIT_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// Largest accepted request body (bytes).
    #[arg(long, env = "HUMIT_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,
    /// Largest accepted profile picture (bytes).
    #[arg(long, env = "HUMIT_UPLOAD_LIMIT", default_value_t = 5 * 1024 * 1024)]
    pub upload_limit: usize,
    /// Longest a request may take (ms).
    #[arg(long, env = "HUMIT_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,
    /// On SIGTERM, longest the requests in flight may take to finish (ms); the relay, the
    /// sequencer and the projectors stop after them, finishing their current batch.
    #[arg(long, env = "HUMIT_SHUTDOWN_GRACE_MS", default_value_t = 20_000)]
    pub shutdown_grace_ms: u64,
    /// How often the auth state is snapshotted into the database (seconds; 0: never), so a
    /// new process starts from the snapshot and the events after it, not the whole log.
    #[arg(long, env = "HUMIT_AUTH_SNAPSHOT_SECS", default_value_t = 60)]
    pub auth_snapshot_secs: u64,
    /// Password hashes computed at once; each keeps a 19 MiB buffer for the life of the
    /// process. More than the CPU cores only adds memory.
    #[arg(long, env = "HUMIT_HASH_CONCURRENCY", default_value_t = 2)]
    pub hash_concurrency: usize,
    /// Failed logins allowed per account, and per client address, per window.
    #[arg(long, env = "HUMIT_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: u32,
    /// The failed-login window (seconds).
    #[arg(long, env = "HUMIT_LOGIN_WINDOW_SECS", default_value_t = 300)]
    pub login_window_secs: u64,
    /// Networks of the proxies in front of humit (comma-separated CIDRs, e.g.
    /// `10.0.0.0/8,fd00::/8`). Only a peer in these networks is believed about the client's
    /// address (`Forwarded` / `X-Forwarded-For`, the right-most hop outside them); empty: the
    /// peer is the client.
    #[arg(long, env = "HUMIT_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Requests per minute each client (an IPv4 address, an IPv6 /64) may make to the
    /// unauthenticated routes (sign-up, login, OAuth, refresh, reset, handle checks).
    #[arg(long, env = "HUMIT_ANON_RATE_PER_MINUTE", default_value_t = 60)]
    pub anon_rate_per_minute: u32,
    /// Requests a client may make to those routes at once, before the per-minute rate applies.
    #[arg(long, env = "HUMIT_ANON_BURST", default_value_t = 60)]
    pub anon_burst: u32,
    /// Adding a password to an OAuth-only account takes a sign-in at most this old (seconds).
    #[arg(long, env = "HUMIT_REAUTH_MAX_AGE_SECS", default_value_t = 300)]
    pub reauth_max_age_secs: u64,
    /// When set, `/metrics` answers only `Authorization: Bearer <this token>` (401 otherwise).
    #[arg(long, env = "HUMIT_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Browser origins allowed to call the API cross-origin (comma-separated, e.g.
    /// `https://app.humit.example`); `*` allows any origin; empty: none.
    #[arg(long, env = "HUMIT_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Profile picture upload URLs each user may ask for per minute (then 429).
    #[arg(long, env = "HUMIT_UPLOADS_PER_MINUTE", default_value_t = 10)]
    pub uploads_per_minute: u32,
    /// Age (seconds) after which a profile picture upload that has not become the picture
    /// is abandoned: it is no longer completed, and its uploaded object is deleted.
    #[arg(
        long,
        env = "HUMIT_PENDING_UPLOAD_MAX_AGE_SECS",
        default_value_t = 3600
    )]
    pub pending_upload_max_age_secs: u64,
    /// How often (seconds) abandoned uploads are looked for and deleted.
    #[arg(long, env = "HUMIT_UPLOAD_SWEEP_SECS", default_value_t = 60)]
    pub upload_sweep_secs: u64,
    /// Log as JSON lines.
    #[arg(long, env = "HUMIT_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
}

impl Config {
    /// The base URL absolute links are built on, without a trailing slash.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{bound}"),
        }
    }

    /// How long a command may wait for its projections.
    pub fn consistency_wait(&self) -> Duration {
        Duration::from_millis(self.consistency_wait_ms)
    }

    /// Parses the configuration from the environment alone, with every default (for tests).
    pub fn from_env() -> Self {
        Cli::parse_from(["humit"]).config
    }
}
