//! The outside world, behind small clients and traits: Spotify, OAuth providers, file
//! storage (S3 or local), mail (SMTP or an outbox folder). Each is reached through a
//! configurable base URL so that tests run against real local stand-ins.

pub mod mail;
pub mod oauth;
pub mod spotify;
pub mod storage;
