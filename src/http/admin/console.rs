//! The admin console: one self-contained page (no build step), served at `/admin/`.

use axum::response::Html;

/// `GET /admin/`.
pub(super) async fn page() -> Html<&'static str> {
    Html(include_str!("console.html"))
}
