//! The published contracts against the running app: `/asyncapi.json` is `docs/asyncapi.json`
//! byte for byte, and `/openapi.json` lists exactly the methods each path serves (a method
//! no path declares answers 405 with `Allow` naming the documented ones), every operation
//! documents the answers it can give on an outage, and the admin API has its own security.

use std::collections::BTreeSet;

use humit::http::answers::NO_OUTAGE_ANSWER;
use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn openapi(app: &TestApp) -> Value {
    let res = app.get("/openapi.json").await;
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_asyncapi_document_served_is_the_one_in_docs() {
    let app = spawn_app().await;
    let res = app.get("/asyncapi.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let served = res.text().await.unwrap();
    let kept = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/asyncapi.json"))
        .unwrap();
    assert!(
        served == kept,
        "docs/asyncapi.json differs from /asyncapi.json"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert!(doc["channels"]["User_UserRegistered"]["address"] == "User.UserRegistered");
}

#[tokio::test]
async fn every_documented_path_serves_exactly_its_documented_methods() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        let documented: BTreeSet<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        // Path parameters get a value; `{key}` of `/api/files/{key}` spans segments.
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let res = app
            .client
            .request(reqwest::Method::TRACE, app.url(&concrete))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "TRACE {concrete}");
        let allow: BTreeSet<String> = res.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| m != "HEAD")
            .collect();
        assert_eq!(allow, documented, "Allow of {path}");
        let body: Value = res.json().await.unwrap();
        if path.starts_with("/api/") {
            assert_eq!(body["success"], false, "{path}: {body}");
        } else {
            assert!(body["detail"].is_string(), "{path}: {body}");
        }
    }
}

#[tokio::test]
async fn every_operation_documents_its_outage_answer_and_the_admin_api_its_security() {
    let app = spawn_app().await;
    let doc = openapi(&app).await;
    let mut admin_operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let responses = &op["responses"];
            if !NO_OUTAGE_ANSWER.contains(&path.as_str()) {
                let outage = &responses["503"];
                assert!(outage.is_object(), "{method} {path} has no 503");
                assert!(
                    outage["headers"]["Retry-After"].is_object(),
                    "{method} {path}"
                );
            }
            if op.get("requestBody").is_some() {
                assert!(responses["413"].is_object(), "{method} {path} has no 413");
            }
            if path.starts_with("/admin/") {
                admin_operations += 1;
                assert_eq!(op["tags"][0], "admin", "{method} {path}");
                assert_eq!(op["security"][0]["admin"], serde_json::json!([]), "{path}");
                assert!(responses["401"].is_object() && responses["403"].is_object());
            }
        }
    }
    assert_eq!(admin_operations, 7);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["admin"]["scheme"], "bearer");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["humit"]["type"], "apiKey");
    assert_eq!(schemes["humit"]["in"], "header");
    assert_eq!(schemes["humit"]["name"], "Authorization");
}
