//! The OpenAPI 3.1 document of the whole HTTP API, generated from the code with utoipa, served
//! at `/openapi.json`, and `/docs`: a small self-contained page that lists the operations of
//! that document (no assets fetched from anywhere).
//!
//! Each dialect describes its own paths in its folder (`#[derive(OpenApi)]`); [`document`]
//! merges them. The humit dialect's paths go in the marked place below.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::answers::CommonAnswers;
use super::techfesia::TechfesiaApi;
use crate::state::AppState;

/// Adds the security schemes of the dialects and the admin API, all in one place: two Bearer
/// JWTs from `POST /auth/token/` (any Techfesia user; a superuser for the admin API) and
/// humit's own `Authorization: humit <token>`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description) in [
            (
                "bearer",
                "Techfesia: `Authorization: Bearer <access token>` from `POST /auth/token/`",
            ),
            (
                "admin",
                "Admin API: `Authorization: Bearer <access token>` of a superuser, from \
                 `POST /auth/token/`",
            ),
        ] {
            let mut bearer = Http::new(HttpAuthScheme::Bearer);
            bearer.bearer_format = Some("JWT".into());
            bearer.description = Some(description.into());
            components.add_security_scheme(name, SecurityScheme::Http(bearer));
        }
        components.add_security_scheme(
            "humit",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "humit app: `Authorization: humit <humit_access_token>` (the refresh token on \
                 `POST /api/users/auth/token-refresh/`)",
            ))),
        );
    }
}

/// The root document: title, version, security schemes. The dialects' paths are merged in
/// by [`document`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "humit",
        description = "One event log, two API dialects: the Techfesia user API (`/auth/...`, \
                       `/users...`) and the humit app API (`/api/...`), plus the admin API \
                       (`/admin/...`, superusers). Trailing slashes are optional on every \
                       path. The event stream is described by `/asyncapi.json`.",
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// The whole OpenAPI document: the dialects' paths, the admin API, the operational
/// endpoints, then the answers every operation shares ([`CommonAnswers`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // Techfesia dialect (`src/http/techfesia/`).
    doc.merge(TechfesiaApi::openapi());
    // humit dialect (`src/http/humit/`).
    doc.merge(super::humit::HumitApi::openapi());
    // Admin API (`src/http/admin/`).
    doc.merge(super::admin::AdminApi::openapi());
    // `/health`, `/ready`, `/metrics`, this document and `/docs`.
    doc.merge(OpsApi::openapi());
    CommonAnswers.modify(&mut doc);
    doc
}

/// The operational endpoints and the documents themselves.
#[derive(OpenApi)]
#[openapi(
    paths(
        super::health::health, super::health::ready, super::health::metrics, openapi_json,
        docs, super::asyncapi::asyncapi_json,
    ),
    components(schemas(super::health::HealthDto, super::health::ReadyDto, super::health::RelayDto)),
    tags((name = "ops", description = "Liveness, readiness, metrics and the API documents"))
)]
struct OpsApi;

/// `/openapi.json` and `/docs`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
}

/// This document (OpenAPI 3.1).
#[utoipa::path(
    get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> Response {
    static JSON: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    match JSON.get_or_init(|| document().to_json().map_err(|e| e.to_string())) {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json.clone()).into_response(),
        Err(error) => {
            tracing::error!(%error, "the OpenAPI document does not serialize");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A page listing the operations of this document.
#[utoipa::path(
    get, path = "/docs", tag = "ops",
    responses((status = 200, description = "The API documentation page", content_type = "text/html", body = String))
)]
async fn docs() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

