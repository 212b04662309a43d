//! Given/when/then tests for every rule of the `User` aggregate.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::common::Secret;

/// A cheap, deterministic stand-in for argon2: `plain:<password>`.
struct PlainHasher;

#[async_trait::async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        Ok(format!("plain:{password}"))
    }
    async fn verify(&self, password: &str, hash: &str) -> bool {
        hash == format!("plain:{password}")
    }
}

type UserTest = TestFramework<User>;

fn services() -> UserServices {
    UserServices {
        passwords: Arc::new(PlainHasher),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

fn registered() -> UserEvent {
    UserEvent::UserRegistered {
        user_id: "u1".into(),
        username: "alice".into(),
        details: UserDetails::default(),
        referral_code: "123456".into(),
        signup_method: "password".into(),
        role: Role::Normal,
        at: now(),
    }
}

fn password_set(password: &str, change: PasswordChange) -> UserEvent {
    UserEvent::PasswordSet {
        password_hash: Secret::new(format!("plain:{password}")),
        change,
        at: now(),
    }
}

/// The state after `events`.
fn user_from(events: Vec<UserEvent>) -> User {
    let mut user = User::default();
    for event in events {
        cqrs_es::Aggregate::apply(&mut user, event);
    }
    user
}

fn started(id: &str) -> UserEvent {
    UserEvent::SessionStarted {
        session_id: id.into(),
        method: "password".into(),
        expires_at: now() + Duration::days(30),
        at: now(),
    }
}

fn google() -> ProviderIdentity {
    ProviderIdentity {
        provider: "google".into(),
        subject: "g-1".into(),
        picture_url: Some("https://pics/g.jpg".into()),
    }
}

fn linked_google() -> UserEvent {
    UserEvent::ProviderLinked {
        provider: "google".into(),
        subject: "g-1".into(),
        picture_url: Some("https://pics/g.jpg".into()),
        at: now(),
    }
}

#[test]
fn register_with_password_stores_the_hash() {
    UserTest::with(services())
        .given_no_previous_events()
        .when(UserCommand::Register {
            user_id: "u1".into(),
            username: "alice".into(),
            details: UserDetails::default(),
            referral_code: "123456".into(),
            password: Some("pw".into()),
            identity: None,
            spotify_tokens: None,
            role: Role::Normal,
            now: now(),
        })
        .then_expect_events(vec![
            registered(),
            password_set("pw", PasswordChange::Initial),
        ]);
}

#[test]
fn register_twice_is_refused() {
    UserTest::with(services())
        .given(vec![registered()])
        .when(UserCommand::Register {
            user_id: "u1".into(),
            username: "alice".into(),
            details: UserDetails::default(),
            referral_code: "1".into(),
            password: None,
            identity: None,
            spotify_tokens: None,
            role: Role::Normal,
            now: now(),
        })
        .then_expect_error(UserError::AlreadyExists);
}

#[test]
fn commands_on_a_missing_user_are_refused() {
    UserTest::with(services())
        .given_no_previous_events()
        .when(UserCommand::Disable { now: now() })
        .then_expect_error(UserError::NotFound);
}

#[tokio::test]
async fn login_checks_the_password_and_writes_nothing() {
    let user = user_from(vec![
        registered(),
        password_set("pw", PasswordChange::Initial),
    ]);
    assert_eq!(user.check_login("pw", &services()).await, Ok(()));
    assert_eq!(
        user.check_login("nope", &services()).await,
        Err(UserError::InvalidCredentials)
    );
}

#[tokio::test]
async fn login_to_an_oauth_only_account_is_refused() {
    let user = user_from(vec![registered(), linked_google()]);
    assert_eq!(
        user.check_login("", &services()).await,
        Err(UserError::InvalidCredentials)
    );
}

#[tokio::test]
async fn a_disabled_or_unknown_account_cannot_log_in() {
    let user = user_from(vec![
        registered(),
        password_set("pw", PasswordChange::Initial),
        UserEvent::UserDisabled { at: now() },
    ]);
    assert_eq!(
        user.check_login("pw", &services()).await,
        Err(UserError::InvalidCredentials)
    );
    assert_eq!(user.ensure_active(), Err(UserError::Disabled));
    assert_eq!(
        User::default().check_login("pw", &services()).await,
        Err(UserError::InvalidCredentials)
    );
}

#[test]
fn revoke_all_ends_every_session_started_before_it() {
    // Sessions are their own aggregate; the event names none, it sets the cut-off.
    UserTest::with(services())
        .given(vec![registered(), started("s1"), started("s2")])
        .when(UserCommand::RevokeAllSessions { now: now() })
        .then_expect_events(vec![UserEvent::AllSessionsRevoked {
            session_ids: vec![],
            at: now(),
        }]);
}

#[test]
fn create_password_only_without_one() {
    UserTest::with(services())
        .given(vec![registered(), linked_google()])
        .when(UserCommand::CreatePassword {
            password: "pw".into(),
            now: now(),
        })
        .then_expect_events(vec![password_set("pw", PasswordChange::Created)]);
    UserTest::with(services())
        .given(vec![
            registered(),
            password_set("pw", PasswordChange::Initial),
        ])
        .when(UserCommand::CreatePassword {
            password: "pw2".into(),
            now: now(),
        })
        .then_expect_error(UserError::PasswordAlreadySet);
}

#[test]
fn change_password_checks_the_old_one_and_ends_sessions() {
    UserTest::with(services())
        .given(vec![
            registered(),
            password_set("old", PasswordChange::Initial),
            started("s1"),
        ])
        .when(UserCommand::ChangePassword {
            old_password: "old".into(),
            new_password: "new".into(),
            now: now(),
        })
        .then_expect_events(vec![
            password_set("new", PasswordChange::Changed),
            UserEvent::AllSessionsRevoked {
                session_ids: vec![],
                at: now(),
            },
        ]);
    UserTest::with(services())
        .given(vec![
            registered(),
            password_set("old", PasswordChange::Initial),
        ])
        .when(UserCommand::ChangePassword {
            old_password: "wrong".into(),
            new_password: "new".into(),
            now: now(),
        })
        .then_expect_error(UserError::WrongPassword);
    UserTest::with(services())
        .given(vec![registered(), linked_google()])
        .when(UserCommand::ChangePassword {
            old_password: "x".into(),
            new_password: "new".into(),
            now: now(),
        })
        .then_expect_error(UserError::NoPassword);
}

fn reset_requested(hash: &str, at: DateTime<Utc>) -> UserEvent {
    UserEvent::PasswordResetRequested {
        token_hash: Secret::new(hash.into()),
        expires_at: at + Duration::minutes(RESET_TOKEN_TTL_MINUTES),
        at,
    }
}

#[test]
fn a_reset_token_works_once_and_expires() {
    let given = vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        reset_requested("h1", now()),
    ];
    UserTest::with(services())
        .given(given.clone())
        .when(UserCommand::ResetPassword {
            token_hash: "h1".into(),
            new_password: "new".into(),
            now: now() + Duration::minutes(5),
        })
        .then_expect_events(vec![
            UserEvent::PasswordSet {
                password_hash: Secret::new("plain:new".into()),
                change: PasswordChange::Reset,
                at: now() + Duration::minutes(5),
            },
            UserEvent::AllSessionsRevoked {
                session_ids: vec![],
                at: now() + Duration::minutes(5),
            },
        ]);
    // Used: the reset cleared every pending token.
    let mut used = given.clone();
    used.push(password_set("new", PasswordChange::Reset));
    UserTest::with(services())
        .given(used)
        .when(UserCommand::ResetPassword {
            token_hash: "h1".into(),
            new_password: "again".into(),
            now: now() + Duration::minutes(6),
        })
        .then_expect_error(UserError::ResetTokenInvalid);
    // Expired.
    UserTest::with(services())
        .given(given.clone())
        .when(UserCommand::ResetPassword {
            token_hash: "h1".into(),
            new_password: "new".into(),
            now: now() + Duration::minutes(31),
        })
        .then_expect_error(UserError::ResetTokenInvalid);
    // Unknown.
    UserTest::with(services())
        .given(given)
        .when(UserCommand::ResetPassword {
            token_hash: "other".into(),
            new_password: "new".into(),
            now: now(),
        })
        .then_expect_error(UserError::ResetTokenInvalid);
}

/// Resetting with `h1` after `given`, five minutes after it was mailed.
fn reset_with_h1(given: Vec<UserEvent>) -> cqrs_es::test::AggregateResultValidator<User> {
    UserTest::with(services())
        .given(given)
        .when(UserCommand::ResetPassword {
            token_hash: "h1".into(),
            new_password: "stolen".into(),
            now: now() + Duration::minutes(5),
        })
}

/// The write-side state after `events`.
fn state_after(events: Vec<UserEvent>) -> User {
    use cqrs_es::Aggregate as _;
    let mut user = User::default();
    for event in events {
        user.apply(event);
    }
    user
}

#[test]
fn every_password_change_voids_the_pending_reset_tokens() {
    // Changed by the owner, knowing the old one.
    reset_with_h1(vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        reset_requested("h1", now()),
        password_set("new", PasswordChange::Changed),
    ])
    .then_expect_error(UserError::ResetTokenInvalid);
    // Created on an OAuth-only account.
    reset_with_h1(vec![
        registered(),
        linked_google(),
        reset_requested("h1", now()),
        password_set("new", PasswordChange::Created),
    ])
    .then_expect_error(UserError::ResetTokenInvalid);
    // Reset with another token: this one dies too.
    reset_with_h1(vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        reset_requested("h1", now()),
        reset_requested("h2", now()),
        password_set("new", PasswordChange::Reset),
    ])
    .then_expect_error(UserError::ResetTokenInvalid);
}

