//! The registration form: the profile, the playlist, referral credits, each bad field, and
//! one winner among 50 people claiming one handle. The form's checks (is a handle free, whose
//! is an invite code) are in `checks`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{assert_error, form, keys, seed_fields, spawn, Refusal, PROFILE};
use crate::probe::post_raw;

fn assert_profile_shape(p: &Value) {
    assert_eq!(keys(p), seed_fields("SelfProfile"));
}

#[tokio::test]
async fn the_registration_form_creates_the_profile_the_playlist_and_credits_the_referrer() {
    let h = spawn().await;
    let referrer = h.registered("referrer", "Inviter").await;
    let s = h.signup("newbie").await;
    let provisional = s.handle.clone();
    let mut body = form("Ftujklloo");
    body["referral_code"] = json!(referrer.referral_code.parse::<u64>().unwrap());
    body["favourite_artists"] = json!("{\"data\":[\"Array\"]}");
    let (status, answer) = h.post(&s.access, "/api/users/profile/", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["success"], true);
    let p = &answer["data"];
    assert_profile_shape(p);
    assert!(p["bio"].is_null());
    assert_eq!(p["country_name"], "IN");
    assert_eq!(p["date_of_birth"], "1994-04-26");
    assert_eq!(p["favourite_artists"], json!({"data": ["Array"]}));
    assert_eq!(p["first_name"], "Breakfree");
    assert_eq!(p["last_name"], " ");
    let internal = p["internal_username"].as_str().unwrap();
    assert!(
        internal.starts_with("breakfree") && internal.len() == 15,
        "{internal}"
    );
    assert_eq!(p["notification_id"], "");
    assert_eq!(p["number_of_followers"], 0);
    assert_eq!(p["number_of_following"], 0);
    assert_eq!(p["number_of_hums"], 0);
    assert_eq!(p["profile_pic_url"], "");
    assert_eq!(p["referral_code"], s.referral_code.as_str());
    assert_eq!(p["signup_done"], true);
    assert_eq!(p["signup_stage"], 1);
    assert_eq!(p["tokens"], 0);
    assert_eq!(p["user_handle"], "Ftujklloo");
    assert_eq!(p["user_id"], s.user_id.as_str());
    assert_eq!(p["onboarding_done"], false);
    // The playlist was created on Spotify, for this Spotify user, and its id kept.
    let playlists = h.spotify.playlists();
    let mine: Vec<_> = playlists.iter().filter(|p| p.owner == "newbie").collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].name, "humit");
    assert_eq!(p["playlist_id"], mine[0].id.as_str());
    // GET answers the same.
    let (status, again) = h.get(&s.access, "/api/users/profile/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, answer);
    // The referrer was credited.
    let (_, referrer_profile) = h.get(&referrer.access, "/api/users/profile/").await;
    assert_eq!(referrer_profile["data"]["tokens"], 1);
    // The provisional handle is free again; the new one is not.
    let other = h.signup("other").await;
    let target = format!("/api/users/username/?username={provisional}");
    let (status, _) = h.get(&other.access, &target).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = h
        .get(&other.access, "/api/users/username/?username=ftujklloo")
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Signing up again now answers stage 1.
    let (_, signup) = h.signup_raw(&s.spotify_token, "sp-refresh-again").await;
    assert_eq!(signup["data"]["signup_stage"], 1);
}

