//! Query strings in the humit dialect, as extractors: [`QueryParams`] (decoded, blank values
//! as absent) and [`Page`] (`?limit=&offset=` in, 400 in the humit envelope when bad;
//! `{"count", "next", "previous", "results"}` out, with absolute `next`/`previous` URLs built
//! on the public URL and the path the request came to).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{json, Value};

use super::error::{codes, HumitError};
use crate::state::AppState;

/// The page size when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest page size.
pub const MAX_LIMIT: i64 = 100;
/// The largest offset accepted.
const MAX_OFFSET: i64 = 1_000_000_000;

/// `?limit=&offset=` as the OpenAPI document describes them (`params(PageQuery)`); the
/// handlers read them with the [`Page`] extractor, which also takes the blank and the
/// `/`-suffixed values clients send.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageQuery {
    /// An integer from 1 to 100; default (also when empty) 20
    #[param(pattern = r"^\s*(0*([1-9]|[1-9][0-9]|100))?/?\s*$")]
    limit: Option<String>,
    /// An integer from 0 to 1,000,000,000; default (also when empty) 0
    #[param(pattern = r"^\s*(0*([0-9]{1,9}|1000000000))?/?\s*$")]
    offset: Option<String>,
}

/// `?code=`, an invite code, as the OpenAPI document describes it (`params(InviteCodeQuery)`);
/// the handlers read it with [`QueryParams::require`].
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct InviteCodeQuery {
    /// The six-digit invite code
    #[param(pattern = r"[^\s/]", example = "598631")]
    code: String,
}

/// The query parameters of a request, decoded.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Decodes a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; `None` when absent or blank. A trailing `/` is
    /// dropped, as clients copy URLs like `?limit=50&offset=0/`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().trim_end_matches('/').trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name`, or 400 `MISSING_PARAMETER`.
    ///
    /// # Errors
    /// When absent or blank.
    pub fn require(&self, name: &str) -> Result<&str, HumitError> {
        self.get(name)
            .ok_or_else(|| HumitError::missing_parameter(name))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::parse(parts.uri.query()))
    }
}

/// A requested page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// How many.
    pub limit: i64,
    /// From which index.
    pub offset: i64,
}

impl PageRequest {
    /// The page as the read side takes it.
    pub fn window(&self) -> crate::app::social::Page {
        crate::app::social::Page {
            limit: self.limit,
            offset: self.offset,
        }
    }

    /// Reads `limit` (1..=100, default 20) and `offset` (≥ 0, default 0).
    ///
    /// # Errors
    /// 400 `INVALID_LIMIT` / `INVALID_OFFSET`.
    pub fn from_query(query: &QueryParams) -> Result<Self, HumitError> {
        let limit_error = || {
            let message = format!("limit must be an integer from 1 to {MAX_LIMIT}");
            HumitError::invalid(codes::INVALID_LIMIT, message)
        };
        let limit = integer_in(
            query.get("limit"),
            DEFAULT_LIMIT,
            1..=MAX_LIMIT,
            limit_error,
        )?;
        let offset_error = || {
            let message = "offset must be a non-negative integer";
            HumitError::invalid(codes::INVALID_OFFSET, message)
        };
        let offset = integer_in(query.get("offset"), 0, 0..=MAX_OFFSET, offset_error)?;
        Ok(Self { limit, offset })
    }

    fn url(&self, endpoint: &str, offset: i64) -> String {
        format!("{endpoint}?limit={}&offset={offset}", self.limit)
    }

    /// The page body: `count` in all, absolute `next`/`previous` (or null), `results`.
    /// `endpoint` is the endpoint's absolute URL with its trailing slash
    /// (`https://host/api/stations/discover/`).
    pub fn body(&self, endpoint: &str, count: i64, results: Vec<Value>) -> Value {
        let next = (self.offset + self.limit < count)
            .then(|| self.url(endpoint, self.offset + self.limit));
        let previous = (self.offset > 0).then(|| {
            let previous = (self.offset - self.limit).max(0).min(count.max(0));
            self.url(endpoint, previous)
        });
        json!({"count": count, "next": next, "previous": previous, "results": results})
    }
}

/// A page a handler was asked for, with the endpoint its links point at (the public URL and
/// the request's path, with the trailing slash the humit paths are published with).
#[derive(Debug, Clone)]
pub struct Page {
    /// `limit` and `offset`.
    pub request: PageRequest,
    endpoint: String,
}

impl Page {
    /// The page as the read side takes it.
    pub fn window(&self) -> crate::app::social::Page {
        self.request.window()
    }

    /// The page body of `count` items in all, this page's being `results`.
    pub fn body(&self, count: i64, results: Vec<Value>) -> Value {
        self.request.body(&self.endpoint, count, results)
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = HumitError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HumitError> {
        let request = PageRequest::from_query(&QueryParams::parse(parts.uri.query()))?;
        let path = parts.uri.path().trim_end_matches('/');
        Ok(Self {
            request,
            endpoint: format!("{}{path}/", state.public_url),
        })
    }
}

/// `raw` as an integer within `range` (`default` when absent), else `error()`.
fn integer_in(
    raw: Option<&str>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
    error: impl FnOnce() -> HumitError,
) -> Result<i64, HumitError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &str) -> Result<PageRequest, HumitError> {
        PageRequest::from_query(&QueryParams::parse(Some(query)))
    }

    #[test]
    fn limits_and_offsets_are_checked() {
        assert_eq!(
            page("").unwrap(),
            PageRequest {
                limit: 20,
                offset: 0
            }
        );
        assert_eq!(
            page("limit=50&offset=0/").unwrap(),
            PageRequest {
                limit: 50,
                offset: 0
            }
        );
        assert_eq!(page("limit=0").unwrap_err().code, codes::INVALID_LIMIT);
        assert_eq!(page("limit=101").unwrap_err().code, codes::INVALID_LIMIT);
        assert_eq!(page("limit=x").unwrap_err().code, codes::INVALID_LIMIT);
        assert_eq!(page("offset=-1").unwrap_err().code, codes::INVALID_OFFSET);
        assert_eq!(page("offset=1.5").unwrap_err().code, codes::INVALID_OFFSET);
    }

    #[test]
    fn next_and_previous_are_absolute_and_null_at_the_ends() {
        let p = PageRequest {
            limit: 20,
            offset: 0,
        };
        let body = p.body("http://h/api/stations/discover/", 304, vec![]);
        assert_eq!(
            body["next"],
            "http://h/api/stations/discover/?limit=20&offset=20"
        );
        assert!(body["previous"].is_null());
        assert_eq!(body["count"], 304);
        let p = PageRequest {
            limit: 20,
            offset: 300,
        };
        let body = p.body("http://h/api/stations/discover/", 304, vec![]);
        assert!(body["next"].is_null());
        assert_eq!(
            body["previous"],
            "http://h/api/stations/discover/?limit=20&offset=280"
        );
        let p = PageRequest {
            limit: 20,
            offset: 5,
        };
        let body = p.body("http://h/x/", 304, vec![]);
        assert_eq!(body["previous"], "http://h/x/?limit=20&offset=0");
    }
}