fn details_with_email(email: &str, first_name: &str) -> UserEvent {
    UserEvent::DetailsUpdated {
        details: UserDetails {
            email: Some(email.into()),
            first_name: first_name.into(),
            ..UserDetails::default()
        },
        at: now(),
    }
}

#[test]
fn an_email_change_voids_the_pending_reset_tokens_and_other_details_do_not() {
    let before = vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        details_with_email("alice@old.example", ""),
        reset_requested("h1", now()),
    ];
    let mut moved = before.clone();
    moved.push(details_with_email("alice@new.example", ""));
    reset_with_h1(moved).then_expect_error(UserError::ResetTokenInvalid);
    // A new first name keeps the address, and the token with it.
    let mut renamed = before;
    renamed.push(details_with_email("alice@old.example", "Alice"));
    reset_with_h1(renamed).then_expect_events(vec![
        UserEvent::PasswordSet {
            password_hash: Secret::new("plain:stolen".into()),
            change: PasswordChange::Reset,
            at: now() + Duration::minutes(5),
        },
        UserEvent::AllSessionsRevoked {
            session_ids: vec![],
            at: now() + Duration::minutes(5),
        },
    ]);
}

#[test]
fn disabling_and_deleting_void_the_pending_reset_tokens() {
    let pending = vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        reset_requested("h1", now()),
    ];
    assert_eq!(state_after(pending.clone()).pending_resets(), 1);
    let mut disabled = pending.clone();
    disabled.push(UserEvent::UserDisabled { at: now() });
    assert_eq!(state_after(disabled.clone()).pending_resets(), 0);
    reset_with_h1(disabled).then_expect_error(UserError::ResetTokenInvalid);
    let mut deleted = pending;
    deleted.push(UserEvent::UserDeleted { at: now() });
    assert_eq!(state_after(deleted.clone()).pending_resets(), 0);
    reset_with_h1(deleted).then_expect_error(UserError::NotFound);
}

