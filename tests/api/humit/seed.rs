//! `humit seed --demo`: the demo data set, loaded through the same commands, makes a
//! newcomer's first discover calls show a real feed; loading it twice changes nothing.

use reqwest::StatusCode;

use super::spawn;

#[tokio::test]
async fn the_demo_seed_gives_a_newcomer_a_real_feed_and_is_idempotent() {
    let h = spawn().await;
    let report = humit::cli::seed::load_demo(&h.app.state).await.unwrap();
    assert_eq!(report.stations, 8);
    assert_eq!(report.users, 10);
    assert!(report.follows > 40, "{report:?}");
    assert_eq!(report.hums, 14);
    h.app.settle().await;
    let newcomer = h.signup("newcomer").await;
    let (status, body) = h
        .get(
            &newcomer.access,
            "/api/stations/discover/?limit=20&offset=0",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["count"], 8);
    let stations = body["data"]["results"].as_array().unwrap();
    let followers: Vec<i64> = stations
        .iter()
        .map(|s| s["number_of_followers"].as_i64().unwrap())
        .collect();
    assert!(followers.windows(2).all(|w| w[0] >= w[1]), "{followers:?}");
    assert!(followers[0] >= 5, "{followers:?}");
    assert_eq!(stations[0]["name"], "Lo-fi Beats");
    let (_, body) = h.get(&newcomer.access, "/api/users/discover/").await;
    assert_eq!(body["data"]["count"], 10);
    let first = &body["data"]["results"][0];
    assert_eq!(first["user_handle"], "harshitaprabha");
    assert_eq!(first["number_of_followers"], 7);
    assert!(first["number_of_hums"].as_i64().unwrap() >= 2);
    // The demo people finished onboarding: they hum.
    let (_, body) = h
        .get(&newcomer.access, "/api/stations/demo-jazz/hums/")
        .await;
    assert_eq!(body["data"]["count"], 2);
    // Twice: nothing new.
    let again = humit::cli::seed::load_demo(&h.app.state).await.unwrap();
    assert_eq!(
        (again.stations, again.users, again.follows, again.hums),
        (0, 0, 0, 0)
    );
    h.app.settle().await;
    let (_, body) = h.get(&newcomer.access, "/api/stations/discover/").await;
    assert_eq!(body["data"]["count"], 8);
}
