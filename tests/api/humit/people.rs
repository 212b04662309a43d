//! People: discover, the invite code's onboarding list, follow and mute, exact counters.

use reqwest::StatusCode;
use serde_json::json;

use super::{assert_ok, keys, seed_fields, spawn, Refusal};

#[tokio::test]
async fn following_and_muting_people() {
    let h = spawn().await;
    let [a, b] = h.registered_all([("a", "Alpha"), ("b", "Beta")]).await;
    let follow = format!("/api/users/{}/follow/", b.user_id);
    for _ in 0..2 {
        let (status, body) = h.post(&a.access, &follow, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["user_id"], b.user_id.as_str());
        assert_eq!(body["data"]["followed"], true);
        assert_eq!(body["data"]["number_of_followers"], 1);
    }
    assert_eq!(h.profile(&a).await["number_of_following"], 1);
    assert_eq!(h.profile(&b).await["number_of_followers"], 1);
    let (status, body) = h.delete(&a.access, &follow).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["followed"], false);
    assert_eq!(body["data"]["number_of_followers"], 0);
    assert_eq!(h.profile(&a).await["number_of_following"], 0);
    // Mute: `true`, and null again once unmuted (as the seed shows for someone not muted).
    let mute = format!("/api/users/{}/mute/", b.user_id);
    let (status, body) = h.post(&a.access, &mute, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["muted"], true);
    let (_, body) = h.delete(&a.access, &mute).await;
    assert!(body["data"]["muted"].is_null());
    // Oneself, and nobody.
    let toward = |whom: &str, action: &str, status, code| {
        let path = format!("/api/users/{whom}/{action}/");
        Refusal::post(status, path, json!({}), code)
    };
    let rows = [
        toward(&a.user_id, "follow", 400, "CANNOT_FOLLOW_SELF"),
        toward(&a.user_id, "mute", 400, "CANNOT_MUTE_SELF"),
        toward("nobody", "follow", 404, "USER_DOES_NOT_EXIST"),
        toward("nobody", "mute", 404, "USER_DOES_NOT_EXIST"),
    ];
    h.refuses(Some(&a.access), rows).await;
}

#[tokio::test]
async fn discover_people_excludes_oneself_and_the_followed_and_ranks_by_followers() {
    let h = spawn().await;
    let [me, star, known, quiet, fan] = h
        .registered_all([
            ("me", "Myself"),
            ("star", "Star"),
            ("known", "Known"),
            ("quiet", "Quiet"),
            ("fan", "Fan"),
        ])
        .await;
    // Star has two followers, Quiet one; I already follow Known.
    for (who, whom) in [
        (&fan, &star),
        (&known, &star),
        (&fan, &quiet),
        (&me, &known),
    ] {
        h.follow_user(who, whom).await;
    }
    let page = h
        .first_page_of_two(&me.access, "/api/users/discover/", 3)
        .await;
    let results = page["results"].as_array().unwrap();
    assert_eq!(results[0]["user_id"], star.user_id.as_str());
    assert_eq!(results[0]["number_of_followers"], 2);
    assert_eq!(results[0]["followed"], false);
    assert_eq!(results[1]["user_id"], quiet.user_id.as_str());
    let (_, body) = h
        .get(&me.access, "/api/users/discover/?limit=50&offset=2/")
        .await;
    let rest = body["data"]["results"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["user_id"], fan.user_id.as_str());
    let too_many = Refusal::get(400, "/api/users/discover/?limit=500", "INVALID_LIMIT");
    h.refuses(Some(&me.access), [too_many]).await;
}

#[tokio::test]
async fn an_invite_code_recommends_its_owner_and_whom_they_follow() {
    let h = spawn().await;
    let [owner, friend] = h
        .registered_all([("owner", "Harshita"), ("friend", "Friend")])
        .await;
    let newbie = h.signup("newbie").await;
    h.follow_user(&owner, &friend).await;
    // The newcomer is followed by the owner too: never recommended to themselves.
    h.follow_user(&owner, &newbie).await;
    let onboard = format!("/api/users/onboard/?code={}", owner.referral_code);
    let (status, body) = h.get(&newbie.access, &onboard).await;
    let entries = assert_ok(status, &body).as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["user_id"], owner.user_id.as_str());
    assert_eq!(entries[1]["user_id"], friend.user_id.as_str());
    let e = &entries[0];
    assert_eq!(keys(e), seed_fields("OnboardEntry"));
    assert!(e["bio"].is_null());
    assert!(e["muted"].is_null());
    assert_eq!(e["user_handle"], "Harshita");
    assert_eq!(e["number_of_hums"], 0);
    let since = e["member_since"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(since).is_ok()
            && since.ends_with('Z')
            && since.len() == 27,
        "{since}"
    );
    let rows = [
        Refusal::get(
            404,
            "/api/users/onboard/?code=000000",
            "USER_DOES_NOT_EXIST",
        ),
        Refusal::get(400, "/api/users/onboard/", "MISSING_PARAMETER"),
    ];
    h.refuses(Some(&newbie.access), rows).await;
}

#[tokio::test]
async fn follower_counts_stay_exact_under_concurrent_follows_and_unfollows() {
    let h = spawn().await;
    let star = h.signup("star").await;
    let mut fans = Vec::new();
    for i in 0..10 {
        fans.push(h.signup(&format!("fan{i}")).await);
    }
    let path = format!("/api/users/{}/follow/", star.user_id);
    let storm = fans.iter().enumerate().flat_map(|(i, fan)| {
        let (h, path) = (&h, &path);
        (0..4).map(move |round| async move {
            // Even fans end following; odd fans end not following.
            if round % 2 == 0 || i % 2 == 0 {
                h.post(&fan.access, path, json!({})).await.0
            } else {
                h.delete(&fan.access, path).await.0
            }
        })
    });
    let statuses = futures::future::join_all(storm).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    // Odd fans unfollow for good now.
    for fan in fans.iter().skip(1).step_by(2) {
        let (status, _) = h.delete(&fan.access, &path).await;
        assert_eq!(status, StatusCode::OK);
    }
    h.app.settle().await;
    assert_eq!(h.profile(&star).await["number_of_followers"], 5);
    let following: Vec<i64> = sqlx::query_scalar(
        "SELECT following FROM rm_user_stats WHERE user_id = ANY($1) ORDER BY user_id",
    )
    .bind(fans.iter().map(|f| f.user_id.clone()).collect::<Vec<_>>())
    .fetch_all(&h.app.pool)
    .await
    .unwrap();
    assert_eq!(following.iter().sum::<i64>(), 5);
    assert!(following.iter().all(|n| *n == 0 || *n == 1));
}