#[test]
fn disabling_ends_sessions_and_blocks_actions() {
    UserTest::with(services())
        .given(vec![registered(), started("s1")])
        .when(UserCommand::Disable { now: now() })
        .then_expect_events(vec![
            UserEvent::UserDisabled { at: now() },
            UserEvent::AllSessionsRevoked {
                session_ids: vec![],
                at: now(),
            },
        ]);
    let disabled = user_from(vec![registered(), UserEvent::UserDisabled { at: now() }]);
    assert_eq!(disabled.ensure_active(), Err(UserError::Disabled));
}

#[test]
fn deleting_ends_sessions_and_the_account() {
    UserTest::with(services())
        .given(vec![registered(), started("s1")])
        .when(UserCommand::Delete { now: now() })
        .then_expect_events(vec![
            UserEvent::AllSessionsRevoked {
                session_ids: vec![],
                at: now(),
            },
            UserEvent::UserDeleted { at: now() },
        ]);
    UserTest::with(services())
        .given(vec![registered(), UserEvent::UserDeleted { at: now() }])
        .when(UserCommand::RevokeAllSessions { now: now() })
        .then_expect_error(UserError::NotFound);
}

#[test]
fn provider_picture_needs_a_link() {
    UserTest::with(services())
        .given(vec![registered()])
        .when(UserCommand::UseProviderPicture {
            provider: None,
            now: now(),
        })
        .then_expect_error(UserError::NoOAuthLink);
    UserTest::with(services())
        .given(vec![registered(), linked_google()])
        .when(UserCommand::UseProviderPicture {
            provider: Some("google".into()),
            now: now(),
        })
        .then_expect_events(vec![UserEvent::ProfilePictureChanged {
            url: "https://pics/g.jpg".into(),
            at: now(),
        }]);
}

