//! `humit create-superuser`: the real binary against the test's database, then the API.

use serde_json::json;

use super::spawn;
use crate::helpers::assert_success;

#[tokio::test]
async fn create_superuser_makes_the_first_superuser() {
    let tf = spawn().await;
    let database_url = tf.app.config.database_url.clone();
    let data_dir = tf.app.config.data_dir.clone();
    // Every process on one database must key claims alike.
    let claim_key = tf.app.config.claim_key.clone().unwrap();
    let run = move |username: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_humit"))
            .arg("--database-url")
            .arg(&database_url)
            .arg("--data-dir")
            .arg(&data_dir)
            .env(
                "HUMIT_JWT_SECRET",
                "cli-test-secret-cli-test-secret-cli-test",
            )
            .env("HUMIT_CLAIM_KEY", &claim_key)
            .env("HUMIT_SUPERUSER_PASSWORD", "Hello Superuser Password")
            .args(["create-superuser", "--username", username])
            .args(["--email", "root@techfesia.example"])
            .output()
            .expect("the binary runs")
    };
    let out = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run("sample_superuser_001")
    })
    .await
    .unwrap();
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("superuser sample_superuser_001 created"),
        "{stdout}"
    );
    assert!(!stdout.contains("Hello Superuser Password"));

    // The API sees it: sign in (the seed's superuser pair) and act as superuser.
    let (root, _) = tf
        .login("sample_superuser_001", "Hello Superuser Password")
        .await;
    let a = tf
        .get("/users/sample_superuser_001/privileges", Some(&root))
        .await;
    assert_eq!((a.status, a.body), (200, json!({"state": "superuser"})));
    tf.create_user("test_user_001", "Hello World").await;
    let a = tf
        .put(
            "/users/test_user_001/privileges",
            Some(&root),
            json!({"state": "staff", "privileges": {"user": ["read"]}}),
        )
        .await;
    assert_eq!(a.status, 200);

    // Taken: refused, with a message and a failing exit code.
    let out = tokio::task::spawn_blocking(move || run("sample_superuser_001"))
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));
}
