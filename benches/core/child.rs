//! The humit child process (`humit serve` from `CARGO_BIN_EXE_humit`), the machine it runs
//! on, and an in-bench Spotify stand-in for humit sign-ups.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// Where and how every child of one run is configured.
#[derive(Debug, Clone)]
pub struct Env {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `AMQP_URL`.
    pub amqp_url: String,
    /// `HUMIT_EXCHANGE`.
    pub exchange: String,
    /// `HUMIT_JWT_SECRET`.
    pub jwt_secret: String,
    /// `HUMIT_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `HUMIT_SPOTIFY_API_URL`.
    pub spotify_url: String,
}

impl Env {
    fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_humit"));
        // Settings the operator's shell might carry that would change what is measured.
        for var in [
            "DATABASE_READ_URL",
            "HUMIT_PUBLIC_URL",
            "HUMIT_JWT_KEY_FILE",
            "HUMIT_SMTP_URL",
            "HUMIT_S3_BUCKET",
            "HUMIT_S3_ENDPOINT",
            "HUMIT_CONSISTENCY_WAIT_MS",
            "HUMIT_HASH_CONCURRENCY",
            "HUMIT_PREFETCH",
            "HUMIT_LOG_JSON",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("DATABASE_URL", &self.database_url)
            .env("AMQP_URL", &self.amqp_url)
            .env("HUMIT_EXCHANGE", &self.exchange)
            .env("HUMIT_JWT_SECRET", &self.jwt_secret)
            .env("HUMIT_DATA_DIR", &self.data_dir)
            .env("HUMIT_SPOTIFY_API_URL", &self.spotify_url)
            .env("HUMIT_QUEUE_EXPIRES_MS", "300000")
            // The load comes from one address: the general per-client limit would measure itself.
            .env("HUMIT_ANON_RATE_PER_MINUTE", "100000000")
            .env("HUMIT_ANON_BURST", "100000000")
            // humit's own default filter, pinned so a RUST_LOG in the shell changes nothing.
            .env("RUST_LOG", "info,sqlx=warn,lapin=warn,tower_http=info")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `humit <args>` to completion (migrate, create-superuser).
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = self
            .command()
            .args(args)
            .output()
            .await
            .context("humit binary")?;
        anyhow::ensure!(
            out.status.success(),
            "humit {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }
}

/// A running `humit serve`.
pub struct Humit {
    child: tokio::process::Child,
    /// Its process id.
    pub pid: u32,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Humit {
    /// Starts `humit serve` (consistency wait `wait_ms`, humit's default when `None`) and
    /// waits for `/ready`.
    pub async fn start(env: &Env, wait_ms: Option<u64>, label: &str) -> anyhow::Result<Self> {
        let port = free_port()?;
        std::fs::create_dir_all(&env.data_dir)?;
        let log = env.data_dir.join(format!("humit-{label}.log"));
        let file = std::fs::File::create(&log)?;
        let mut cmd = env.command();
        cmd.arg("serve")
            .env("HUMIT_ADDR", format!("127.0.0.1:{port}"))
            .stdout(file.try_clone()?)
            .stderr(file);
        if let Some(ms) = wait_ms {
            cmd.env("HUMIT_CONSISTENCY_WAIT_MS", ms.to_string());
        }
        let mut child = cmd.spawn().context("starting humit serve")?;
        let pid = child.id().context("child pid")?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("humit exited with {status}; see {}", log.display());
            }
            let ready = client
                .get(format!("{base}/ready"))
                .timeout(Duration::from_secs(3))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "humit not ready in 60 s; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self { child, pid, base })
    }

    /// A `VmRSS`/`VmHWM`-style field of `/proc/<pid>/status`, in KiB.
    pub fn status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// CPU time it has used so far (user + system), from `/proc/<pid>/stat` (USER_HZ 100).
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default()
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // After the command name: state is field 3, utime 14 and stime 15.
        let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        Duration::from_millis(ticks * 10)
    }

    /// Stops it with SIGTERM (SIGKILL after 10 s).
    pub async fn stop(mut self) {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// `nproc`, memory and CPU model of this machine.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_string();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "nproc {}, memory {:.1} GiB, CPU {model}; load average at start {}",
        cores(),
        mem_kib as f64 / 1024.0 / 1024.0,
        load.join(" ")
    )
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `GET /v1/me` of a Spotify stand-in: the token `sp-<id>` belongs to Spotify user `<id>`.
async fn me(headers: HeaderMap) -> (axum::http::StatusCode, Json<Value>) {
    let id = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer sp-"))
        .map(str::to_string);
    match id {
        Some(id) => (
            axum::http::StatusCode::OK,
            Json(
                json!({"id": id, "display_name": id, "country": "IN", "images": [], "type": "user"}),
            ),
        ),
        None => (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"status": 401, "message": "The access token expired"}})),
        ),
    }
}

/// Starts the Spotify stand-in on a free loopback port; answers its base URL.
pub async fn fake_spotify() -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, Router::new().route("/v1/me", get(me))).await;
    });
    Ok(format!("http://127.0.0.1:{port}/v1"))
}
