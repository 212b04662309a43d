//! Finding 7: a push notification id is its owner's alone; people discovery lists only
//! humit app users who finished sign-up.

use aggregates::user::{Privileges, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::humit::{form, spawn};

const PUSH_TOKEN: &str = "fcm-owner-device-token";

#[tokio::test]
async fn a_push_token_is_shown_to_its_owner_only() {
    let h = spawn().await;
    let owner = h.signup("owner").await;
    let mut registration = form("Owner");
    registration["notification_id"] = json!(PUSH_TOKEN);
    let (status, body) = h
        .post(&owner.access, "/api/users/profile/", registration)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["notification_id"], PUSH_TOKEN);
    assert_eq!(h.profile(&owner).await["notification_id"], PUSH_TOKEN);
    let viewer = h.registered("viewer", "Viewer").await;

    // Every way another user sees the owner: the field is there, empty.
    let hidden = |profile: &Value| {
        assert_eq!(profile["user_id"], owner.user_id.as_str(), "{profile}");
        assert_eq!(profile["notification_id"], "", "{profile}");
    };
    let (status, body) = h.get(&viewer.access, "/api/users/discover/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    hidden(&body["data"]["results"][0]);
    let lookup = format!("/api/users/referral_code/?code={}", owner.referral_code);
    let (status, body) = h.get(&viewer.access, &lookup).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    hidden(&body["data"]);
    let onboard = format!("/api/users/onboard/?code={}", owner.referral_code);
    let (status, body) = h.get(&viewer.access, &onboard).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains(PUSH_TOKEN), "{body}");
    hidden(&h.follow_user(&viewer, &owner).await["data"]);
    // The owner still sees their own, whichever way they look.
    let (_, body) = h.get(&owner.access, &lookup).await;
    assert_eq!(body["data"]["notification_id"], PUSH_TOKEN, "{body}");
}

#[tokio::test]
async fn discover_lists_only_app_users_who_finished_sign_up() {
    let h = spawn().await;
    let [me, friend] = h
        .registered_all([("me", "Myself"), ("friend", "Friend")])
        .await;
    // Signed up with Spotify, registration form never sent.
    h.signup("halfway").await;
    // Techfesia accounts: a superuser, a staff member and a plain user, none of them in the app.
    crate::techfesia::create_root(&h.app).await;
    for (username, role) in [("tf_staff", Role::Staff), ("tf_user", Role::Normal)] {
        let (status, body) = h
            .call(
                reqwest::Method::POST,
                None,
                "/users/",
                Some(
                    json!({"username": username, "email": format!("{username}@techfesia.example"),
                            "password": "Hello World Password"}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        if role == Role::Staff {
            let user_id = body["publicId"].as_str().unwrap().to_string();
            let position = h
                .app
                .state
                .commands
                .execute::<aggregates::user::User>(
                    &user_id,
                    aggregates::user::UserCommand::SetRole {
                        role,
                        privileges: Privileges::new(),
                        now: chrono::Utc::now(),
                    },
                    &humit::store::CommandContext::system(),
                )
                .await
                .unwrap();
            h.app.state.wait_for(position, &["users"]).await;
        }
    }
    // A humit staff member who finished sign-up is an app user like any other.
    let curator = h.staff("curator").await;
    h.app.settle().await;

    let (status, body) = h.get(&me.access, "/api/users/discover/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [friend.user_id.as_str()], "{body}");
    assert_eq!(body["data"]["count"], 1);
    // Once the curator finishes sign-up, they are listed too.
    let (status, body) = h
        .post(&curator.access, "/api/users/profile/", form("Curator"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = h.get(&me.access, "/api/users/discover/").await;
    assert_eq!(body["data"]["count"], 2, "{body}");
}
