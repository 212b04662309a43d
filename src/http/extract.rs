//! A JSON body extractor whose rejections are answered in the dialect's envelope.
//!
//! Each dialect declares its own `Json<T>` with [`dialect_json!`](crate::dialect_json), so
//! handlers destructure it as usual: `Json(body): Json<Dto>`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;

/// An API dialect: how it answers a body that is not acceptable JSON.
pub trait Dialect: Send + Sync + 'static {
    /// The dialect's error.
    type Error: IntoResponse;
    /// Maps axum's rejection (bad JSON, wrong content type, too large) to the dialect's error.
    fn reject(rejection: JsonRejection) -> Self::Error;
}

/// Reads a JSON body of type `T`, rejecting in dialect `D`'s envelope.
///
/// # Errors
/// `D`'s error for a missing content type, a body too large, or bad JSON.
pub async fn json_body<T, D, S>(req: Request, state: &S) -> Result<T, D::Error>
where
    T: DeserializeOwned,
    D: Dialect,
    S: Send + Sync,
{
    match axum::Json::<T>::from_request(req, state).await {
        Ok(axum::Json(value)) => Ok(value),
        Err(rejection) => Err(D::reject(rejection)),
    }
}

/// Declares `pub struct Json<T>(pub T)` for a dialect: a JSON body extractor rejecting in that
/// dialect's envelope.
#[macro_export]
macro_rules! dialect_json {
    ($dialect:ty) => {
        /// A JSON body, rejected in this dialect's envelope.
        pub struct Json<T>(pub T);

        impl<S, T> axum::extract::FromRequest<S> for Json<T>
        where
            S: Send + Sync,
            T: serde::de::DeserializeOwned,
        {
            type Rejection = <$dialect as $crate::http::extract::Dialect>::Error;

            async fn from_request(
                req: axum::extract::Request,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                $crate::http::extract::json_body::<T, $dialect, S>(req, state)
                    .await
                    .map(Json)
            }
        }
    };
}
