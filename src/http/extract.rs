//! A JSON body extractor whose rejections are answered in the dialect's envelope.
//!
//! Each dialect declares its own `Json<T>` with [`dialect_json!`](crate::dialect_json), so
//! handlers destructure it as usual: `Json(body): Json<Dto>`.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// Why a JSON body was refused. Each dialect words it once, in its own envelope
/// (`From<BodyRefused>` for its error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRefused {
    /// The body must be sent as `application/json` and was not (415).
    NotJson,
    /// The body is over `HUMIT_BODY_LIMIT` (413).
    TooLarge,
    /// Well-formed JSON that is not what the operation reads (400): serde's words.
    WrongShape(String),
    /// Not JSON at all (400): the parser's words.
    Malformed(String),
}

impl From<JsonRejection> for BodyRefused {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::NotJson,
            JsonRejection::BytesRejection(_) => Self::TooLarge,
            JsonRejection::JsonDataError(e) => Self::WrongShape(e.body_text()),
            other => Self::Malformed(other.body_text()),
        }
    }
}

impl From<serde_json::Error> for BodyRefused {
    fn from(e: serde_json::Error) -> Self {
        if e.classify() == serde_json::error::Category::Data {
            Self::WrongShape(e.to_string())
        } else {
            Self::Malformed(e.to_string())
        }
    }
}

/// Reads a JSON body of type `T` sent as `application/json`.
///
/// # Errors
/// A missing content type, a body too large, or bad JSON.
pub async fn json_body<T, S>(req: Request, state: &S) -> Result<T, BodyRefused>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    match axum::Json::<T>::from_request(req, state).await {
        Ok(axum::Json(value)) => Ok(value),
        Err(rejection) => Err(rejection.into()),
    }
}

/// Reads a JSON body whatever its content type, for bodies a client may leave out: `None`
/// for an empty (or all white space) body.
///
/// # Errors
/// A body too large, or bad JSON.
pub async fn lenient_json_body<T, S>(req: Request, state: &S) -> Result<Option<T>, BodyRefused>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|_| BodyRefused::TooLarge)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(&bytes)?))
}

/// Declares `pub struct Json<T>(pub T)` for a dialect whose error is `$error`
/// (`From<BodyRefused>`): a JSON body extractor rejecting in that dialect's envelope.
#[macro_export]
macro_rules! dialect_json {
    ($error:ty) => {
        /// A JSON body, rejected in this dialect's envelope.
        pub struct Json<T>(pub T);

        impl<S, T> axum::extract::FromRequest<S> for Json<T>
        where
            S: Send + Sync,
            T: serde::de::DeserializeOwned,
        {
            type Rejection = $error;

            async fn from_request(
                req: axum::extract::Request,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                $crate::http::extract::json_body::<T, S>(req, state)
                    .await
                    .map(Json)
                    .map_err(<$error>::from)
            }
        }
    };
}
