//! Stations: staff create them, people discover and follow them; onboarding needs three.

use reqwest::StatusCode;
use serde_json::json;

use super::{keys, seed_fields, spawn, Refusal};
use crate::probe::scalar_by;

#[tokio::test]
async fn only_staff_create_stations_and_fields_are_checked() {
    let h = spawn().await;
    let staff = h.staff("boss").await;
    let normal = h.signup("normal").await;
    let mine = json!({"name": "Mine"});
    let not_staff = Refusal::post(403, "/api/stations/", mine, "PERMISSION_DENIED");
    h.refuses(Some(&normal.access), [not_staff]).await;
    let (status, body) = h
        .post(
            &staff.access,
            "/api/stations/",
            json!({"name": "Lo-fi", "description": "Beats to study to", "image_url": "https://img.example/lofi.jpg"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let station = &body["data"];
    assert_eq!(keys(station), seed_fields("StationDto"));
    assert_eq!(station["name"], "Lo-fi");
    assert_eq!(station["description"], "Beats to study to");
    assert_eq!(station["image_url"], "https://img.example/lofi.jpg");
    assert_eq!(station["number_of_followers"], 0);
    assert_eq!(station["number_of_hums"], 0);
    assert_eq!(station["followed"], false);
    assert!(station["created_at"].as_str().unwrap().ends_with('Z'));
    let bad = |body, code| Refusal::post(400, "/api/stations/", body, code);
    let rows = [
        bad(json!({}), "MISSING_FIELD"),
        bad(json!({"name": "x".repeat(81)}), "INVALID_STATION"),
        bad(
            json!({"name": "x", "image_url": "ftp://x"}),
            "INVALID_STATION",
        ),
    ];
    h.refuses(Some(&staff.access), rows).await;
}

#[tokio::test]
async fn discover_pages_stations_by_popularity_with_absolute_links() {
    let h = spawn().await;
    let staff = h.staff("boss").await;
    let stations = h.stations(&staff, "Station ", 5).await;
    // Station 3 gets two followers, station 1 one.
    let a = h.signup("a").await;
    let b = h.signup("b").await;
    h.follow_stations(&a, &[stations[3].clone(), stations[1].clone()])
        .await;
    h.follow_stations(&b, &[stations[3].clone()]).await;
    let page = h
        .first_page_of_two(&a.access, "/api/stations/discover/", 5)
        .await;
    assert_eq!(keys(&page), ["count", "next", "previous", "results"]);
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["station_id"], stations[3].as_str());
    assert_eq!(results[0]["number_of_followers"], 2);
    assert_eq!(results[0]["followed"], true);
    assert_eq!(results[1]["station_id"], stations[1].as_str());
    // The last page.
    let (_, body) = h
        .get(&b.access, "/api/stations/discover/?limit=2&offset=4")
        .await;
    let page = &body["data"];
    assert!(page["next"].is_null());
    assert_eq!(
        page["previous"],
        format!("{}/api/stations/discover/?limit=2&offset=2", h.app.address).as_str()
    );
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    // Defaults, and the seed's URL with a trailing slash after the offset.
    let (status, body) = h
        .get(&b.access, "/api/stations/discover/?limit=20&offset=0/")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["results"].as_array().unwrap().len(), 5);
    let (_, body) = h.get(&b.access, "/api/stations/discover/").await;
    assert_eq!(body["data"]["results"][0]["followed"], true);
    let bad =
        |query: &str, code| Refusal::get(400, format!("/api/stations/discover/?{query}"), code);
    let rows = [
        bad("limit=0", "INVALID_LIMIT"),
        bad("limit=101", "INVALID_LIMIT"),
        bad("limit=ten", "INVALID_LIMIT"),
        bad("offset=-1", "INVALID_OFFSET"),
    ];
    h.refuses(Some(&b.access), rows).await;
}

#[tokio::test]
async fn follow_and_unfollow_move_the_counters_once_and_onboarding_needs_three() {
    let h = spawn().await;
    let staff = h.staff("boss").await;
    let s = h.registered("fan", "TheFan").await;
    let stations = h.stations(&staff, "S", 3).await;
    let path = format!("/api/stations/{}/follow/", stations[0]);
    for _ in 0..2 {
        let (status, body) = h.post(&s.access, &path, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["followed"], true);
        assert_eq!(body["data"]["number_of_followers"], 1);
    }
    for _ in 0..2 {
        let (status, body) = h.delete(&s.access, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["followed"], false);
        assert_eq!(body["data"]["number_of_followers"], 0);
    }
    assert_eq!(h.profile(&s).await["onboarding_done"], false);
    h.follow_stations(&s, &stations[..2]).await;
    assert_eq!(h.profile(&s).await["onboarding_done"], false);
    h.follow_stations(&s, &stations[2..]).await;
    assert_eq!(h.profile(&s).await["onboarding_done"], true);
    // Unknown stations.
    let unknown = "STATION_DOES_NOT_EXIST";
    let rows = [
        Refusal::post(404, "/api/stations/nope/follow/", json!({}), unknown),
        Refusal::delete(404, "/api/stations/a:b/follow/", unknown),
    ];
    h.refuses(Some(&s.access), rows).await;
}

#[tokio::test]
async fn station_followers_stay_exact_under_concurrent_follows_and_unfollows() {
    let h = spawn().await;
    let staff = h.staff("boss").await;
    let station = h.station(&staff, "Busy").await;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(h.signup(&format!("p{i}")).await);
    }
    let path = format!("/api/stations/{station}/follow/");
    // Everyone follows three times at once; the first half then unfollows twice at once while
    // the second half follows again.
    let follows = people.iter().flat_map(|p| {
        let (h, path) = (&h, &path);
        (0..3).map(move |_| async move { h.post(&p.access, path, json!({})).await.0 })
    });
    let statuses = futures::future::join_all(follows).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let mixed = people.iter().enumerate().flat_map(|(i, p)| {
        let (h, path) = (&h, &path);
        (0..2).map(move |_| async move {
            if i < 6 {
                h.delete(&p.access, path).await.0
            } else {
                h.post(&p.access, path, json!({})).await.0
            }
        })
    });
    let statuses = futures::future::join_all(mixed).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    h.app.settle().await;
    let (_, body) = h.get(&staff.access, "/api/stations/discover/").await;
    assert_eq!(body["data"]["results"][0]["number_of_followers"], 6);
    let rows: i64 = scalar_by(
        &h.app.pool,
        "SELECT count(*) FROM rm_station_follows WHERE station_id = $1",
        &station,
    )
    .await;
    assert_eq!(rows, 6);
}
