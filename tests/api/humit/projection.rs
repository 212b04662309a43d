//! The `users` projection applies the humit events: notification ids and uploaded pictures.

use aggregates::user::{Role, UserDetails, UserEvent};
use chrono::Utc;
use humit::startup::Mode;
use projections::{Envelope, Projection};

use crate::helpers::{spawn_with, test_config};
use crate::probe::scalar;

fn envelope(position: i64, sequence: i64, event: &UserEvent) -> Envelope {
    use cqrs_es::DomainEvent;
    Envelope {
        event_id: uuid::Uuid::new_v4(),
        position,
        aggregate_type: "User".into(),
        aggregate_id: "u1".into(),
        sequence,
        event_type: event.event_type(),
        event_version: event.event_version(),
        recorded_at: Utc::now(),
        metadata: serde_json::json!({}),
        payload: serde_json::to_value(event).unwrap(),
    }
}

#[tokio::test]
async fn the_users_projection_applies_notification_ids_and_uploaded_pictures() {
    let app = spawn_with(
        test_config(),
        Mode {
            http: false,
            workers: false,
        },
    )
    .await;
    let now = Utc::now();
    let events = [
        UserEvent::UserRegistered {
            user_id: "u1".into(),
            username: "alice".into(),
            details: UserDetails::default(),
            referral_code: "123456".into(),
            signup_method: "spotify".into(),
            role: Role::Normal,
            at: now,
        },
        UserEvent::NotificationIdChanged {
            notification_id: Some("fcm-1".into()),
            at: now,
        },
        UserEvent::ProfilePictureUploadStarted {
            upload_id: "up1".into(),
            key: "profile_images/u1/up1.jpg".into(),
            expires_at: now,
            at: now,
        },
        UserEvent::ProfilePictureUploaded {
            upload_id: "up1".into(),
            url: "https://pics/profile_images/u1/up1.jpg".into(),
            at: now,
        },
    ];
    let projection = projections::users::UsersProjection;
    let mut tx = app.pool.begin().await.unwrap();
    for (i, event) in events.iter().enumerate() {
        let n = i64::try_from(i).unwrap() + 1;
        projection
            .apply(&mut tx, &envelope(n, n, event))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let (notification, picture): (Option<String>, String) = sqlx::query_as(
        "SELECT notification_id, profile_picture FROM rm_users WHERE user_id = 'u1'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(notification.as_deref(), Some("fcm-1"));
    assert_eq!(picture, "https://pics/profile_images/u1/up1.jpg");
    // Cleared again.
    let mut tx = app.pool.begin().await.unwrap();
    let cleared = UserEvent::NotificationIdChanged {
        notification_id: None,
        at: now,
    };
    projection
        .apply(&mut tx, &envelope(5, 5, &cleared))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let notification: Option<String> = scalar(
        &app.pool,
        "SELECT notification_id FROM rm_users WHERE user_id = 'u1'",
    )
    .await;
    assert_eq!(notification, None);
}
