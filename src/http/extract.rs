//! A JSON body extractor whose rejections are answered in the dialect's envelope.

use std::marker::PhantomData;

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

/// A JSON body of type `T`, rejected in dialect `D`'s envelope.
pub struct Json<T, D>(pub T, PhantomData<D>);

impl<T, D> Json<T, D> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<S, T, D> FromRequest<S> for Json<T, D>
where
    S: Send + Sync,
    T: DeserializeOwned,
    D: Dialect,
{
    type Rejection = D::Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value, PhantomData)),
            Err(rejection) => Err(D::reject(rejection)),
        }
    }
}
