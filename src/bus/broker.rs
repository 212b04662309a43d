//! Connecting to RabbitMQ and declaring humit's topology.
//!
//! - `<exchange>`: durable topic exchange; routing key `<AggregateType>.<EventType>`.
//! - `<exchange>.dead`: fanout exchange for messages a projector cannot even decode,
//!   with its queue `<exchange>.dead`. What lands there is a stub naming the message (its
//!   position, aggregate, message id, the projection and why), never its body: the event
//!   itself stays in the log, sealed, so nothing on this queue outlives a person's erasure.
//! - `<exchange>.projection.<name>`: one durable queue per projection.

use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

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
    durable_exchange(channel, exchange, ExchangeKind::Topic).await
}

/// Declares the durable exchange `name` of `kind`.
async fn durable_exchange(
    channel: &Channel,
    name: &str,
    kind: ExchangeKind,
) -> Result<(), BusError> {
    let options = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let args = FieldTable::default();
    channel
        .exchange_declare(name.into(), kind, options, args)
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

/// The headers of an event message a dead-letter stub keeps: ids and positions only.
const STUB_HEADERS: [&str; 4] = [
    "position",
    "aggregate_type",
    "aggregate_id",
    "event_version",
];

/// Dead-letters `delivery` without its body: publishes a stub to the dead-letter exchange
/// with the message's ids and position (the event can be read again from the log), the
/// projection and `reason`, then acknowledges the original. A crash between the two leaves
/// the original to be delivered again and stubbed again; a second stub is harmless.
///
/// # Errors
/// Broker errors.
pub async fn dead_letter_stub(
    channel: &Channel,
    exchange: &str,
    projection: &str,
    delivery: &Delivery,
    reason: &str,
) -> Result<(), BusError> {
    let mut headers = FieldTable::default();
    if let Some(original) = delivery.properties.headers() {
        for key in STUB_HEADERS {
            if let Some(value) = original.inner().get(key) {
                headers.insert(key.into(), value.clone());
            }
        }
    }
    headers.insert(
        "x-humit-projection".into(),
        AMQPValue::LongString(projection.into()),
    );
    headers.insert(
        "x-humit-reason".into(),
        AMQPValue::LongString(reason.into()),
    );
    let mut properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_app_id("humit".into())
        .with_headers(headers);
    if let Some(id) = delivery.properties.message_id() {
        properties = properties.with_message_id(ShortString::from(id.as_str()));
    }
    channel
        .basic_publish(
            dead_letter_name(exchange).as_str().into(),
            "".into(),
            BasicPublishOptions::default(),
            &[],
            properties,
        )
        .await?;
    delivery.ack(BasicAckOptions::default()).await?;
    Ok(())
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
    durable_exchange(channel, &dead, ExchangeKind::Fanout).await?;
    durable_queue(channel, &dead, dead_args, &dead, &[""]).await?;

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
    durable_queue(channel, &queue, args, &settings.exchange, bindings).await?;
    Ok(queue)
}

/// Declares the durable queue `name` with `args` and binds it to `exchange` with each key.
async fn durable_queue(
    channel: &Channel,
    name: &str,
    args: FieldTable,
    exchange: &str,
    keys: &[&str],
) -> Result<(), BusError> {
    let options = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel.queue_declare(name.into(), options, args).await?;
    for key in keys {
        channel
            .queue_bind(
                name.into(),
                exchange.into(),
                (*key).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}