#[tokio::test]
async fn each_bad_field_of_the_form_is_refused_with_its_code() {
    let h = spawn().await;
    h.registered("taken", "TakenHandle").await;
    let s = h.signup("formfiller").await;
    let bad = |field: &str, value: Value, status, code| {
        let mut body = form("Fresh_Handle");
        body[field] = value;
        Refusal::post(status, PROFILE, body, code)
    };
    let rows = [
        bad(
            "date_of_birth",
            json!("26/04/1994"),
            400,
            "INVALID_DATE_OF_BIRTH",
        ),
        bad(
            "date_of_birth",
            json!("2030-01-01"),
            400,
            "INVALID_DATE_OF_BIRTH",
        ),
        bad("date_of_birth", Value::Null, 400, "MISSING_FIELD"),
        bad("display_username", json!("x"), 400, "INVALID_USERNAME"),
        bad(
            "display_username",
            json!("takenhandle"),
            409,
            "DISPLAY_USERNAME_NOT_UNIQUE",
        ),
        bad(
            "favourite_artists",
            json!("not json"),
            400,
            "INVALID_FAVOURITE_ARTISTS",
        ),
        bad("full_name", json!(""), 400, "MISSING_FIELD"),
        bad(
            "full_name",
            json!("x".repeat(101)),
            400,
            "INVALID_FULL_NAME",
        ),
        bad(
            "notification_id",
            json!(["x"]),
            400,
            "INVALID_NOTIFICATION_ID",
        ),
        bad("referral_code", json!("12"), 400, "INVALID_REFERRAL_CODE"),
        bad(
            "referral_code",
            json!(s.referral_code),
            400,
            "INVALID_REFERRAL_CODE",
        ),
    ];
    h.refuses(Some(&s.access), rows).await;
    // An invite code nobody has.
    let mut unknown = None;
    for candidate in 100_000..100_100u32 {
        let owner = humit::identity::owner_of(
            &h.app.state,
            aggregates::claim::ClaimKind::ReferralCode,
            &candidate.to_string(),
        )
        .await
        .unwrap();
        if owner.is_none() {
            unknown = Some(candidate);
            break;
        }
    }
    let nobodys = bad(
        "referral_code",
        json!(unknown.unwrap()),
        404,
        "USER_DOES_NOT_EXIST",
    );
    h.refuses(Some(&s.access), [nobodys]).await;
    // Nothing was registered and no handle kept by the refusals.
    assert_eq!(h.profile(&s).await["signup_stage"], 0);
    let (status, _) = h
        .get(&s.access, "/api/users/username/?username=Fresh_Handle")
        .await;
    assert_eq!(status, StatusCode::OK);
    // A body that is not JSON.
    let auth = format!("humit {}", s.access);
    let headers = [("Authorization", auth.as_str())];
    let form = "date_of_birth=1994-4-26";
    let (status, answer) = post_raw(&h.app, "/api/users/profile/", &headers, form).await;
    assert_error(
        status,
        &answer,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    );
}

#[tokio::test]
async fn the_form_is_submitted_once() {
    let h = spawn().await;
    let s = h.registered("once", "OnlyOnce").await;
    let again = Refusal::post(409, PROFILE, form("Twice"), "PROFILE_ALREADY_REGISTERED");
    h.refuses(Some(&s.access), [again]).await;
    assert_eq!(h.profile(&s).await["user_handle"], "OnlyOnce");
    // The handle tried the second time was not kept.
    let other = h.signup("other").await;
    let (status, _) = h
        .get(&other.access, "/api/users/username/?username=Twice")
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_spotify_token_fails_the_form_and_gives_the_handle_back() {
    let h = spawn().await;
    let s = h.signup("expiring").await;
    h.spotify.expire(&s.spotify_token);
    let expired = Refusal::post(401, PROFILE, form("Wanted"), "SPOTIFY_TOKEN_INVALID");
    h.refuses(Some(&s.access), [expired]).await;
    assert_eq!(h.profile(&s).await["signup_stage"], 0);
    let other = h.registered("other", "Wanted").await;
    assert_eq!(h.profile(&other).await["user_handle"], "Wanted");
}

#[tokio::test]
async fn of_50_people_claiming_one_handle_exactly_one_wins() {
    let h = spawn().await;
    let mut sessions = Vec::new();
    for i in 0..50 {
        sessions.push(h.signup(&format!("racer{i}")).await);
    }
    let attempts = sessions.iter().map(|s| {
        let h = &h;
        async move {
            h.post(&s.access, "/api/users/profile/", form("TheOne"))
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (status, body) in &results {
        if *status != StatusCode::OK {
            assert_error(
                *status,
                body,
                StatusCode::CONFLICT,
                "DISPLAY_USERNAME_NOT_UNIQUE",
            );
        }
    }
    let winner = &winners[0].1["data"]["user_id"];
    h.app.settle().await;
    let holders: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM rm_users WHERE lower(username) = 'theone'")
            .fetch_all(&h.app.pool)
            .await
            .unwrap();
    assert_eq!(holders, [winner.as_str().unwrap().to_string()]);
    // The 49 others can still register with handles of their own.
    let loser = sessions
        .iter()
        .find(|s| s.user_id != winner.as_str().unwrap())
        .unwrap();
    let (status, body) = h
        .post(&loser.access, "/api/users/profile/", form("Second"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
