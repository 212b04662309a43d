//! Baselines, measured by the bench itself in the same run: raw Postgres statements over
//! sqlx, argon2id verification and JWT work in-process, LISTEN/NOTIFY delivery, and
//! confirmed RabbitMQ publishing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, ExchangeKind};
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;

use super::load::{closed_loop, pct, threads_loop, Run};

/// A pool of exactly `conns` open connections.
pub async fn pool(url: &str, conns: usize) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(conns as u32)
        .min_connections(conns as u32)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await?;
    // Open them all before measuring.
    let mut held = Vec::new();
    for _ in 0..conns {
        held.push(pool.acquire().await?);
    }
    drop(held);
    Ok(pool)
}

/// The scratch table of the raw-insert baseline: the columns, defaults, keys and indexes of
/// `events`, without its triggers; `position` from its own sequence.
pub async fn scratch_table(pool: &PgPool) -> anyhow::Result<()> {
    for sql in [
        "CREATE TABLE bench_events (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)",
        "CREATE SEQUENCE bench_events_seq AS bigint",
        "ALTER TABLE bench_events ALTER COLUMN position SET DEFAULT nextval('bench_events_seq')",
    ] {
        sqlx::query(sql).execute(pool).await?;
    }
    Ok(())
}

/// One-row INSERT transactions into `bench_events` over `conns` connections, each row with
/// `payload` and `metadata` (copied from a real command's event).
pub async fn raw_inserts(
    url: &str,
    conns: usize,
    warmup: Duration,
    measure: Duration,
    payload: &serde_json::Value,
    metadata: &serde_json::Value,
) -> anyhow::Result<Run> {
    let pool = pool(url, conns).await?;
    let (payload, metadata) = (Arc::new(payload.clone()), Arc::new(metadata.clone()));
    let p = pool.clone();
    let run = closed_loop(conns, warmup, measure, move |worker, i| {
        let (pool, payload, metadata) = (p.clone(), payload.clone(), metadata.clone());
        async move {
            let result: Result<(), sqlx::Error> = async {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "INSERT INTO bench_events
                        (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                     VALUES ('BenchRaw', $1, $2, 'BenchRawInsert', '1.0', $3, $4)",
                )
                .bind(format!("c{conns}-w{worker}"))
                .bind(i as i64 + 1)
                .bind(&*payload)
                .bind(&*metadata)
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            }
            .await;
            result.is_ok()
        }
    })
    .await;
    pool.close().await;
    Ok(run)
}

/// The read-model statement behind `GET /users/<username>` (`projections/src/users/read.rs`,
/// `by_id`), each worker on its own user.
pub const USER_BY_ID: &str =
    "SELECT user_id, username, email, first_name, last_name, phone_number, \
    college_name, profile_picture, date_joined, last_login, role, privileges, disabled, \
    has_password, providers FROM rm_users WHERE user_id = $1";

/// The read statements a request runs, over `conns` connections; worker `w` reads as
/// `ids[w % len]`.
pub async fn selects(
    url: &str,
    conns: usize,
    warmup: Duration,
    measure: Duration,
    ids: Vec<String>,
    discover: bool,
) -> anyhow::Result<Run> {
    let pool = pool(url, conns).await?;
    let ids = Arc::new(ids);
    let (count_sql, page_sql) = projections::social::read::discover_users_sql();
    let (count_sql, page_sql): (Arc<str>, Arc<str>) = (count_sql.into(), page_sql.into());
    let p = pool.clone();
    let run = closed_loop(conns, warmup, measure, move |worker, _| {
        let (pool, ids) = (p.clone(), ids.clone());
        let (count_sql, page_sql) = (count_sql.clone(), page_sql.clone());
        async move {
            let id = &ids[worker % ids.len()];
            if !discover {
                return sqlx::query(USER_BY_ID)
                    .bind(id)
                    .fetch_optional(&pool)
                    .await
                    .is_ok_and(|r| r.is_some());
            }
            let count = sqlx::query_scalar::<_, i64>(&count_sql)
                .bind(id)
                .fetch_one(&pool)
                .await;
            let page = sqlx::query(&page_sql)
                .bind(id)
                .bind(20i64)
                .bind(0i64)
                .fetch_all(&pool)
                .await;
            count.is_ok() && page.is_ok()
        }
    })
    .await;
    pool.close().await;
    Ok(run)
}

