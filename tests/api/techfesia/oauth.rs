//! OAuth sign-in against in-test providers (a real HTTP server, the real reqwest client):
//! create or sign into the linked account, link to a signed-in account, never by email,
//! pictures from a linked provider, and passwords for OAuth-only accounts.

use serde_json::json;

use super::{keys, sorted, spawn, Row};

#[tokio::test]
async fn sign_in_creates_then_finds_the_account_for_each_provider() {
    let tf = spawn().await;
    let a = tf.oauth("google/", None, "g-alice").await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(keys(&a.body), sorted(&["access", "refresh", "username"]));
    assert_eq!(a.body["username"], "alice");
    let access = a.body["access"].as_str().unwrap().to_string();
    // The provider was asked, with the token as a bearer.
    let seen = tf.providers.seen();
    assert_eq!(seen[0].path, "/google/oauth2/v3/userinfo");
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer g-alice"));

    let me = tf.get("/users/alice", Some(&access)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], "alice@gmail.example");
    assert_eq!(me.body["firstName"], "Alice");
    assert_eq!(me.body["lastName"], "Liddell");
    assert_eq!(me.body["profilePicture"], "https://pics.example/alice.jpg");
    assert!(me.body["lastLogin"].is_string());
    let modes = tf.get("/users/alice/auth_modes", Some(&access)).await;
    assert_eq!(
        (modes.status, modes.body),
        (200, json!({"password": false, "o-auth": ["google"]}))
    );

    // Again: the same account, a new session.
    let a = tf.oauth("google", None, "g-alice").await;
    assert_eq!(a.body["username"], "alice");
    assert_eq!(
        tf.get("/users?username=alice", Some(&tf.root().await))
            .await
            .body["users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // GitHub, Facebook and Spotify, each parsed its own way.
    let a = tf.oauth("github/", None, "gh-bob").await;
    assert_eq!(a.body["username"], "bobcodes");
    let a = tf.oauth("facebook/", None, "fb-dan").await;
    assert_eq!(a.status, 200, "{a:?}");
    let dan = a.body["access"].as_str().unwrap().to_string();
    let user = a.body["username"].as_str().unwrap().to_string();
    assert_eq!(user, "dan");
    let me = tf.get(&format!("/users/{user}"), Some(&dan)).await;
    assert_eq!(me.body["profilePicture"], "https://fb.example/dan.jpg");
    let fb = tf
        .providers
        .seen()
        .into_iter()
        .find(|s| s.path == "/facebook/me")
        .unwrap();
    assert_eq!(fb.query.as_deref(), Some("fields=id,name,email,picture"));
    let a = tf.oauth("spotify/", None, "sp-erin").await;
    assert_eq!(a.body["username"], "erin.sp");

    // Refused tokens, unknown providers, missing fields, providers down.
    for (provider, token, status) in [("google/", "forged", 401), ("myspace/", "x", 404)] {
        let a = tf.oauth(provider, None, token).await;
        assert_eq!(a.status, status, "{provider} {token}: {a:?}");
    }
    let a = tf.post("/auth/o-auth/google/", None, json!({})).await;
    assert_eq!(
        (a.status, a.body),
        (400, json!({"accessToken": ["This field is required."]}))
    );
    tf.providers.set_failing(true);
    let a = tf.oauth("google/", None, "g-alice").await;
    assert_eq!(a.status, 502);
    tf.providers.set_failing(false);

    // A disabled account cannot sign in with its provider either.
    let disable = Row::put_bare(200, "/users/alice/disable");
    tf.expect_as(Some(&access), [disable]).await;
    let a = tf.oauth("google/", None, "g-alice").await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn an_email_match_never_links_but_the_owner_can_link() {
    let tf = spawn().await;
    // bob has a password account with the very email Google reports for "g-bob-email".
    tf.create_user("bob", "Hello World").await;
    tf.create_user("bob_other", "Hello World").await;
    let (bob, _) = tf.login("bob", "Hello World").await;

    // Signing in with Google as that email makes a separate account, without the email.
    let a = tf.oauth("google/", None, "g-bob-email").await;
    assert_eq!(a.status, 200, "{a:?}");
    let other = a.body["username"].as_str().unwrap().to_string();
    assert_ne!(other, "bob");
    assert!(other.starts_with("bob"), "{other}");
    let other_access = a.body["access"].as_str().unwrap().to_string();
    let me = tf
        .get(&format!("/users/{other}"), Some(&other_access))
        .await;
    assert_eq!(me.body["email"], serde_json::Value::Null);
    let modes = tf.get("/users/bob/auth_modes", Some(&bob)).await;
    assert_eq!(modes.body, json!({"password": true, "o-auth": []}));

    // bob, signed in, links GitHub to his account.
    let a = tf.oauth("github/", Some(&bob), "gh-bob").await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["username"], "bob");
    let modes = tf.get("/users/bob/auth_modes", Some(&bob)).await;
    assert_eq!(modes.body, json!({"password": true, "o-auth": ["github"]}));
    // Now GitHub signs into bob, without a password.
    let a = tf.oauth("github/", None, "gh-bob").await;
    assert_eq!(a.body["username"], "bob");
    // The Google identity belongs to the other account: bob cannot take it.
    let a = tf.oauth("google/", Some(&bob), "g-bob-email").await;
    assert_eq!(a.status, 422, "{a:?}");
    assert!(a.body["errors"]["accessToken"].is_string());
    // A token that is sent must be valid.
    let a = tf.oauth("github/", Some("sample_token"), "gh-bob").await;
    assert_eq!(a.status, 401);

    // Pictures from a linked provider.
    let picture = "/users/bob/picture";
    let a = tf
        .put(picture, Some(&bob), json!({"provider": "github"}))
        .await;
    let updated = json!({"message": "Profile Picture updated"});
    assert_eq!((a.status, a.body), (200, updated));
    let me = tf.get("/users/bob", Some(&bob)).await;
    assert_eq!(me.body["profilePicture"], "https://avatars.example/bob.png");
    tf.expect_as(
        Some(&bob),
        [
            Row::put(422, picture, json!({"provider": "google"})),
            Row::put(400, picture, json!({"provider": "orkut"})),
            // Without a body: the first linked provider.
            Row::put_bare(200, "/users/bob/picture/"),
        ],
    )
    .await;
    // No linked provider at all.
    let (plain, _) = tf.login("bob_other", "Hello World").await;
    let google = json!({"provider": "google"});
    let a = tf
        .put("/users/bob_other/picture", Some(&plain), google)
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["provider"].is_string());
    // Someone else's picture.
    let github = json!({"provider": "github"});
    tf.expect_as(Some(&plain), [Row::put(403, picture, github)])
        .await;
}

