//! The admin console: one self-contained page (no build step), served at `/admin/`, and the
//! headers every admin answer carries: no MIME sniffing, no framing, and a Content Security
//! Policy that lets the page run only its own inline script and style (pinned by hash) and
//! talk only to this origin.

use std::sync::LazyLock;

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{Html, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The page.
const PAGE: &str = include_str!("console.html");

/// `GET /admin/`.
#[utoipa::path(
    get, path = "/admin", tag = "admin",
    responses((status = 200, description = "The admin console: one self-contained HTML page (it signs in with a superuser's credentials)", content_type = "text/html", body = String))
)]
pub(super) async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// The CSP source of every `<tag>...</tag>` block of the page: `'sha256-<base64>'` each.
fn hashes(tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    PAGE.split(open.as_str())
        .skip(1)
        .filter_map(|rest| rest.split_once(close.as_str()).map(|(body, _)| body))
        .map(|body| {
            let digest = Sha256::digest(body.as_bytes());
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect()
}

/// The Content Security Policy of the admin routes.
pub(super) static POLICY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hashes("script").join(" "),
        hashes("style").join(" "),
    )
});

/// Adds the hardening headers to an admin answer (the page and the JSON API alike).
pub(super) async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Ok(policy) = HeaderValue::from_str(&POLICY) {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_pins_the_one_inline_script_and_style() {
        assert_eq!(hashes("script").len(), 1);
        assert_eq!(hashes("style").len(), 1);
        assert!(POLICY.contains("frame-ancestors 'none'"));
        assert!(!POLICY.contains("unsafe-inline"));
        // No inline event handlers or style attributes, which the policy would block.
        for attribute in [" onclick=", " onsubmit=", " onload=", " style="] {
            assert!(!PAGE.contains(attribute), "{attribute}");
        }
    }
}
