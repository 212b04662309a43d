//! 10,000 hostile requests in both dialects (bad JSON, wrong types, deep nesting, invalid
//! UTF-8, no content type, oversized bodies, huge query strings, with and without a valid
//! token): each is a 4xx in the dialect's envelope, none a 5xx, and the resident memory of
//! the process (the real binary, a child of the test) stays flat.

use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;

use crate::child::{one_connection_per_request, rss_kib, start_child, wait_until_relaying};
use crate::helpers::{migrate, test_config};
use crate::humit::spotify::FakeSpotify;
use crate::probe;

/// The hostile bodies: (name, content type, bytes).
fn bodies() -> Vec<(&'static str, Option<&'static str>, Vec<u8>)> {
    let json = Some("application/json");
    vec![
        ("bad json", json, b"{\"username\": ".to_vec()),
        ("trailing garbage", json, b"{} xyz".to_vec()),
        (
            "wrong types",
            json,
            br#"{"username": 12, "password": [], "email": {"a": 1}, "display_username": false, "date_of_birth": 3.5, "station_id": null, "track_id": {}}"#.to_vec(),
        ),
        (
            "deep nesting",
            json,
            format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes(),
        ),
        ("invalid utf-8", json, b"{\"username\": \"\xff\xfe\xc0\"}".to_vec()),
        ("no content type", None, br#"{"username": "a"}"#.to_vec()),
        ("text/plain", Some("text/plain"), b"hello".to_vec()),
        ("oversized", json, {
            let mut b = b"{\"username\": \"".to_vec();
            b.extend(std::iter::repeat_n(b'a', 70 * 1024));
            b.extend(b"\"}");
            b
        }),
        ("empty", json, Vec::new()),
        ("null", json, b"null".to_vec()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_hostile_requests_get_4xx_in_the_envelope_and_memory_stays_flat() {
    let spotify = FakeSpotify::start().await;
    let mut config = test_config();
    config.spotify_api_url = spotify.url.clone();
    migrate(&config.database_url).await;
    let (mut child, base, _) = start_child(&config, "hostile", &[]).await;
    let pid = child.id().unwrap();
    // A connection per request: the server closes a connection whose body it refused
    // unread (413), and a pooled client would race that close.
    let client = one_connection_per_request();
    wait_until_relaying(&client, &base).await;
    spotify.grant("sp-hostile", "hostile-sp", Some("IN"));
    let signup = probe::json(
        client
            .post(format!("{base}/api/users/auth/signup/"))
            .json(&serde_json::json!({"access_token": "sp-hostile", "refresh_token": "r", "signup_method": "SPOTIFY", "notification_id": null})),
    )
    .await;
    let access = signup["data"]["humit_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let targets: Vec<(Method, &str, bool)> = vec![
        (Method::POST, "/users/", false),
        (Method::POST, "/auth/token/", false),
        (Method::POST, "/auth/token/refresh/", false),
        (Method::POST, "/auth/password/reset/", false),
        (Method::PUT, "/users/nobody/", false),
        (Method::POST, "/api/users/auth/signup/", false),
        (Method::POST, "/api/users/profile/", true),
        (Method::POST, "/api/hums/", true),
        (Method::POST, "/api/stations/", true),
        (Method::GET, "/api/users/discover/", true),
    ];
    let huge_query = format!("?limit={}&offset=-1", "9".repeat(16 * 1024));
    let mut requests = Vec::new();
    for (method, path, humit_auth) in &targets {
        // A GET reads no body: only its query string is hostile.
        for (name, content_type, body) in bodies().into_iter().filter(|_| *method != Method::GET) {
            requests.push((
                method.clone(),
                path.to_string(),
                *humit_auth,
                name,
                content_type,
                body,
            ));
        }
        requests.push((
            method.clone(),
            format!("{}{huge_query}", path),
            *humit_auth,
            "huge query",
            None,
            Vec::new(),
        ));
    }
    let total: usize = 10_000;
    let mut before = 0;
    let mut seen = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..total.div_ceil(requests.len()) {
        if round == 1 {
            before = rss_kib(pid);
        }
        let answers: Vec<(String, u16, Value)> = futures::stream::iter(requests.iter().cloned())
            .map(|(method, path, humit_auth, name, content_type, body)| {
                let mut request = client
                    .request(method.clone(), format!("{base}{path}"))
                    .body(body);
                if let Some(content_type) = content_type {
                    request = request.header("Content-Type", content_type);
                }
                if humit_auth {
                    request = request.header("Authorization", format!("humit {access}"));
                }
                async move {
                    let response = request.send().await.expect("answered");
                    let status = response.status().as_u16();
                    let body = response.json().await.unwrap_or(Value::Null);
                    (
                        format!("{method} {} ({name})", &path[..path.len().min(60)]),
                        status,
                        body,
                    )
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for (what, status, body) in answers {
            assert!((400..500).contains(&status), "{what}: {status} {body}");
            if what.contains("/api/") {
                assert_eq!(body["success"], false, "{what}: {body}");
                assert!(body["display_error"]["code"].is_string(), "{what}: {body}");
            } else {
                assert!(body.is_object(), "{what}: {status} {body}");
            }
            *statuses.entry(status).or_default() += 1;
            seen += 1;
        }
    }
    let after = rss_kib(pid);
    let grown = after.saturating_sub(before);
    eprintln!(
        "hostile: {seen} requests, statuses {statuses:?}, 0 5xx; RSS {before} KiB after the first round, {after} KiB at the end"
    );
    assert!(seen >= total);
    // Flat: a leak of even 100 bytes a request would show as ~1 MiB; allow noise.
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
    let _ = child.kill().await;
}
