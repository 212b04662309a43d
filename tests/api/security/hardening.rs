//! From finding 9: a JWT secret under 32 bytes is refused at start-up.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::test_config;

#[tokio::test]
async fn a_jwt_secret_under_32_bytes_is_refused_at_start_up() {
    let config = test_config();
    let mut child = Command::new(env!("CARGO_BIN_EXE_humit"))
        .arg("serve")
        .env("DATABASE_URL", &config.database_url)
        .env("AMQP_URL", &config.amqp_url)
        .env("HUMIT_EXCHANGE", &config.exchange)
        .env("HUMIT_ADDR", "127.0.0.1:0")
        .env("HUMIT_DATA_DIR", &config.data_dir)
        .env("HUMIT_QUEUE_EXPIRES_MS", "60000")
        .env("HUMIT_JWT_SECRET", "only-31-bytes-of-a-jwt-secret!!")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("humit started with a 31-byte JWT secret");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("HUMIT_JWT_SECRET has 31 bytes; it must have at least 32"),
        "{stderr}"
    );
}
