//! An outside subscriber to humit's event stream, as an analytics team would write one.
//!
//! It declares its own durable queue, binds it to the `humit.events` topic exchange with a
//! routing pattern, de-duplicates deliveries by event id (delivery is at least once), and
//! prints a running count per event type, one JSON line per new event:
//!
//! ```sh
//! cargo run --example analytics_subscriber -- --pattern 'Station.#'
//! ```
//!
//! `--max-events N` stops after N distinct events, `--idle-secs S` after S seconds without
//! any message; either way it prints a final summary line.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use clap::Parser;
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicQosOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use serde_json::{json, Value};

#[derive(Debug, Parser)]
struct Args {
    /// RabbitMQ.
    #[arg(
        long,
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
    /// humit's exchange.
    #[arg(long, env = "HUMIT_EXCHANGE", default_value = "humit.events")]
    exchange: String,
    /// This subscriber's own queue (durable: events published while it is away wait there).
    #[arg(long, default_value = "analytics.counts")]
    queue: String,
    /// Routing pattern: `#` for everything, `User.*`, `Hum.HumPosted`, ...
    #[arg(long, default_value = "#")]
    pattern: String,
    /// Stop after this many distinct events.
    #[arg(long)]
    max_events: Option<usize>,
    /// Stop after this many seconds without a message.
    #[arg(long)]
    idle_secs: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let conn = Connection::connect(&args.amqp_url, ConnectionProperties::default()).await?;
    let channel = conn.create_channel().await?;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            args.exchange.as_str().into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(
            args.queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            args.queue.as_str().into(),
            args.exchange.as_str().into(),
            args.pattern.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    channel.basic_qos(100, BasicQosOptions::default()).await?;
    let mut consumer = channel
        .basic_consume(
            args.queue.as_str().into(),
            "analytics".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    eprintln!(
        "subscribed to {} with {:?} on queue {}",
        args.exchange, args.pattern, args.queue
    );

    let mut seen: HashSet<String> = HashSet::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut duplicates = 0u64;
    let mut last_position = 0i64;
    let idle = args.idle_secs.map(Duration::from_secs);
    loop {
        if args.max_events.is_some_and(|max| seen.len() >= max) {
            break;
        }
        let next = match idle {
            Some(idle) => match tokio::time::timeout(idle, consumer.next()).await {
                Ok(next) => next,
                Err(_) => break,
            },
            None => consumer.next().await,
        };
        let Some(delivery) = next else { break };
        let delivery = delivery?;
        let event: Value = serde_json::from_slice(&delivery.data)?;
        let id = event["event_id"].as_str().unwrap_or_default().to_string();
        if seen.insert(id) {
            let kind = format!(
                "{}.{}",
                event["aggregate_type"].as_str().unwrap_or("?"),
                event["event_type"].as_str().unwrap_or("?")
            );
            *counts.entry(kind.clone()).or_default() += 1;
            last_position = event["position"].as_i64().unwrap_or(last_position);
            println!(
                "{}",
                json!({"position": last_position, "event": kind, "distinct": seen.len(), "counts": counts})
            );
        } else {
            duplicates += 1;
        }
        delivery.ack(BasicAckOptions::default()).await?;
    }
    println!(
        "{}",
        json!({"summary": {"distinct": seen.len(), "duplicates": duplicates, "last_position": last_position, "counts": counts}})
    );
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}
