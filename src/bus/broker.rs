//! Connecting to RabbitMQ and declaring humit's topology.
//!
//! - `<exchange>`: durable topic exchange; routing key `<AggregateType>.<EventType>`.
//! - `<exchange>.dead`: fanout exchange for messages a projector cannot even decode,
//!   with its queue `<exchange>.dead`.
//! - `<exchange>.projection.<name>`: one durable queue per projection.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};

use super::{BusError, BusSettings};

/// Opens a connection.
///
/// # Errors
/// [`BusError::Broker`] when RabbitMQ is unreachable.
pub async fn connect(url: &str) -> Result<Connection, BusError> {
    let props = ConnectionProperties::default().with_connection_name("humit".into());
    Ok(Connection::connect(url, props).await?)
}

/// The broker check of `/ready`: one connection kept for it (opened on first use and again
/// only once lost), proved alive on each check by opening and closing a channel on it, so a
/// busy health checker does not open a connection per call.
#[derive(Debug)]
pub struct BrokerProbe {
    url: String,
    connection: tokio::sync::Mutex<Option<Connection>>,
}

impl BrokerProbe {
    /// A probe of the broker at `url` (nothing is opened yet).
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            connection: tokio::sync::Mutex::default(),
        }
    }

    /// Whether the broker answers, within `timeout`.
    pub async fn check(&self, timeout: std::time::Duration) -> bool {
        let mut connection = self.connection.lock().await;
        let alive = async {
            if !connection.as_ref().is_some_and(|c| c.status().connected()) {
                *connection = Some(connect(&self.url).await?);
            }
            let conn = connection.as_ref().expect("just opened");
            let channel = conn.create_channel().await?;
            channel.close(200, "ready check".into()).await?;
            Ok::<_, BusError>(())
        };
        match tokio::time::timeout(timeout, alive).await {
            Ok(Ok(())) => true,
            _ => {
                // Whatever state it is in, the next check starts afresh.
                *connection = None;
                false
            }
        }
    }
}

/// Declares the events exchange (idempotent).
///
/// # Errors
/// Broker errors.
pub async fn declare_exchange(channel: &Channel, exchange: &str) -> Result<(), BusError> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// The queue of a projection.
pub fn projection_queue(exchange: &str, projection: &str) -> String {
    format!("{exchange}.projection.{projection}")
}

/// The dead-letter exchange and queue.
pub fn dead_letter_name(exchange: &str) -> String {
    format!("{exchange}.dead")
}

/// Declares a projection's queue, bound to `bindings`, with the dead-letter exchange.
///
/// # Errors
/// Broker errors.
pub async fn declare_projection_queue(
    channel: &Channel,
    settings: &BusSettings,
    projection: &str,
    bindings: &[&str],
) -> Result<String, BusError> {
    let dead = dead_letter_name(&settings.exchange);
    let mut dead_args = FieldTable::default();
    if let Some(ms) = settings.queue_expires_ms {
        dead_args.insert("x-expires".into(), AMQPValue::LongUInt(ms));
    }
    channel
        .exchange_declare(
            dead.as_str().into(),
            ExchangeKind::Fanout,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(
            dead.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            dead_args,
        )
        .await?;
    channel
        .queue_bind(
            dead.as_str().into(),
            dead.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let queue = projection_queue(&settings.exchange, projection);
    let mut args = FieldTable::default();
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(dead.as_str().into()),
    );
    if settings.quorum_queues {
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
    }
    if let Some(ms) = settings.queue_expires_ms {
        args.insert("x-expires".into(), AMQPValue::LongUInt(ms));
    }
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            args,
        )
        .await?;
    for key in bindings {
        channel
            .queue_bind(
                queue.as_str().into(),
                settings.exchange.as_str().into(),
                (*key).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(queue)
}