#[tokio::test]
async fn an_oauth_only_account_creates_a_password() {
    let tf = spawn().await;
    let a = tf.oauth("google/", None, "g-nopic").await;
    assert_eq!(a.status, 200);
    let access = a.body["access"].as_str().unwrap().to_string();
    let username = a.body["username"].as_str().unwrap().to_string();
    let path = format!("/users/{username}/password/");
    // No password to change.
    let change = json!({"oldPassword": "x", "newPassword": "new_password"});
    let a = tf.put(&path, Some(&access), change).await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["password"].is_string());
    // No picture at the provider; a body without the password.
    let picture = format!("/users/{username}/picture");
    let rows = [
        Row::put(422, &picture, json!({})),
        Row::post(400, &path, json!({})),
    ];
    tf.expect_as(Some(&access), rows).await;
    // Create: the seed's body and answer; once only.
    let password = json!({"password": "Hello World"});
    let a = tf.post(&path, Some(&access), password.clone()).await;
    let created = json!({"message": "new password created"});
    assert_eq!((a.status, a.body), (201, created));
    tf.expect_as(Some(&access), [Row::post(422, &path, password)])
        .await;
    let modes = tf
        .get(&format!("/users/{username}/auth_modes"), Some(&access))
        .await;
    assert_eq!(modes.body, json!({"password": true, "o-auth": ["google"]}));
    // The session is still valid, and the password signs in.
    assert_eq!(
        tf.get(&format!("/users/{username}"), Some(&access))
            .await
            .status,
        200
    );
    tf.login(&username, "Hello World").await;
}

#[tokio::test]
async fn a_humit_spotify_account_is_the_same_person_in_techfesia() {
    let tf = spawn().await;
    // Signed up through the humit app with Spotify.
    let a = tf
        .post(
            "/api/users/auth/signup/",
            None,
            json!({"access_token": "sp-erin", "refresh_token": "sp-refresh-erin",
                   "signup_method": "SPOTIFY", "notification_id": null}),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    // Techfesia's Spotify sign-in finds that account: one identity, two dialects.
    let a = tf.oauth("spotify/", None, "sp-erin").await;
    assert_eq!(a.status, 200, "{a:?}");
    let username = a.body["username"].as_str().unwrap().to_string();
    let access = a.body["access"].as_str().unwrap().to_string();
    let root = tf.root().await;
    let all = tf.get("/users", Some(&root)).await;
    assert_eq!(all.body["users"].as_array().unwrap().len(), 2, "{all:?}");
    let modes = tf
        .get(&format!("/users/{username}/auth_modes"), Some(&access))
        .await;
    assert_eq!(
        modes.body,
        json!({"password": false, "o-auth": ["spotify"]})
    );
    // Exactly what "create password" is for.
    let a = tf
        .post(
            &format!("/users/{username}/password/"),
            Some(&access),
            json!({"password": "Hello World"}),
        )
        .await;
    assert_eq!(a.status, 201, "{a:?}");
    tf.login(&username, "Hello World").await;
}

#[tokio::test]
async fn a_new_identity_signing_in_many_times_at_once_gets_one_account() {
    // The first sign-in claims the identity a moment before it stores the account; the
    // others wait for it instead of answering 401 for an account that is still being made.
    let tf = spawn().await;
    let storm = (0..8).map(|_| tf.oauth("google/", None, "g-alice"));
    let answers = futures::future::join_all(storm).await;
    let mut usernames = std::collections::BTreeSet::new();
    for a in &answers {
        match a.status {
            200 => {
                usernames.insert(a.body["username"].as_str().unwrap().to_string());
            }
            409 => assert!(a.body["detail"].is_string(), "{a:?}"),
            _ => panic!("{a:?}"),
        }
    }
    assert_eq!(usernames.len(), 1, "{usernames:?}");
}
