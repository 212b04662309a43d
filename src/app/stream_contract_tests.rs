//! Tests of the stream contract: one event of every type the aggregates can emit, serialised
//! as the store does, redacted as the relay does and wrapped in the published envelope,
//! validates against its message in the AsyncAPI document (also with every personal field
//! erased); the document in `docs/` is the one served.

use std::collections::{BTreeMap, BTreeSet};

use aggregates::common::redact_secrets;
use aggregates::user::{Action, HumitProfile, PasswordChange, Role, UserDetails};
use aggregates::Secret;
use chrono::{NaiveDate, TimeZone, Utc};
use cqrs_es::DomainEvent;

use super::*;

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap()
}

fn details() -> UserDetails {
    UserDetails {
        email: Some("ada@example.com".into()),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        phone_number: "+441234567890".into(),
        college_name: "Analytical".into(),
        profile_picture: "https://example.com/ada.jpg".into(),
    }
}

fn user_events() -> Vec<UserEvent> {
    let s = |v: &str| v.to_string();
    vec![
        UserEvent::UserRegistered {
            user_id: s("u1"),
            username: s("ada"),
            details: details(),
            referral_code: s("123456"),
            signup_method: s("password"),
            role: Role::Normal,
            at: at(),
        },
        UserEvent::PasswordSet {
            password_hash: Secret::new(s("$argon2id$...")),
            change: PasswordChange::Changed,
            at: at(),
        },
        UserEvent::ProviderLinked {
            provider: s("google"),
            subject: s("g-1"),
            picture_url: Some(s("https://example.com/g.jpg")),
            at: at(),
        },
        UserEvent::SpotifyTokensUpdated {
            access_token: Secret::new(s("at")),
            refresh_token: Secret::new(s("rt")),
            country: Some(s("IN")),
            at: at(),
        },
        UserEvent::DetailsUpdated {
            details: details(),
            at: at(),
        },
        UserEvent::UsernameChanged {
            username: s("ada2"),
            at: at(),
        },
        UserEvent::ProfileRegistered {
            profile: HumitProfile {
                date_of_birth: NaiveDate::from_ymd_opt(1994, 4, 26).unwrap(),
                favourite_artists: serde_json::json!({"data": []}),
                notification_id: None,
                referred_by: Some(s("u0")),
                playlist_id: s("pl1"),
                internal_username: s("ada453280"),
            },
            first_name: s("Ada"),
            last_name: s(" "),
            at: at(),
        },
        UserEvent::ProfilePictureChanged {
            url: s("https://example.com/p.jpg"),
            at: at(),
        },
        UserEvent::SessionStarted {
            session_id: s("s1"),
            method: s("password"),
            expires_at: at(),
            at: at(),
        },
        UserEvent::SessionRevoked {
            session_id: s("s1"),
            at: at(),
        },
        UserEvent::AllSessionsRevoked {
            session_ids: vec![],
            at: at(),
        },
        UserEvent::PasswordResetRequested {
            token_hash: Secret::new(s("abc")),
            expires_at: at(),
            at: at(),
        },
        UserEvent::RoleChanged {
            role: Role::Staff,
            privileges: BTreeMap::from([(s("user"), BTreeSet::from([Action::Read]))]),
            at: at(),
        },
        UserEvent::UserDisabled { at: at() },
        UserEvent::UserDeleted { at: at() },
        UserEvent::ReferralCredited {
            referred_user_id: s("u2"),
            at: at(),
        },
        UserEvent::NotificationIdChanged {
            notification_id: Some(s("n1")),
            at: at(),
        },
        UserEvent::ProfilePictureUploadStarted {
            upload_id: s("up1"),
            key: s("profile_images/u1/up1.jpg"),
            expires_at: at(),
            at: at(),
        },
        UserEvent::ProfilePictureUploaded {
            upload_id: s("up1"),
            url: s("https://example.com/up1.jpg"),
            at: at(),
        },
    ]
}

