//! Finding 9: `/ready` keeps one broker connection instead of opening one per call, and a
//! revocation feed that stops catching up turns readiness red (fails closed).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{eventually, spawn_app, spawn_with, test_config, TestApp};
use humit::startup::Mode;

/// A TCP proxy to RabbitMQ that counts the connections made through it.
async fn counting_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5672").await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("amqp://guest:guest@{addr}/%2f"), count)
}

async fn ready(app: &TestApp) -> (StatusCode, Value) {
    let r = app.get("/ready").await;
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn ready_reuses_one_broker_connection() {
    let (url, connections) = counting_proxy().await;
    let mut config = test_config();
    config.amqp_url = url;
    let app = spawn_with(config, Mode::ALL).await;
    let (status, body) = ready(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = connections.load(Ordering::SeqCst);
    for _ in 0..20 {
        let (status, body) = ready(&app).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["rabbitmq"], "ok");
    }
    let opened = connections.load(Ordering::SeqCst) - before;
    assert_eq!(
        opened, 0,
        "20 readiness checks opened {opened} broker connections"
    );
}

#[tokio::test]
async fn a_stalled_revocation_feed_fails_readiness_closed() {
    let app = spawn_app().await;
    let (status, body) = ready(&app).await;
    assert_eq!(
        (status, &body["revocations"]),
        (StatusCode::OK, &"ok".into()),
        "{body}"
    );
    // The feed can no longer read the log, while Postgres itself still answers.
    sqlx::query("ALTER TABLE events RENAME TO events_hidden")
        .execute(&app.pool)
        .await
        .unwrap();
    eventually(Duration::from_secs(15), || async {
        let (status, body) = ready(&app).await;
        status == StatusCode::SERVICE_UNAVAILABLE
            && body["revocations"] == "stale"
            && body["postgres"] == "ok"
    })
    .await;
    sqlx::query("ALTER TABLE events_hidden RENAME TO events")
        .execute(&app.pool)
        .await
        .unwrap();
    eventually(Duration::from_secs(15), || async {
        ready(&app).await.0 == StatusCode::OK
    })
    .await;
}