#[test]
fn linking_the_same_identity_twice_is_a_no_op_and_another_subject_conflicts() {
    UserTest::with(services())
        .given(vec![registered(), linked_google()])
        .when(UserCommand::LinkProvider {
            identity: google(),
            now: now(),
        })
        .then_expect_events(vec![]);
    UserTest::with(services())
        .given(vec![registered(), linked_google()])
        .when(UserCommand::LinkProvider {
            identity: ProviderIdentity {
                subject: "g-2".into(),
                ..google()
            },
            now: now(),
        })
        .then_expect_error(UserError::ProviderConflict);
}

#[test]
fn staff_keeps_privileges_and_other_roles_drop_them() {
    let mut privileges = Privileges::new();
    privileges.insert("user".into(), [Action::Read].into_iter().collect());
    UserTest::with(services())
        .given(vec![registered()])
        .when(UserCommand::SetRole {
            role: Role::Staff,
            privileges: privileges.clone(),
            now: now(),
        })
        .then_expect_events(vec![UserEvent::RoleChanged {
            role: Role::Staff,
            privileges: privileges.clone(),
            at: now(),
        }]);
    UserTest::with(services())
        .given(vec![registered()])
        .when(UserCommand::SetRole {
            role: Role::Superuser,
            privileges,
            now: now(),
        })
        .then_expect_events(vec![UserEvent::RoleChanged {
            role: Role::Superuser,
            privileges: Privileges::new(),
            at: now(),
        }]);
}

#[test]
fn the_registration_form_is_submitted_once() {
    let profile = HumitProfile {
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1994, 4, 26).unwrap(),
        favourite_artists: serde_json::json!({"data": []}),
        notification_id: None,
        referred_by: None,
        playlist_id: "pl1".into(),
        internal_username: "alice1".into(),
    };
    let form = UserCommand::RegisterProfile {
        username: "Ally".into(),
        profile: profile.clone(),
        first_name: "Alice".into(),
        last_name: " ".into(),
        now: now(),
    };
    let done = UserEvent::ProfileRegistered {
        profile,
        first_name: "Alice".into(),
        last_name: " ".into(),
        at: now(),
    };
    UserTest::with(services())
        .given(vec![registered()])
        .when(form.clone())
        .then_expect_events(vec![
            UserEvent::UsernameChanged {
                username: "Ally".into(),
                at: now(),
            },
            done.clone(),
        ]);
    UserTest::with(services())
        .given(vec![registered(), done])
        .when(form)
        .then_expect_error(UserError::ProfileAlreadyRegistered);
}

#[test]
fn a_referral_is_credited_once_per_referred_user() {
    let credited = UserEvent::ReferralCredited {
        referred_user_id: "u2".into(),
        at: now(),
    };
    UserTest::with(services())
        .given(vec![registered()])
        .when(UserCommand::CreditReferral {
            referred_user_id: "u2".into(),
            now: now(),
        })
        .then_expect_events(vec![credited.clone()]);
    UserTest::with(services())
        .given(vec![registered(), credited])
        .when(UserCommand::CreditReferral {
            referred_user_id: "u2".into(),
            now: now(),
        })
        .then_expect_events(vec![]);
}

