//! The real binary as a child process of a test: `humit serve` started on a free port,
//! waited for, and its resident memory read from `/proc`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use humit::config::Config;
use serde_json::Value;

/// A TCP port free on 127.0.0.1 right now (the child binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `VmRSS` of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// `humit serve` as a child process on `config`'s database and exchange, on a free port,
/// with `extra_env` on top; its output goes to `<data dir>/<label>.log`. Answers it, its
/// base URL and the log path.
pub async fn start_child(
    config: &Config,
    label: &str,
    extra_env: &[(&str, &str)],
) -> (tokio::process::Child, String, PathBuf) {
    let port = free_port();
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let log_path = config.data_dir.join(format!("{label}.log"));
    let log_file = std::fs::File::create(&log_path).unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_humit"))
        .env("DATABASE_URL", &config.database_url)
        .env("AMQP_URL", &config.amqp_url)
        .env("HUMIT_EXCHANGE", &config.exchange)
        .env("HUMIT_SPOTIFY_API_URL", &config.spotify_api_url)
        .env("HUMIT_DATA_DIR", &config.data_dir)
        .env("HUMIT_JWT_SECRET", config.jwt_secret.as_deref().unwrap())
        .env("HUMIT_ADDR", format!("127.0.0.1:{port}"))
        .env("HUMIT_QUEUE_EXPIRES_MS", "600000")
        .env("HUMIT_SHUTDOWN_GRACE_MS", "15000")
        .env("RUST_LOG", "info,sqlx=warn,lapin=warn")
        .env_remove("DATABASE_READ_URL")
        .envs(extra_env.iter().copied())
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true)
        .spawn()
        .expect("humit starts");
    (child, format!("http://127.0.0.1:{port}"), log_path)
}

/// A client that opens a connection per request: a refusal is then always at connect.
pub fn one_connection_per_request() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Waits until the process at `base` is ready and its relay the active one.
pub async fn wait_until_relaying(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("{base}/ready")).send().await;
        if let Ok(r) = ready {
            let body: Value = r.json().await.unwrap_or_default();
            if body["relay"]["active_here"] == true {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the child never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