/// argon2id verifications per second with the parameters of `src/auth/passwords.rs`
/// (19 MiB, t=2, p=1), on `threads` threads.
pub async fn argon2_verifies(threads: usize, measure: Duration) -> f64 {
    use argon2::password_hash::rand_core::OsRng;
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    fn argon2() -> Argon2<'static> {
        let params = Params::new(19 * 1024, 2, 1, None).expect("argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2()
        .hash_password(super::api::PASSWORD.as_bytes(), &salt)
        .expect("hash")
        .to_string();
    threads_loop(threads, Duration::from_millis(200), measure, move || {
        let parsed = PasswordHash::new(&hash).expect("hash parses");
        let ok = argon2()
            .verify_password(super::api::PASSWORD.as_bytes(), &parsed)
            .is_ok();
        assert!(ok, "argon2 verify");
    })
    .await
}

/// A refresh's token work in-process with humit's own `Tokens` (verify the refresh token,
/// sign an access token), on `threads` threads.
pub async fn jwt_refreshes(secret: &str, threads: usize, measure: Duration) -> f64 {
    use humit::auth::{jwt, TokenKind, Tokens};
    let tokens = Tokens::new(secret.as_bytes(), "humit", 900, 3600, 30 * 24 * 3600);
    let pair = tokens.pair("bench-user", jwt::TECHFESIA);
    threads_loop(threads, Duration::from_millis(200), measure, move || {
        let claims = tokens
            .verify(&pair.refresh, TokenKind::Refresh, jwt::TECHFESIA)
            .expect("valid refresh token");
        std::hint::black_box(tokens.access_within(
            &claims.sub,
            &claims.sid,
            jwt::TECHFESIA,
            claims.exp,
        ));
    })
    .await
}

/// Commit-to-listener latency of Postgres itself: a one-row insert transaction that also
/// sends `NOTIFY`, timed until the bench's `LISTEN` connection receives it; (p50, p99).
pub async fn notify_latency(url: &str, samples: usize) -> anyhow::Result<(Duration, Duration)> {
    let pool = pool(url, 2).await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen("bench_notify").await?;
    let mut lat = Vec::with_capacity(samples);
    for i in 0..samples {
        let sent = Instant::now();
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO bench_events
                (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('BenchNotify', 'n', $1, 'BenchNotify', '1.0', '{}', '{}')",
        )
        .bind(i as i64 + 1)
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify('bench_notify', $1)")
            .bind(i.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tokio::time::timeout(Duration::from_secs(5), listener.recv()).await??;
        lat.push(sent.elapsed());
    }
    drop(listener);
    pool.close().await;
    Ok((pct(&mut lat, 0.5), pct(&mut lat, 0.99)))
}

/// Publishes `n` persistent messages of `body` to a fresh topic exchange with two durable
/// queues bound to `#` (the shape of humit's two projection queues), `mandatory`, with
/// publisher confirms and up to `window` unconfirmed; answers messages per second. Deletes
/// what it declared.
pub async fn publish(
    amqp_url: &str,
    exchange: &str,
    n: usize,
    window: usize,
    body: &[u8],
) -> anyhow::Result<f64> {
    let conn = lapin::Connection::connect(amqp_url, lapin::ConnectionProperties::default()).await?;
    let channel = conn.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    let queues = [format!("{exchange}.q1"), format!("{exchange}.q2")];
    for queue in &queues {
        let mut args = FieldTable::default();
        args.insert("x-expires".into(), AMQPValue::LongUInt(300_000));
        let options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .queue_declare(queue.as_str().into(), options, args)
            .await?;
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    let started = Instant::now();
    let mut pending = VecDeque::with_capacity(window);
    for i in 0..n {
        let mut headers = FieldTable::default();
        headers.insert("position".into(), AMQPValue::LongLongInt(i as i64));
        let properties = BasicProperties::default()
            .with_message_id(uuid::Uuid::new_v4().to_string().into())
            .with_type("NoiseRecorded".into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_headers(headers);
        let confirm = channel
            .basic_publish(
                exchange.into(),
                "BenchNoise.NoiseRecorded".into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                properties,
            )
            .await?;
        pending.push_back(confirm);
        if pending.len() >= window {
            let confirmation = pending.pop_front().expect("pending").await?;
            anyhow::ensure!(confirmation.is_ack(), "broker nacked");
        }
    }
    for confirm in pending {
        anyhow::ensure!(confirm.await?.is_ack(), "broker nacked");
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    for queue in &queues {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await?;
    }
    channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await?;
    let _ = conn.close(200, "bench done".into()).await;
    Ok(rate)
}