#[test]
fn the_notification_id_changes_only_when_different() {
    let changed = UserEvent::NotificationIdChanged {
        notification_id: Some("n1".into()),
        at: now(),
    };
    UserTest::with(services())
        .given(vec![registered()])
        .when(UserCommand::SetNotificationId {
            notification_id: Some("n1".into()),
            now: now(),
        })
        .then_expect_events(vec![changed.clone()]);
    UserTest::with(services())
        .given(vec![registered(), changed])
        .when(UserCommand::SetNotificationId {
            notification_id: Some("n1".into()),
            now: now(),
        })
        .then_expect_events(vec![]);
}

fn upload_started(id: &str, at: DateTime<Utc>) -> UserEvent {
    UserEvent::ProfilePictureUploadStarted {
        upload_id: id.into(),
        key: format!("profile_images/u1/{id}.jpg"),
        expires_at: at + Duration::minutes(5),
        at,
    }
}

#[test]
fn a_started_upload_completes_once_into_the_profile_picture() {
    UserTest::with(services())
        .given(vec![registered()])
        .when(UserCommand::StartProfilePictureUpload {
            upload_id: "up1".into(),
            key: "profile_images/u1/up1.jpg".into(),
            expires_at: now() + Duration::minutes(5),
            now: now(),
        })
        .then_expect_events(vec![upload_started("up1", now())]);
    let uploaded = UserEvent::ProfilePictureUploaded {
        upload_id: "up1".into(),
        url: "https://pics/up1.jpg".into(),
        at: now(),
    };
    let complete = UserCommand::CompleteProfilePictureUpload {
        upload_id: "up1".into(),
        url: "https://pics/up1.jpg".into(),
        now: now(),
    };
    UserTest::with(services())
        .given(vec![registered(), upload_started("up1", now())])
        .when(complete.clone())
        .then_expect_events(vec![uploaded.clone()]);
    // Completed already.
    UserTest::with(services())
        .given(vec![registered(), upload_started("up1", now()), uploaded])
        .when(complete.clone())
        .then_expect_error(UserError::UploadNotFound);
    // Never started (another user's key, a guessed id).
    UserTest::with(services())
        .given(vec![registered()])
        .when(complete)
        .then_expect_error(UserError::UploadNotFound);
}

#[test]
fn a_forgotten_upload_cannot_complete() {
    let late = now() + Duration::hours(PENDING_UPLOAD_TTL_HOURS + 1);
    UserTest::with(services())
        .given(vec![registered(), upload_started("up1", now())])
        .when(UserCommand::CompleteProfilePictureUpload {
            upload_id: "up1".into(),
            url: "https://pics/up1.jpg".into(),
            now: late,
        })
        .then_expect_error(UserError::UploadNotFound);
}

#[test]
fn the_aggregate_keeps_the_spotify_tokens_and_the_pending_uploads() {
    use cqrs_es::Aggregate;
    let mut user = User::default();
    user.apply(registered());
    user.apply(UserEvent::SpotifyTokensUpdated {
        access_token: Secret::new("acc".into()),
        refresh_token: Secret::new("ref".into()),
        country: Some("IN".into()),
        at: now(),
    });
    user.apply(UserEvent::SpotifyTokensUpdated {
        access_token: Secret::new("acc2".into()),
        refresh_token: Secret::new("ref2".into()),
        country: None,
        at: now(),
    });
    assert_eq!(user.spotify_access_token(), Some("acc2"));
    assert_eq!(user.spotify_refresh_token(), Some("ref2"));
    assert_eq!(user.spotify_country(), Some("IN"));
    user.apply(upload_started("up1", now()));
    user.apply(upload_started("up2", now() + Duration::minutes(1)));
    let ids: Vec<&str> = user.pending_uploads().iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["up2", "up1"]);
    user.apply(upload_started("up3", now() + Duration::minutes(2)));
    // The state round-trips through a snapshot, secrets included.
    let snapshot = serde_json::to_value(&user).unwrap();
    let back: User = serde_json::from_value(snapshot).unwrap();
    assert_eq!(back.spotify_access_token(), Some("acc2"));
    assert_eq!(back.pending_uploads().len(), 3);
    // An arrived upload makes every older one obsolete; newer ones stay pending.
    user.apply(UserEvent::ProfilePictureUploaded {
        upload_id: "up2".into(),
        url: "https://pics/up2.jpg".into(),
        at: now(),
    });
    let ids: Vec<&str> = user.pending_uploads().iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["up3"]);
}
