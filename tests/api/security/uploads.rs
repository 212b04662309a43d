//! Finding 9: a completed local upload cannot be overwritten through its URL, and a stored
//! picture keeps no EXIF (GPS), XMP or comment.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::humit::{spawn, Humit, Session};

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// A small JPEG as a phone writes it: JFIF, EXIF with a GPS position, a comment, tables, scan.
pub(crate) fn phone_jpeg() -> (Vec<u8>, Vec<u8>) {
    let jfif = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let exif = segment(
        0xE1,
        b"Exif\0\0MM\0*GPSLatitude 48.858370 GPSLongitude 2.294481",
    );
    let comment = segment(0xFE, b"home sweet home");
    let dqt = segment(0xDB, &[7; 65]);
    let scan = [
        &segment(0xDA, &[1, 1, 0, 0, 0x3F, 0])[..],
        &[0x12, 0xFF, 0x00, 0x34, 0x56, 0xFF, 0xD9],
    ]
    .concat();
    let picture = [&[0xFF, 0xD8][..], &jfif, &exif, &comment, &dqt, &scan].concat();
    let clean = [&[0xFF, 0xD8][..], &jfif, &dqt, &scan].concat();
    (picture, clean)
}

async fn upload_url(h: &Humit, s: &Session) -> String {
    crate::humit::uploads::upload_url(h, s).await.1
}

async fn put(h: &Humit, url: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    crate::humit::uploads::put(h, url, "image/jpeg", bytes).await
}

#[tokio::test]
async fn a_stored_picture_keeps_no_gps_and_cannot_be_overwritten() {
    let h = spawn().await;
    let s = h.signup("pictured").await;
    let url = upload_url(&h, &s).await;
    let (picture, clean) = phone_jpeg();
    let (status, body) = put(&h, &url, picture).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let served_url = body["data"]["profile_pic_url"]
        .as_str()
        .unwrap()
        .to_string();
    let served = h.app.client.get(&served_url).send().await.unwrap();
    let bytes = served.bytes().await.unwrap().to_vec();
    assert_eq!(
        bytes, clean,
        "the metadata segments are gone, the image is intact"
    );
    assert!(!String::from_utf8_lossy(&bytes).contains("GPS"));
    // The same (still unexpired) URL cannot replace the completed picture.
    let (status, body) = put(&h, &url, crate::humit::jpeg(1024)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["display_error"]["code"], "UPLOAD_URL_INVALID",
        "{body}"
    );
    let again = h.app.client.get(&served_url).send().await.unwrap();
    assert_eq!(again.bytes().await.unwrap().to_vec(), clean);
}

/// Finding 8: upload URLs are capped per user per minute (S3 and local alike: the cap is
/// in the use case), then 429 with `Retry-After` in the humit envelope.
#[tokio::test]
async fn upload_urls_are_capped_per_user_per_minute() {
    let h = crate::humit::spawn_configured(|c| c.uploads_per_minute = 3).await;
    let s = h.signup("uploader").await;
    for _ in 0..3 {
        upload_url(&h, &s).await;
    }
    let r = h
        .app
        .client
        .post(h.app.url("/api/users/files/upload/"))
        .header("authorization", format!("humit {}", s.access))
        .json(&json!({"file_type": "profile"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["display_error"]["code"], "TOO_MANY_REQUESTS", "{body}");
    assert_eq!(body["success"], false);
    // Another user is not affected.
    let other = h.signup("someone_else").await;
    upload_url(&h, &other).await;
}
