//! Finding 10 (in part): erasing a person also deletes the mail kept for them in the outbox
//! (`HUMIT_DATA_DIR/outbox/`, used when no SMTP server is configured).

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
    tf.app.stop().await;
}
