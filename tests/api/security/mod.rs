//! Security: each finding of issue 11 that is closed here has a black-box test over HTTP
//! that fails without its control. `SECURITY.md` maps every threat to its control and test.
//!
//! - [`reset_tokens`]: a password or email change, disable or delete voids mailed reset tokens.
//! - [`staff`]: staff change, disable or delete normal users only.
//! - [`privacy`]: push tokens stay with their owner; discover lists humit app users only.
//! - [`login_limits`]: parallel guesses cannot outrun the failed-login budget; a
//!   password-less account costs a login as much as any.
//! - [`provider_binding`]: a provider token issued to another app never signs in.
//! - [`client_identity`]: the client behind a trusted proxy, IPv6 by /64, the general
//!   per-client limit (429 with `Retry-After` in each envelope).
//! - [`memory`]: 20,000 reset requests with unique 60 KiB usernames do not grow memory.
//! - [`fresh_sign_in`]: adding a password takes a recent sign-in and mails a notice.
//! - [`web`]: `/metrics` behind a token; CORS for the configured origins only.
//! - [`uploads`]: stored pictures lose EXIF/GPS; a completed upload is not overwritten.
//! - [`readiness`]: `/ready` keeps one broker connection; a stalled revocation feed is red.
//! - [`erasure`]: erasing a person deletes their outbox mail; the dead-letter queue keeps
//!   ids and positions, never message bodies.
//! - [`claims`]: claim ids are keyed hashes; bare-hash claims stored before keep counting.
//! - [`hardening`]: a short JWT secret is refused at start-up; browser headers on the admin
//!   console and served files; the `station: create` privilege.

mod claims;
mod client_identity;
mod erasure;
mod fresh_sign_in;
mod hardening;
mod login_limits;
mod memory;
mod privacy;
mod provider_binding;
mod readiness;
mod reset_tokens;
mod session_bound;
mod staff;
pub(crate) mod uploads;
mod web;
