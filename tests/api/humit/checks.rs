//! The registration form's checks, both read from the write side: is a handle free, taken or
//! invalid (`GET /api/users/username/`), and whose is an invite code
//! (`GET /api/users/referral_code/`).

use reqwest::StatusCode;
use serde_json::json;

use super::{assert_ok, assert_seed_error, keys, seed_fields, spawn, Refusal};

#[tokio::test]
async fn a_handle_is_free_taken_or_invalid() {
    let h = spawn().await;
    let alice = h.registered("alice", "Rohit").await;
    let bob = h.signup("bob").await;
    let (status, body) = h
        .get(&bob.access, "/api/users/username/?username=Free_Name")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": {}, "success": true}));
    // Taken, whatever the case: the seed's envelope, word for word.
    for probe in ["Rohit", "rohit", "ROHIT"] {
        let target = format!("/api/users/username/?username={probe}");
        let (status, body) = h.get(&bob.access, &target).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let message = "Your User handle is not unique. Please choose another handle";
        assert_seed_error(&body, "DISPLAY_USERNAME_NOT_UNIQUE", message);
    }
    // One's own handle is free for oneself.
    let (status, _) = h
        .get(&alice.access, "/api/users/username/?username=rohit")
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = [
        Refusal::get(
            400,
            "/api/users/username/?username=no spaces",
            "INVALID_USERNAME",
        ),
        Refusal::get(400, "/api/users/username/", "MISSING_PARAMETER"),
    ];
    h.refuses(Some(&bob.access), rows).await;
}

#[tokio::test]
async fn an_invite_code_shows_its_owner_or_user_does_not_exist() {
    let h = spawn().await;
    let owner = h.registered("owner", "Breakfree").await;
    let viewer = h.signup("viewer").await;
    let target = format!("/api/users/referral_code/?code={}", owner.referral_code);
    let (status, body) = h.get(&viewer.access, &target).await;
    let data = assert_ok(status, &body);
    assert_eq!(keys(data), seed_fields("PublicProfile"));
    assert!(data["bio"].is_null());
    assert!(data["muted"].is_null());
    assert_eq!(data["followed"], false);
    assert_eq!(data["country_name"], "IN");
    assert_eq!(data["favourite_artists"], json!({"data": []}));
    assert_eq!(data["first_name"], "Breakfree");
    assert_eq!(data["last_name"], " ");
    assert_eq!(data["notification_id"], "");
    assert_eq!(data["number_of_followers"], 0);
    assert_eq!(data["profile_pic_url"], "");
    assert_eq!(data["referral_code"], owner.referral_code.as_str());
    assert_eq!(data["tokens"], 0);
    assert_eq!(data["user_handle"], "Breakfree");
    assert_eq!(data["user_id"], owner.user_id.as_str());
    // Unknown (or malformed): the seed's envelope, word for word.
    let unknown = if owner.referral_code == "999999" {
        "999998"
    } else {
        "999999"
    };
    for code in [unknown, "12", "abcdef"] {
        let target = format!("/api/users/referral_code/?code={code}");
        let (status, body) = h.get(&viewer.access, &target).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_seed_error(&body, "USER_DOES_NOT_EXIST", "User Does Not Exist");
    }
    let no_code = Refusal::get(400, "/api/users/referral_code/", "MISSING_PARAMETER");
    h.refuses(Some(&viewer.access), [no_code]).await;
}
