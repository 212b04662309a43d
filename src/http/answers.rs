//! The answers an operation can give besides its own, added to every operation of
//! `/openapi.json` by [`CommonAnswers`], each in the envelope of the dialect the path belongs
//! to (humit `/api/...`: `HumitErrorBody`; admin `/admin/...`: `AdminErrorBody`; Techfesia
//! and the rest: `{"detail": ...}`):
//!
//! - **503** with `Retry-After` on every operation that touches the store or the broker (a
//!   store outage, never a 500);
//! - **400**, **413** on every operation that reads a JSON body (bad JSON, body over
//!   `HUMIT_BODY_LIMIT`), and **415** where the body must be sent as `application/json`
//!   (the dialects' `Json` extractor; the bodies a client may leave out are read whatever
//!   their content type);
//! - **429** with `Retry-After` on the unauthenticated routes that are throttled per client
//!   and account ([`THROTTLED`]).
//!
//! A body a client may leave out is sent as the object or not at all, never as `null`
//! (utoipa writes `Option<T>` bodies as `oneOf: [null, T]`; the `null` goes).
//!
//! An answer the operation documents already keeps its description; when its body has
//! another shape, the body becomes `anyOf` both.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{AnyOf, Schema};
use utoipa::openapi::{Content, HeaderBuilder, Ref, RefOr, Required};
use utoipa::openapi::{ObjectBuilder, Type};
use utoipa::Modify;

/// Operations that never answer the common 503: they touch neither the store nor the broker,
/// or (`/ready`) answer 503 with a body of their own.
pub const NO_OUTAGE_ANSWER: &[&str] = &[
    "/health",
    "/ready",
    "/metrics",
    "/openapi.json",
    "/asyncapi.json",
    "/docs",
    "/admin",
];

/// `(method, path)` of the operations throttled per client and account: sign-up, login,
/// OAuth sign-in, password reset, handle and invite-code checks. They answer 429 with
/// `Retry-After`.
pub const THROTTLED: &[(&str, &str)] = &[
    ("post", "/auth/token/"),
    ("post", "/auth/token/refresh/"),
    ("post", "/auth/o-auth/{provider}/"),
    ("post", "/auth/password/reset/"),
    ("post", "/users"),
    ("patch", "/users/{username}/password/"),
    ("put", "/users/{username}/password/"),
    ("post", "/api/users/auth/signup/"),
    ("post", "/api/users/auth/token-refresh/"),
    ("get", "/api/users/username/"),
    ("get", "/api/users/referral_code/"),
];

/// Operations whose JSON body is read whatever its content type (so no 415).
const ANY_CONTENT_TYPE: &[(&str, &str)] = &[("post", "/api/users/files/upload/")];

/// The dialect a path belongs to: the schema of its error bodies.
fn error_schema(path: &str) -> &'static str {
    if path.starts_with("/api/") {
        "HumitErrorBody"
    } else if path == "/admin" || path.starts_with("/admin/") {
        "AdminErrorBody"
    } else {
        "DetailDto"
    }
}

/// Adds the common answers to every operation.
pub struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in operations(item) {
                add_common(path, method, operation);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

fn add_common(path: &str, method: &str, operation: &mut Operation) {
    let error = error_schema(path);
    if !NO_OUTAGE_ANSWER.contains(&path) {
        let answer = with_retry_after(answer(
            "Unavailable: the event store or the broker is out; retry after `Retry-After` seconds",
            error,
        ));
        add(operation, "503", answer, error);
    }
    if THROTTLED.contains(&(method, path)) {
        let answer = with_retry_after(answer(
            "Too many attempts from this client or for this account; retry after `Retry-After` seconds",
            error,
        ));
        add(operation, "429", answer, error);
    }
    let Some(body) = operation.request_body.as_mut() else {
        return;
    };
    if !matches!(body.required, Some(Required::True)) {
        for content in body.content.values_mut() {
            if let Some(RefOr::T(Schema::OneOf(one_of))) = content.schema.as_mut() {
                one_of.items.retain(|item| !is_null(item));
                if one_of.items.len() == 1 {
                    content.schema = one_of.items.pop();
                }
            }
        }
    }
    if !body.content.contains_key("application/json") {
        return;
    }
    let json_required = matches!(body.required, Some(Required::True))
        && !ANY_CONTENT_TYPE.contains(&(method, path));
    add(
        operation,
        "400",
        answer("The body is not valid JSON", error),
        error,
    );
    add(
        operation,
        "413",
        answer("The body is larger than `HUMIT_BODY_LIMIT`", error),
        error,
    );
    if json_required {
        add(
            operation,
            "415",
            answer("The body was not sent as `application/json`", error),
            error,
        );
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into())
}

fn answer(description: &str, schema: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".into(),
        Content::new(Some(RefOr::Ref(Ref::from_schema_name(schema)))),
    );
    response
}

fn with_retry_after(mut response: Response) -> Response {
    let seconds = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .build();
    response.headers.insert(
        "Retry-After".into(),
        HeaderBuilder::new()
            .schema(seconds)
            .description(Some("Seconds to wait before retrying"))
            .build(),
    );
    response
}

/// Adds `answer` as `status`, or, when the operation documents `status` already, adds the
/// common body to its `anyOf` (and the `Retry-After` header) unless it is the same body.
fn add(operation: &mut Operation, status: &str, answer: Response, schema: &str) {
    let responses = &mut operation.responses.responses;
    let Some(RefOr::T(existing)) = responses.get_mut(status) else {
        responses.insert(status.into(), RefOr::T(answer));
        return;
    };
    for (name, header) in answer.headers {
        existing.headers.entry(name).or_insert(header);
    }
    let common = RefOr::Ref(Ref::from_schema_name(schema));
    let Some(content) = existing.content.get_mut("application/json") else {
        existing
            .content
            .insert("application/json".into(), Content::new(Some(common)));
        return;
    };
    match content.schema.take() {
        None => content.schema = Some(common),
        Some(RefOr::Ref(r)) if r.ref_location.ends_with(&format!("/{schema}")) => {
            content.schema = Some(RefOr::Ref(r));
        }
        Some(RefOr::T(Schema::AnyOf(mut one_of))) => {
            let present = one_of.items.iter().any(|item| {
                matches!(item, RefOr::Ref(r) if r.ref_location.ends_with(&format!("/{schema}")))
            });
            if !present {
                one_of.items.push(common);
            }
            content.schema = Some(RefOr::T(Schema::AnyOf(one_of)));
        }
        Some(other) => {
            let mut one_of = AnyOf::new();
            one_of.items = vec![other, common];
            content.schema = Some(RefOr::T(Schema::AnyOf(one_of)));
        }
    }
}
