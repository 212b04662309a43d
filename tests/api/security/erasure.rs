//! Finding 10: erasing a person also deletes the mail kept for them in the outbox
//! (`HUMIT_DATA_DIR/outbox/`, used when no SMTP server is configured), and the dead-letter
//! queue never holds a message's body.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::eventually;
use crate::techfesia::{spawn, Tf};

/// The outbox files, as text.
fn outbox(tf: &Tf) -> Vec<String> {
    std::fs::read_dir(tf.app.config.data_dir.join("outbox"))
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

#[tokio::test]
async fn erasing_a_person_deletes_their_outbox_mail() {
    let tf = spawn().await;
    let root = tf.root().await;
    for name in ["test_user_001", "test_user_002"] {
        tf.create_user(name, "Hello World").await;
        let a = tf
            .post("/auth/password/reset/", None, json!({"username": name}))
            .await;
        assert_eq!(a.status, 202, "{a:?}");
    }
    eventually(Duration::from_secs(10), || async { outbox(&tf).len() == 2 }).await;
    let a = tf
        .call(Method::DELETE, "/users/test_user_001/", Some(&root), None)
        .await;
    assert!(a.status < 300, "{a:?}");
    let left = outbox(&tf);
    assert!(
        left.iter().all(|m| !m.contains("test_user_001")),
        "the erased person's mail is gone"
    );
    assert_eq!(left.len(), 1, "the other person's mail stays");
    assert!(left[0].contains("test_user_002@testers.techfesia.iiits.in"));
}

/// Finding 10: a message a projector cannot decode is dead-lettered as a stub (ids, position,
/// projection, reason) on the real RabbitMQ dead-letter queue, never with its body, so the
/// personal data a message carries in clear does not outlive the person's erasure there.
#[tokio::test]
async fn the_dead_letter_queue_keeps_ids_not_personal_data() {
    use lapin::options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions};
    use lapin::types::{AMQPValue, FieldTable};

    let app = crate::helpers::spawn_app().await;
    let exchange = app.config.exchange.clone();
    let dead = humit::bus::broker::dead_letter_name(&exchange);
    let conn = lapin::Connection::connect(
        &crate::helpers::amqp_url(),
        lapin::ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let channel = conn.create_channel().await.unwrap();
    // Wait for the projectors to declare their queues and the dead-letter queue.
    let queue = humit::bus::broker::projection_queue(&exchange, "users");
    eventually(Duration::from_secs(20), || async {
        let probe = conn.create_channel().await.unwrap();
        probe
            .queue_declare(
                queue.as_str().into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map(|q| q.consumer_count() > 0)
            .unwrap_or(false)
    })
    .await;
    // A message in a shape the projectors cannot read (as a newer version might publish),
    // carrying an email in clear.
    let mut headers = FieldTable::default();
    headers.insert(
        "aggregate_type".into(),
        AMQPValue::LongString("User".into()),
    );
    headers.insert(
        "aggregate_id".into(),
        AMQPValue::LongString("u-erased".into()),
    );
    headers.insert("position".into(), AMQPValue::LongLongInt(424_242));
    headers.insert(
        "x-note".into(),
        AMQPValue::LongString("ada.lovelace@example.com".into()),
    );
    let body = br#"{"format": 99, "payload": {"email": {"$pii": "ada.lovelace@example.com"}}}"#;
    channel
        .basic_publish(
            exchange.as_str().into(),
            "User.UserRegistered".into(),
            BasicPublishOptions::default(),
            body,
            lapin::BasicProperties::default()
                .with_headers(headers)
                .with_message_id("m-1".into()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let mut letters = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // Every projection bound to `#` dead-letters it once.
    while letters.is_empty() || tokio::time::Instant::now() < deadline {
        match channel
            .basic_get(dead.as_str().into(), BasicGetOptions::default())
            .await
        {
            Ok(Some(message)) => {
                message.ack(BasicAckOptions::default()).await.unwrap();
                letters.push(message.delivery);
            }
            _ if letters.is_empty() => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "nothing dead-lettered"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => break,
        }
    }
    for letter in &letters {
        let text = format!(
            "{} {:?}",
            String::from_utf8_lossy(&letter.data),
            letter.properties
        );
        assert!(
            !text.contains("ada.lovelace"),
            "personal data dead-lettered: {text}"
        );
        let headers = letter.properties.headers().as_ref().unwrap().inner();
        assert_eq!(
            headers.get("position"),
            Some(&AMQPValue::LongLongInt(424_242)),
            "{text}"
        );
        assert_eq!(
            headers.get("aggregate_id"),
            Some(&AMQPValue::LongString("u-erased".into()))
        );
        assert!(headers.contains_key("x-humit-projection"), "{text}");
        assert_eq!(
            letter.properties.message_id().as_ref().map(|m| m.as_str()),
            Some("m-1")
        );
    }
}
