//! The profile: linked providers and their picture, the humit registration form,
//! referrals, the notification id, picture uploads, and the state a snapshot keeps.

use super::*;

#[test]
fn provider_picture_needs_a_link() {
    given(vec![registered()])
        .when(UserCommand::UseProviderPicture {
            provider: None,
            now: now(),
        })
        .then_expect_error(UserError::NoOAuthLink);
    given(vec![registered(), linked_google()])
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
    given(vec![registered(), linked_google()])
        .when(UserCommand::LinkProvider {
            identity: google(),
            now: now(),
        })
        .then_expect_events(vec![]);
    given(vec![registered(), linked_google()])
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
    given(vec![registered()])
        .when(form.clone())
        .then_expect_events(vec![
            UserEvent::UsernameChanged {
                username: "Ally".into(),
                at: now(),
            },
            done.clone(),
        ]);
    given(vec![registered(), done])
        .when(form)
        .then_expect_error(UserError::ProfileAlreadyRegistered);
}

#[test]
fn a_referral_is_credited_once_per_referred_user() {
    let credited = UserEvent::ReferralCredited {
        referred_user_id: "u2".into(),
        at: now(),
    };
    given(vec![registered()])
        .when(UserCommand::CreditReferral {
            referred_user_id: "u2".into(),
            now: now(),
        })
        .then_expect_events(vec![credited.clone()]);
    given(vec![registered(), credited])
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
    given(vec![registered()])
        .when(UserCommand::SetNotificationId {
            notification_id: Some("n1".into()),
            now: now(),
        })
        .then_expect_events(vec![changed.clone()]);
    given(vec![registered(), changed])
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
    given(vec![registered()])
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
    given(vec![registered(), upload_started("up1", now())])
        .when(complete.clone())
        .then_expect_events(vec![uploaded.clone()]);
    // Completed already.
    given(vec![registered(), upload_started("up1", now()), uploaded])
        .when(complete.clone())
        .then_expect_error(UserError::UploadNotFound);
    // Never started (another user's key, a guessed id).
    given(vec![registered()])
        .when(complete)
        .then_expect_error(UserError::UploadNotFound);
}

#[test]
fn a_forgotten_upload_cannot_complete() {
    let late = now() + Duration::hours(PENDING_UPLOAD_TTL_HOURS + 1);
    given(vec![registered(), upload_started("up1", now())])
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
