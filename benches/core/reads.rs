//! The login, read and refresh rows (against the default child).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::api::{self, Account};
use super::child::{self, Env, Humit};
use super::load::{closed_loop, Run};
use super::table::{alone, vs, Row};
use super::{baseline, BASE_MEASURE, MEASURE, READERS, WARMUP};

/// `conns` connections sending the request `request(client, base, worker)` back to back;
/// success is a 2xx answer.
async fn http_loop<F>(h: &Humit, conns: usize, request: F) -> Run
where
    F: Fn(&reqwest::Client, &str, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let http = api::client(conns);
    let base = h.base.clone();
    closed_loop(conns, WARMUP, MEASURE, move |w, _| {
        let request = request(&http, &base, w);
        api::ok(request)
    })
    .await
}

/// [`http_loop`], with a note of humit's CPU time per request.
async fn http_loop_cpu<F>(h: &Humit, what: &str, request: F, notes: &mut Vec<String>) -> Run
where
    F: Fn(&reqwest::Client, &str, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let (cpu0, started) = (h.cpu(), std::time::Instant::now());
    let run = http_loop(h, READERS, request).await;
    let busy = (h.cpu() - cpu0).as_secs_f64() / started.elapsed().as_secs_f64();
    notes.push(format!(
        "{what}: the humit process used {:.0}% of a core, {:.2} ms of CPU per request.",
        busy * 100.0,
        busy / run.rate().max(1e-9) * 1000.0
    ));
    run
}

fn login(http: &reqwest::Client, base: &str, username: &str) -> reqwest::RequestBuilder {
    let body = serde_json::json!({"username": username, "password": api::PASSWORD});
    http.post(format!("{base}/auth/token/")).json(&body)
}

/// Logins to distinct accounts against the argon2id bound, and 64 logins to one account.
pub async fn logins(
    h: &Humit,
    accounts: &Arc<Vec<Account>>,
    one: &Account,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    let accs = accounts.clone();
    let run = http_loop_cpu(
        h,
        "logins",
        move |http, base, w| login(http, base, &accs[w].username),
        notes,
    )
    .await;
    let cores = child::cores();
    let argon = baseline::argon2_verifies(cores, BASE_MEASURE).await;
    rows.push(vs(
        format!("logins `POST /auth/token/`, {READERS} conns, distinct accounts"),
        &run,
        (format!("argon2id verify, {cores} threads"), argon),
        Some(0.9),
    ));

    let http = api::client(64);
    let burst = futures::future::join_all((0..64).map(|_| {
        let request = login(&http, &h.base, &one.username);
        async move { request.send().await.ok().map(|r| r.status().as_u16()) }
    }))
    .await;
    let mut refused = BTreeMap::new();
    for status in burst.iter().filter(|s| !s.is_some_and(|s| s < 300)) {
        let key = status.map_or("no answer".to_string(), |s| s.to_string());
        *refused.entry(key).or_insert(0usize) += 1;
    }
    let n: usize = refused.values().sum();
    let detail: Vec<String> = refused.iter().map(|(s, n)| format!("{n}× {s}")).collect();
    rows.push(alone(
        "64 concurrent logins to one account: non-2xx",
        if n == 0 {
            "0".into()
        } else {
            format!("{n} ({})", detail.join(", "))
        },
        "0",
        Some(n == 0),
    ));
    Ok(())
}

/// The row of `run` against the same SELECTs over sqlx (humit's people discover when
/// `discover`) for `ids`, both on [`READERS`] connections; `what` names the two sides.
async fn against_selects(
    url: &str,
    what: (&str, &str),
    run: &Run,
    ids: Vec<String>,
    discover: bool,
) -> anyhow::Result<Row> {
    let base = baseline::selects(url, READERS, WARMUP, BASE_MEASURE, ids, discover).await?;
    Ok(vs(
        format!("{}, {READERS} conns", what.0),
        run,
        (
            format!("{} over sqlx, {READERS} conns", what.1),
            base.rate(),
        ),
        Some(0.5),
    ))
}

/// `GET /users/<u>`, humit people discover and token refresh, against their baselines.
pub async fn reads(
    h: &Humit,
    env: &Env,
    accounts: &Arc<Vec<Account>>,
    people: &Arc<Vec<(String, String)>>,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    let accs = accounts.clone();
    let get = move |http: &reqwest::Client, base: &str, w: usize| {
        let account = &accs[w];
        http.get(format!("{base}/users/{}", account.username))
            .bearer_auth(&account.access)
    };
    let gets = http_loop_cpu(h, "GET /users/<u>", get, notes).await;
    let ids = accounts[..READERS].iter().map(|a| a.user_id.clone());
    let url = &env.database_url;
    let sides = ("`GET /users/<u>`", "its SELECT");
    rows.push(against_selects(url, sides, &gets, ids.collect(), false).await?);

    let ppl = people.clone();
    let get = move |http: &reqwest::Client, base: &str, w: usize| {
        http.get(format!("{base}/api/users/discover/"))
            .header("Authorization", format!("humit {}", ppl[w].1))
    };
    let discover = http_loop_cpu(h, "discover", get, notes).await;
    let viewers = people.iter().map(|p| p.0.clone()).collect();
    let sides = ("humit `GET /api/users/discover/`", "its 2 SELECTs");
    rows.push(against_selects(url, sides, &discover, viewers, true).await?);

    let accs = accounts.clone();
    let post = move |http: &reqwest::Client, base: &str, w: usize| {
        http.post(format!("{base}/auth/token/refresh/"))
            .json(&serde_json::json!({"refresh": accs[w].refresh}))
    };
    let refreshes = http_loop_cpu(h, "token refresh", post, notes).await;
    let cores = child::cores();
    let jwt = baseline::jwt_refreshes(&env.jwt_secret, cores, BASE_MEASURE).await;
    let mut row = vs(
        format!("`POST /auth/token/refresh/`, {READERS} conns"),
        &refreshes,
        (
            format!("JWT verify + sign in-process, {cores} threads"),
            jwt,
        ),
        None,
    );
    row.target = "— (none set)".into();
    rows.push(row);
    Ok(())
}