/// `(aggregate type, event type, version, payload as stored)` of one event of every type.
fn samples() -> Vec<(&'static str, String, String, Value)> {
    fn each<A: Aggregate, E: DomainEvent>(
        events: Vec<E>,
    ) -> Vec<(&'static str, String, String, Value)> {
        events
            .into_iter()
            .map(|e| {
                (
                    A::TYPE,
                    e.event_type(),
                    e.event_version(),
                    serde_json::to_value(&e).unwrap(),
                )
            })
            .collect()
    }
    let (u, s, t) = ("u1".to_string(), "s1".to_string(), at());
    let mut all = each::<User, _>(user_events());
    all.extend(each::<Session, _>(vec![
        SessionEvent::SessionStarted {
            user_id: u.clone(),
            method: "password".into(),
            expires_at: t,
            at: t,
        },
        SessionEvent::SessionRevoked {
            user_id: u.clone(),
            at: t,
        },
    ]));
    all.extend(each::<Claim, _>(vec![
        ClaimEvent::Taken {
            owner: u.clone(),
            at: t,
        },
        ClaimEvent::Released {
            owner: u.clone(),
            at: t,
        },
    ]));
    all.extend(each::<Station, _>(vec![StationEvent::StationCreated {
        station_id: s.clone(),
        name: "Lo-fi".into(),
        description: "Beats".into(),
        image_url: String::new(),
        created_by: u.clone(),
        at: t,
    }]));
    all.extend(each::<StationFollow, _>(vec![
        StationFollowEvent::StationFollowed {
            user_id: u.clone(),
            station_id: s.clone(),
            at: t,
        },
        StationFollowEvent::StationUnfollowed {
            user_id: u.clone(),
            station_id: s.clone(),
            at: t,
        },
    ]));
    all.extend(each::<UserFollow, _>(vec![
        UserFollowEvent::UserFollowed {
            follower_id: u.clone(),
            followee_id: "u2".into(),
            at: t,
        },
        UserFollowEvent::UserUnfollowed {
            follower_id: u.clone(),
            followee_id: "u2".into(),
            at: t,
        },
    ]));
    all.extend(each::<Mute, _>(vec![
        MuteEvent::UserMuted {
            user_id: u.clone(),
            muted_user_id: "u2".into(),
            at: t,
        },
        MuteEvent::UserUnmuted {
            user_id: u.clone(),
            muted_user_id: "u2".into(),
            at: t,
        },
    ]));
    all.extend(each::<Hum, _>(vec![HumEvent::HumPosted {
        hum_id: "h1".into(),
        user_id: u,
        station_id: s,
        track_id: "4uLU6hMCjMI75M1A2tKUQC".into(),
        caption: "listen".into(),
        at: t,
    }]));
    all
}

/// The published body of a stored payload: redacted, in the envelope.
fn published(aggregate_type: &str, event_type: &str, version: &str, mut payload: Value) -> Value {
    redact_secrets(&mut payload);
    serde_json::to_value(projections::Envelope {
        event_id: uuid::Uuid::nil(),
        position: 7,
        aggregate_type: aggregate_type.into(),
        aggregate_id: "u1".into(),
        sequence: 1,
        event_type: event_type.into(),
        event_version: version.into(),
        recorded_at: at(),
        metadata: serde_json::json!({"actor_id": "u1", "actor_role": "normal", "request_id": "r", "command_id": "c", "occurred_at": at()}),
        payload,
    })
    .unwrap()
}

/// Every `{"$pii": value}` becomes `{"$pii": null}`, as after the person's deletion.
fn erase(value: &mut Value) {
    match value {
        Value::Object(map) if map.contains_key(aggregates::common::PERSONAL_KEY) => {
            map.insert(aggregates::common::PERSONAL_KEY.into(), Value::Null);
        }
        Value::Object(map) => map.values_mut().for_each(erase),
        Value::Array(items) => items.iter_mut().for_each(erase),
        _ => {}
    }
}

fn validator(doc: &Value, id: &str) -> jsonschema::Validator {
    let mut root = doc.clone();
    root["$ref"] = Value::String(format!("#/components/messages/{id}/payload"));
    jsonschema::draft7::new(&root).expect("the message schema compiles")
}

#[test]
fn every_event_the_aggregates_emit_validates_against_its_message() {
    let doc = document();
    let samples = samples();
    let sampled: BTreeSet<String> = samples
        .iter()
        .map(|(a, e, _, _)| format!("{a}_{e}"))
        .collect();
    let (kinds, _) = kinds();
    let documented: BTreeSet<String> = kinds.iter().map(EventKind::id).collect();
    assert_eq!(
        sampled, documented,
        "every event type has a sample and a message"
    );
    for (aggregate_type, event_type, version, payload) in samples {
        let id = format!("{aggregate_type}_{event_type}");
        let validator = validator(&doc, &id);
        let mut body = published(aggregate_type, &event_type, &version, payload);
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{id}: {errors:?}\n{body:#}");
        erase(&mut body);
        assert!(validator.is_valid(&body), "{id} erased: {body:#}");
    }
}

#[test]
fn a_message_of_another_type_or_version_or_with_a_secret_does_not_validate() {
    let doc = document();
    let registered = validator(&doc, "User_UserRegistered");
    let disabled = published(
        "User",
        "UserDisabled",
        "1",
        serde_json::json!({"UserDisabled": {"at": at()}}),
    );
    assert!(!registered.is_valid(&disabled));
    let v = validator(&doc, "User_UserDisabled");
    assert!(v.is_valid(&disabled));
    let mut wrong_version = disabled.clone();
    wrong_version["event_version"] = "2".into();
    assert!(!v.is_valid(&wrong_version));
    // A secret that was not redacted breaks the contract.
    let set = validator(&doc, "User_PasswordSet");
    let payload = serde_json::json!({"PasswordSet": {"password_hash": {"$secret": "hash"}, "change": "reset", "at": at()}});
    let mut leaked = published("User", "PasswordSet", "1", Value::Null);
    leaked["payload"] = payload;
    assert!(!set.is_valid(&leaked));
}

#[test]
fn the_document_in_docs_is_the_one_served() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/asyncapi.json");
    if std::env::var_os("UPDATE_ASYNCAPI").is_some() {
        std::fs::write(&path, json()).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == json(),
        "docs/asyncapi.json differs from the generated document; regenerate it with \
         `UPDATE_ASYNCAPI=1 cargo test --lib stream_contract`"
    );
}
