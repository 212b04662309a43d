//! From finding 9: a short JWT secret is refused at start-up; the admin console and served
//! files carry `nosniff`, a Content Security Policy and `frame-ancestors 'none'`; creating a
//! station takes the `station: create` privilege.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aggregates::user::{Action, Privileges, Role};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, test_config};
use crate::humit::{jpeg, spawn};

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

/// `'sha256-<base64>'` of the text between `<tag>` and `</tag>` in `page`.
fn inline_hash(page: &str, tag: &str) -> String {
    let body = page
        .split_once(&format!("<{tag}>"))
        .and_then(|(_, rest)| rest.split_once(&format!("</{tag}>")))
        .map(|(body, _)| body)
        .expect("an inline block");
    let digest = Sha256::digest(body.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[tokio::test]
async fn the_admin_console_is_not_sniffed_framed_or_scripted_from_elsewhere() {
    let app = spawn_app().await;
    for path in ["/admin/", "/admin", "/admin/events"] {
        let answer = app.get(path).await;
        let headers = answer.headers().clone();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        let policy = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        if path != "/admin/events" {
            // The page's own inline script and style, and nothing else, may run.
            assert_eq!(answer.status(), StatusCode::OK);
            let page = answer.text().await.unwrap();
            let script = inline_hash(&page, "script");
            let style = inline_hash(&page, "style");
            assert!(
                policy.contains(&format!("script-src {script};")),
                "{policy}"
            );
            assert!(policy.contains(&format!("style-src {style};")), "{policy}");
        } else {
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        }
    }
}

#[tokio::test]
async fn a_served_upload_is_an_image_and_nothing_else() {
    let h = spawn().await;
    let s = h.signup("pictured").await;
    let slot = h.upload_slot(&s).await;
    let upload_url = slot["upload_url"].as_str().unwrap();
    let answer = h
        .app
        .client
        .put(upload_url)
        .header("content-type", "image/jpeg")
        .body(jpeg(2048))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let picture = h.profile(&s).await["profile_pic_url"]
        .as_str()
        .unwrap()
        .to_string();
    let served = h.app.client.get(&picture).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let headers = served.headers();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("sandbox"), "{policy}");
}

#[tokio::test]
async fn creating_a_station_takes_the_station_create_privilege() {
    let h = spawn().await;
    let station = json!({"name": "Mine", "description": "", "image_url": ""});
    let only = |model: &str, action: Action| Privileges::from([(model.into(), [action].into())]);
    for (who, privileges) in [
        ("no_privileges", Privileges::new()),
        ("reader", only("station", Action::Read)),
        ("user_creator", only("user", Action::Create)),
    ] {
        let staff = h.with_role(who, Role::Staff, privileges).await;
        let (status, body) = h
            .post(&staff.access, "/api/stations/", station.clone())
            .await;
        crate::humit::assert_error(status, &body, StatusCode::FORBIDDEN, "PERMISSION_DENIED");
    }
    let curator = h
        .with_role("curator", Role::Staff, only("station", Action::Create))
        .await;
    let (status, body) = h
        .post(&curator.access, "/api/stations/", station.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let root = h
        .with_role("root", Role::Superuser, Privileges::new())
        .await;
    let (status, body) = h.post(&root.access, "/api/stations/", station).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
