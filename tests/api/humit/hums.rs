//! Hums: onboarding first, then tracks shared to stations, counted and listed.

use reqwest::StatusCode;
use serde_json::json;

use super::{keys, seed_fields, spawn, Refusal, TRACK};

#[tokio::test]
async fn humming_needs_onboarding_then_counts_everywhere() {
    let h = spawn().await;
    let staff = h.staff("boss").await;
    let s = h.registered("hummer", "Hummer").await;
    let stations: Vec<String> = futures::future::join_all((0..3).map(|i| {
        let (h, staff) = (&h, &staff);
        async move { h.station(staff, &format!("S{i}")).await }
    }))
    .await;
    let hum = json!({"station_id": stations[0], "track_id": TRACK, "caption": "on repeat"});
    // Onboarding takes three followed stations: refused with none, and with two.
    for followed in [&stations[..0], &stations[..2]] {
        h.follow_stations(&s, followed).await;
        let early = Refusal::post(403, "/api/hums/", hum.clone(), "ONBOARDING_INCOMPLETE");
        h.refuses(Some(&s.access), [early]).await;
    }
    h.follow_stations(&s, &stations[2..]).await;
    let (status, body) = h.post(&s.access, "/api/hums/", hum.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let posted = &body["data"];
    assert_eq!(keys(posted), seed_fields("HumDto"));
    assert_eq!(posted["caption"], "on repeat");
    assert_eq!(posted["track_id"], TRACK);
    assert_eq!(posted["station_id"], stations[0].as_str());
    assert_eq!(posted["user_id"], s.user_id.as_str());
    assert_eq!(posted["user_handle"], "Hummer");
    // A Spotify URI names the same track.
    let (status, body) = h
        .post(
            &s.access,
            "/api/hums/",
            json!({"station_id": stations[0], "track_id": format!("spotify:track:{TRACK}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["track_id"], TRACK);
    assert_eq!(body["data"]["caption"], "");
    // Counted for the user and the station.
    assert_eq!(h.profile(&s).await["number_of_hums"], 2);
    let (_, body) = h.get(&s.access, "/api/stations/discover/").await;
    let station = body["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["station_id"] == stations[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(station["number_of_hums"], 2);
    // Listed newest first, paged.
    let target = format!("/api/stations/{}/hums/?limit=1", stations[0]);
    let (status, body) = h.get(&s.access, &target).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["count"], 2);
    assert_eq!(body["data"]["results"][0]["caption"], "");
    assert_eq!(
        body["data"]["next"],
        format!(
            "{}/api/stations/{}/hums/?limit=1&offset=1",
            h.app.address, stations[0]
        )
        .as_str()
    );
}

#[tokio::test]
async fn bad_hums_are_refused_and_muted_people_are_not_listed() {
    let h = spawn().await;
    let staff = h.staff("boss").await;
    let stations = h.stations(&staff, "S", 3).await;
    let [loud, listener] = h
        .registered_all([("loud", "Loud"), ("listener", "Listener")])
        .await;
    h.follow_stations(&loud, &stations).await;
    let bad = |status, body, code| Refusal::post(status, "/api/hums/", body, code);
    let long = "c".repeat(281);
    let rows = [
        bad(400, json!({"track_id": TRACK}), "MISSING_FIELD"),
        bad(400, json!({"station_id": stations[0]}), "MISSING_FIELD"),
        bad(
            400,
            json!({"station_id": stations[0], "track_id": "not a track"}),
            "INVALID_TRACK_ID",
        ),
        bad(
            400,
            json!({"station_id": stations[0], "track_id": TRACK, "caption": long}),
            "INVALID_CAPTION",
        ),
        bad(
            404,
            json!({"station_id": "nope", "track_id": TRACK}),
            "STATION_DOES_NOT_EXIST",
        ),
    ];
    h.refuses(Some(&loud.access), rows).await;
    let (status, _) = h
        .post(
            &loud.access,
            "/api/hums/",
            json!({"station_id": stations[1], "track_id": TRACK}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/stations/{}/hums/", stations[1]);
    let (_, body) = h.get(&listener.access, &path).await;
    assert_eq!(body["data"]["count"], 1);
    h.mute_user(&listener, &loud).await;
    let (_, body) = h.get(&listener.access, &path).await;
    assert_eq!(body["data"]["count"], 0);
    assert_eq!(body["data"]["results"], json!([]));
    let unknown = Refusal::get(404, "/api/stations/nope/hums/", "STATION_DOES_NOT_EXIST");
    h.refuses(Some(&listener.access), [unknown]).await;
}
