//! Enumeration by timing: a login for an unknown username costs what a wrong password for a
//! known one costs (the median of each, sampled alternately, within 10%), so response times
//! do not tell which usernames exist. Timed, so it runs in the battery (`scripts/battery.sh
//! timing`), on a quiet machine: under a CPU shared with parallel builds and tests, the gap
//! has reached 12.5 %.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::techfesia::spawn_configured;

const SAMPLES: usize = 41;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long battery: scripts/battery.sh timing (a timed comparison needs a quiet machine)"]
async fn unknown_users_and_wrong_passwords_take_the_same_time() {
    // The failed-login budget would answer 429 long before the samples are taken.
    let tf = spawn_configured(|c| c.login_max_failures = 100_000).await;
    tf.create_user("timing_known", "Timing Password 1").await;
    let attempt = |username: String| {
        let request = tf
            .app
            .client
            .post(tf.app.url("/auth/token/"))
            .json(&json!({"username": username, "password": "not the password"}));
        async move {
            let started = Instant::now();
            let status = request.send().await.unwrap().status().as_u16();
            (status, started.elapsed())
        }
    };
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for i in 0..SAMPLES + 5 {
        let (a, ta) = attempt(format!("timing_ghost_{i}")).await;
        let (b, tb) = attempt("timing_known".into()).await;
        assert_eq!((a, b), (401, 401));
        // The first few warm the hasher and the connections.
        if i >= 5 {
            unknown.push(ta);
            wrong.push(tb);
        }
    }
    let (u, w) = (median(unknown), median(wrong));
    let gap = u.abs_diff(w).as_secs_f64() / u.max(w).as_secs_f64();
    eprintln!("timing: {SAMPLES} samples each; median unknown user {u:?}, wrong password {w:?}, gap {:.1}%", gap * 100.0);
    assert!(gap < 0.10, "unknown {u:?} vs wrong password {w:?}");
    tf.app.stop().await;
}
