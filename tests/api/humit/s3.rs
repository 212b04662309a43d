//! Profile picture uploads to S3, end to end against a local S3-compatible server:
//! `moto_server` (PyPI `moto[server]`), started here as a child process and killed at the end.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::Duration;

use humit::adapters::storage::S3Store;

use super::{jpeg, spawn_configured};

const BUCKET: &str = "humit-test-pics";

/// A running `moto_server`, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "the S3 test needs `moto_server` on PATH (install it with \
                     `pip install 'moto[server]'`): {e}"
                )
            });
        let moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if client
                .get(format!("{}/moto-api/", moto.endpoint))
                .send()
                .await
                .is_ok()
            {
                return moto;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "moto_server did not start on {}",
                moto.endpoint
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The app reads S3 credentials from the standard AWS variables; moto accepts any.
fn aws_credentials() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "humit-test-key");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "humit-test-secret");
    });
}

#[tokio::test]
async fn a_presigned_s3_upload_becomes_the_profile_picture() {
    let (moto, admin) = moto_with_bucket().await;
    let endpoint = moto.endpoint.clone();
    let h = spawn_configured(move |c| on_moto(c, endpoint)).await;
    let s = h.signup("cloudy").await;
    let slot = h.upload_slot(&s).await;
    let id = slot["id"].as_str().unwrap().to_string();
    let url = slot["upload_url"].as_str().unwrap().to_string();
    let key = format!("profile_images/{}/{id}.jpg", s.user_id);
    // Path-style on the configured endpoint, signed for image/jpeg, at most five minutes.
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(
        format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap()),
        "http://127.0.0.1"
    );
    assert_eq!(parsed.path(), format!("/{BUCKET}/{key}"));
    let q: HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    assert!(q["X-Amz-Expires"].parse::<u64>().unwrap() <= 300);
    assert!(q["X-Amz-SignedHeaders"]
        .split(';')
        .any(|h| h == "content-type"));
    // Nothing uploaded yet: no picture.
    assert_eq!(h.profile(&s).await["profile_pic_url"], "");
    // The client uploads straight to S3.
    let bytes = jpeg(4096);
    put_to(&h, &url, bytes.clone()).await;
    // humit sees it on the next profile read and makes it the picture, stored under a key
    // of its own (no upload URL can write there); the uploaded object is removed.
    let picture = format!("profile_images/{}/{id}-p.jpg", s.user_id);
    let expected = format!("{}/{BUCKET}/{picture}", moto.endpoint);
    assert_eq!(h.profile(&s).await["profile_pic_url"], expected.as_str());
    assert!(!exists(&admin, &key).await);
    let (content_type, stored) = object(&admin, &picture).await;
    assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(stored, bytes);

    // An object of another type is refused (and removed), whatever the store let through.
    let bad_id = h.upload_slot(&s).await["id"].as_str().unwrap().to_string();
    let bad_key = format!("profile_images/{}/{bad_id}.jpg", s.user_id);
    admin
        .client()
        .put_object()
        .bucket(BUCKET)
        .key(&bad_key)
        .content_type("image/png")
        .body(b"\x89PNG....".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(h.profile(&s).await["profile_pic_url"], expected.as_str());
    assert!(!exists(&admin, &bad_key).await);
}

async fn exists(admin: &S3Store, key: &str) -> bool {
    admin
        .client()
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .is_ok()
}

/// The object stored under `key` in the bucket: its content type and its bytes.
async fn object(admin: &S3Store, key: &str) -> (Option<String>, Vec<u8>) {
    let object = admin
        .client()
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key} is stored: {e}"));
    let content_type = object.content_type().map(str::to_string);
    let bytes = object.body.collect().await.unwrap().into_bytes().to_vec();
    (content_type, bytes)
}

/// Points the app's storage at moto's bucket.
fn on_moto(c: &mut humit::config::Config, endpoint: String) {
    c.s3_bucket = Some(BUCKET.into());
    c.s3_endpoint = Some(endpoint);
    c.s3_region = "us-east-1".into();
}

async fn moto_with_bucket() -> (Moto, S3Store) {
    aws_credentials();
    let moto = Moto::start().await;
    let admin = S3Store::with_credentials(
        BUCKET,
        Some(&moto.endpoint),
        "us-east-1",
        "humit-test-key",
        "humit-test-secret",
    );
    admin
        .client()
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket created on moto");
    (moto, admin)
}

async fn put_to(h: &super::Humit, url: &str, bytes: Vec<u8>) {
    let put = h
        .app
        .client
        .put(url)
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
}

/// Finding 8 and 9 on S3: an object over `HUMIT_UPLOAD_LIMIT` is refused and deleted; an
/// accepted one loses its EXIF/GPS before it becomes the picture; an upload never completed
/// is deleted once older than `HUMIT_PENDING_UPLOAD_MAX_AGE_SECS` and never becomes the
/// picture.
#[tokio::test]
async fn s3_uploads_are_bounded_stripped_and_swept() {
    let (moto, admin) = moto_with_bucket().await;
    let endpoint = moto.endpoint.clone();
    let h = spawn_configured(move |c| {
        on_moto(c, endpoint);
        c.upload_limit = 2048;
        c.pending_upload_max_age_secs = 4;
        c.upload_sweep_secs = 1;
    })
    .await;
    let s = h.signup("stormy").await;
    let key_of = |id: &str| format!("profile_images/{}/{id}.jpg", s.user_id);

    // Over the limit: refused and deleted.
    let big = h.upload_slot(&s).await;
    let big_id = big["id"].as_str().unwrap().to_string();
    put_to(&h, big["upload_url"].as_str().unwrap(), jpeg(4096)).await;
    assert_eq!(h.profile(&s).await["profile_pic_url"], "");
    assert!(
        !exists(&admin, &key_of(&big_id)).await,
        "an oversized object is deleted"
    );

    // A phone's picture: no GPS left in what is served.
    let (phone, clean) = crate::security::uploads::phone_jpeg();
    let slot = h.upload_slot(&s).await;
    let id = slot["id"].as_str().unwrap().to_string();
    put_to(&h, slot["upload_url"].as_str().unwrap(), phone).await;
    let picture = format!("profile_images/{}/{id}-p.jpg", s.user_id);
    let expected = format!("{}/{BUCKET}/{picture}", moto.endpoint);
    assert_eq!(h.profile(&s).await["profile_pic_url"], expected.as_str());
    let (_, stored) = object(&admin, &picture).await;
    assert!(!String::from_utf8_lossy(&stored).contains("GPS"));
    assert_eq!(stored, clean);

    // Uploaded, never completed: swept once old, and never the picture.
    let late = h.upload_slot(&s).await;
    let late_id = late["id"].as_str().unwrap().to_string();
    put_to(&h, late["upload_url"].as_str().unwrap(), jpeg(1024)).await;
    assert!(exists(&admin, &key_of(&late_id)).await);
    crate::helpers::eventually(Duration::from_secs(20), || async {
        !exists(&admin, &key_of(&late_id)).await
    })
    .await;
    assert_eq!(h.profile(&s).await["profile_pic_url"], expected.as_str());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_uploads")
        .fetch_one(&h.app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "every upload key swept and forgotten");
    // The picture itself is never swept.
    assert!(exists(&admin, &picture).await);
}
