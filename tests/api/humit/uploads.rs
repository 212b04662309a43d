//! Profile picture uploads with the embedded store: a signed, expiring URL to humit itself.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{
    assert_error, assert_error_for, jpeg, keys, spawn, spawn_configured, Humit, Refusal, Session,
    UPLOAD,
};

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub async fn upload_url(h: &Humit, s: &Session) -> (String, String) {
    let slot = h.upload_slot(s).await;
    assert_eq!(keys(&slot), ["id", "upload_url"]);
    (
        slot["id"].as_str().unwrap().to_string(),
        slot["upload_url"].as_str().unwrap().to_string(),
    )
}

pub async fn put(h: &Humit, url: &str, content_type: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let response = h
        .app
        .client
        .put(url)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_uploaded_jpeg_becomes_the_profile_picture() {
    let h = spawn().await;
    let s = h.signup("pictured").await;
    let (id, url) = upload_url(&h, &s).await;
    // A signed, expiring URL for this user's key, on humit's public URL.
    let prefix = format!(
        "{}/api/files/profile_images/{}/{id}.jpg?",
        h.app.address, s.user_id
    );
    assert!(url.starts_with(&prefix), "{url}");
    let q = query(&url);
    assert_eq!(q["content_type"], "image/jpeg");
    let expires: i64 = q["expires"].parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(expires > now && expires <= now + 300, "{expires} vs {now}");
    let bytes = jpeg(2048);
    let (status, body) = put(&h, &url, "image/jpeg", bytes.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pic = format!(
        "{}/api/files/profile_images/{}/{id}.jpg",
        h.app.address, s.user_id
    );
    assert_eq!(body["data"]["profile_pic_url"], pic.as_str());
    assert_eq!(h.profile(&s).await["profile_pic_url"], pic.as_str());
    // The picture is served back as a JPEG.
    let served = h.app.client.get(&pic).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert_eq!(served.bytes().await.unwrap().to_vec(), bytes);
    // Others see it too.
    let viewer = h.signup("viewer").await;
    let target = format!("/api/users/referral_code/?code={}", s.referral_code);
    let (_, owner) = h.get(&viewer.access, &target).await;
    assert_eq!(owner["data"]["profile_pic_url"], pic.as_str());
    // A second upload replaces the first.
    let (id2, url2) = upload_url(&h, &s).await;
    assert_ne!(id2, id);
    let (status, _) = put(&h, &url2, "image/jpeg", jpeg(100)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h.profile(&s).await["profile_pic_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{id2}.jpg")));
}

#[tokio::test]
async fn uploads_must_be_small_jpegs_on_an_untampered_url() {
    let h = spawn_configured(|c| c.upload_limit = 1024).await;
    let s = h.signup("careful").await;
    let (_, url) = upload_url(&h, &s).await;
    assert_eq!(query(&url)["max_size"], "1024");
    let (status, body) = put(&h, &url, "image/png", jpeg(100)).await;
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "INVALID_CONTENT_TYPE",
    );
    let (status, body) = put(&h, &url, "image/jpeg", b"GIF89a-not-a-jpeg".to_vec()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_IMAGE");
    let (status, body) = put(&h, &url, "image/jpeg", jpeg(1025)).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "FILE_TOO_LARGE",
    );
    // Tampering with any signed part breaks the signature.
    let expires = query(&url)["expires"].clone();
    let later = format!("expires={}", expires.parse::<i64>().unwrap() + 3600);
    let tampered = [
        url.replace("max_size=1024", "max_size=999999"),
        url.replace(&format!("expires={expires}"), &later),
        url.replace(&s.user_id, "someoneelse"),
        url.split('?').next().unwrap().to_string(),
    ];
    for url in tampered {
        let (status, body) = put(&h, &url, "image/jpeg", jpeg(100)).await;
        let (what, forbidden) = (format!("PUT {url}: "), StatusCode::FORBIDDEN);
        assert_error_for(&what, status, &body, forbidden, "UPLOAD_URL_INVALID");
    }
    // None of that changed the picture.
    assert_eq!(h.profile(&s).await["profile_pic_url"], "");
    let unknown = format!("/api/files/profile_images/{}/nope.jpg", s.user_id);
    let rows = [
        // Missing or other file types.
        Refusal::post(
            400,
            UPLOAD,
            json!({"file_type": "video"}),
            "INVALID_FILE_TYPE",
        ),
        Refusal::post(400, UPLOAD, json!({}), "MISSING_FIELD"),
        // Unknown files.
        Refusal::get(404, unknown, "FILE_NOT_FOUND"),
    ];
    h.refuses(Some(&s.access), rows).await;
}

#[tokio::test]
async fn the_upload_request_needs_no_json_content_type() {
    // The seed's request names only the Authorization header: the body is read as JSON
    // whatever its Content-Type (none, or text/plain as fetch sends a string body).
    let h = spawn().await;
    let s = h.signup("untyped").await;
    let send = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = h
            .app
            .client
            .post(h.app.url("/api/users/files/upload/"))
            .header("Authorization", format!("humit {}", s.access))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    for content_type in [None, Some("text/plain;charset=UTF-8")] {
        let (status, body) = send(content_type, r#"{"file_type": "profile"}"#).await;
        assert_eq!(status, StatusCode::OK, "{content_type:?}: {body}");
        assert_eq!(body["success"], true);
        assert_eq!(keys(&body["data"]), ["id", "upload_url"]);
    }
    for (bad, code) in [
        ("", "MISSING_FIELD"),
        ("{not json", "INVALID_JSON"),
        (r#"{"file_type": 7}"#, "INVALID_INPUT"),
    ] {
        let (status, body) = send(None, bad).await;
        let bad_request = StatusCode::BAD_REQUEST;
        assert_error_for(&format!("{bad:?}: "), status, &body, bad_request, code);
    }
}