/// A page that fetches `/openapi.json` and lists every operation with its parameters,
/// request body and responses, schemas expanded on demand.
const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>humit API</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #222; }
  h1 { margin-bottom: 0; } .desc { color: #555; }
  details.op { border: 1px solid #ddd; border-radius: 6px; margin: .4rem 0; }
  details.op > summary { cursor: pointer; padding: .45rem .6rem; font-family: ui-monospace, monospace; }
  .m { display: inline-block; min-width: 4.2rem; font-weight: bold; text-transform: uppercase; }
  .get { color: #0a6; } .post { color: #06c; } .put { color: #b70; } .patch { color: #a5a; } .delete { color: #c22; }
  .body { padding: 0 .9rem .6rem; } pre { background: #f6f6f6; padding: .5rem; overflow: auto; }
  h2 { border-bottom: 1px solid #eee; margin-top: 1.6rem; } .lock { color: #999; }
</style>
</head>
<body>
<h1>humit API</h1>
<p class="desc" id="desc">Loading <a href="/openapi.json">/openapi.json</a>…</p>
<div id="ops"></div>
<script>
"use strict";
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
function resolve(doc, s, depth = 0) {
  if (!s || depth > 6) return s;
  if (s.$ref) return resolve(doc, doc.components.schemas[s.$ref.split("/").pop()], depth + 1);
  const out = Array.isArray(s) ? [] : {};
  for (const [k, v] of Object.entries(s)) out[k] = typeof v === "object" && v ? resolve(doc, v, depth + 1) : v;
  return out;
}
function schemaBlock(doc, content) {
  if (!content) return "";
  const media = Object.values(content)[0];
  return el("pre", {}, JSON.stringify(resolve(doc, media && media.schema), null, 2));
}
fetch("/openapi.json").then(r => r.json()).then(doc => {
  document.title = doc.info.title;
  document.getElementById("desc").textContent = doc.info.description || "";
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== "object" || !op.responses) continue;
      const tag = (op.tags && op.tags[0]) || "other";
      (byTag[tag] = byTag[tag] || []).push({ path, method, op });
    }
  }
  const root = document.getElementById("ops");
  for (const [tag, ops] of Object.entries(byTag)) {
    root.append(el("h2", {}, tag));
    for (const { path, method, op } of ops) {
      const body = el("div", { class: "body" });
      if (op.description || op.summary) body.append(el("p", {}, op.description || op.summary));
      if (op.parameters && op.parameters.length) {
        const ul = el("ul");
        for (const p of op.parameters) ul.append(el("li", {}, `${p.name} (${p.in}${p.required ? ", required" : ""}) ${p.description || ""}`));
        body.append(el("h4", {}, "Parameters"), ul);
      }
      if (op.requestBody) body.append(el("h4", {}, "Request body"), schemaBlock(doc, op.requestBody.content));
      body.append(el("h4", {}, "Responses"));
      for (const [status, resp] of Object.entries(op.responses)) {
        body.append(el("div", {}, el("b", {}, status), " ", resp.description || ""));
        if (resp.content) body.append(schemaBlock(doc, resp.content));
      }
      const lock = op.security && op.security.length ? el("span", { class: "lock" }, " 🔒") : "";
      root.append(el("details", { class: "op" },
        el("summary", {}, el("span", { class: "m " + method }, method), " ", path, lock), body));
    }
  }
}).catch(e => { document.getElementById("desc").textContent = "Could not load /openapi.json: " + e; });
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_the_techfesia_paths_with_bearer_security() {
        let doc = document();
        let json = serde_json::to_value(&doc).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in ["/auth/token/", "/users", "/users/{username}/password/"] {
            assert!(json["paths"].get(path).is_some(), "{path} missing");
        }
        let schemes = &json["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        // The admin API's and humit's schemes, declared in the same place.
        assert_eq!(schemes["admin"]["scheme"], "bearer");
        assert_eq!(schemes["humit"]["name"], "Authorization");
    }

    /// Every `$ref` of the document names a schema it has (a missing one makes clients and
    /// contract tests skip the body it describes).
    #[test]
    fn every_reference_resolves() {
        let json = serde_json::to_string(&document()).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let prefix = "\"#/components/schemas/";
        let missing: Vec<&str> = json
            .match_indices(prefix)
            .filter_map(|(at, _)| json[at + prefix.len()..].split('"').next())
            .filter(|name| !schemas.contains_key(*name))
            .collect();
        assert!(missing.is_empty(), "unresolved references: {missing:?}");
    }

    /// The Techfesia bodies whose rules need more than one schema object carry them
    /// (`techfesia::EitherField`): they are not silently published without.
    #[test]
    fn bodies_with_alternatives_publish_their_constraints() {
        let doc = serde_json::to_value(document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (name, parts) in [("ResetRequest", 2), ("SetPrivilegesRequest", 3)] {
            let all = schemas[name]["allOf"].as_array();
            assert_eq!(all.map(Vec::len), Some(parts), "{name}: {}", schemas[name]);
        }
    }

    /// `docs/openapi.json` is the served document, so that every change to the published
    /// contract shows in review as a diff of that file.
    #[test]
    fn the_document_in_docs_is_the_one_served() {
        let mut json = serde_json::to_string_pretty(&document()).unwrap();
        json.push('\n');
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &json).unwrap();
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept == json,
            "docs/openapi.json differs from the generated document; regenerate it with \
             `UPDATE_OPENAPI=1 cargo test --lib http::openapi`"
        );
    }
}
