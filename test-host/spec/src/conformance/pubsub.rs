//! The `redis` and `mqtt` preconditions: run-specific channels and topics, and what was
//! published on them.

use std::collections::BTreeMap;
use std::sync::Arc;

use rotor_host::manifest::Manifest;

use super::spec::ExpectPublished;
use crate::fixtures::{self};

/// Every message heard on the isolated channels: (channel, payload), in order of arrival.
type Heard = Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// The run-specific channels of the `redis` precondition, and what was published on them.
pub struct RedisChannels {
    client: redis::Client,
    names: BTreeMap<String, String>,
    pub(super) heard: Heard,
    listener: tokio::task::JoinHandle<()>,
}

impl RedisChannels {
    const ADDRESS: &'static str = "redis://127.0.0.1:6379";

    /// Gives each of `channels` a run-specific name and starts listening on them.
    pub async fn start(channels: &[String]) -> anyhow::Result<RedisChannels> {
        if std::net::TcpStream::connect("127.0.0.1:6379").is_err() {
            anyhow::bail!("this spec needs Redis at 127.0.0.1:6379, and nothing answers there");
        }
        let run = fixtures::run_id();
        let names: BTreeMap<String, String> = channels
            .iter()
            .map(|c| (c.clone(), format!("{c}-run-{run}")))
            .collect();
        let client = redis::Client::open(Self::ADDRESS)?;
        let mut pubsub = client.get_async_pubsub().await?;
        for name in names.values() {
            pubsub.subscribe(name).await?;
        }
        let heard: Heard = Arc::default();
        let sink = heard.clone();
        let listener = tokio::spawn(async move {
            use futures_util::StreamExt as _;
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push((
                    message.get_channel_name().to_owned(),
                    message.get_payload_bytes().to_vec(),
                ));
            }
        });
        Ok(RedisChannels {
            client,
            names,
            heard,
            listener,
        })
    }

    /// The run-specific name of `channel`, or `channel` itself when it is not isolated.
    pub fn name(&self, channel: &str) -> String {
        self.names
            .get(channel)
            .cloned()
            .unwrap_or_else(|| channel.to_owned())
    }

    /// Waits until the app's Redis trigger has subscribed to each of its channels, so that
    /// no published message falls into the gap before it listens.
    pub async fn wait_for_subscribers(&self, manifest: &Manifest) -> anyhow::Result<()> {
        let mut connection = self.client.get_multiplexed_async_connection().await?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        for trigger in &manifest.redis_triggers {
            // Our own listener is subscribed to the isolated channels too.
            let others = if self.names.values().any(|n| *n == trigger.channel) {
                2
            } else {
                1
            };
            loop {
                let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(&trigger.channel)
                    .query_async(&mut connection)
                    .await?;
                if counts.first().is_some_and(|(_, n)| *n >= others) {
                    break;
                }
                if std::time::Instant::now() >= deadline {
                    anyhow::bail!(
                        "the Redis trigger did not subscribe to {:?} within 10 s",
                        trigger.channel
                    );
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    pub(super) async fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<(), String> {
        let mut connection = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| format!("connecting to Redis: {e}"))?;
        redis::cmd("PUBLISH")
            .arg(self.name(channel))
            .arg(payload)
            .query_async::<i64>(&mut connection)
            .await
            .map(drop)
            .map_err(|e| format!("publishing: {e}"))
    }
}

impl Drop for RedisChannels {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Waits for a message matching `step` among those `heard` on `name` (shown as `shown`).
pub(super) async fn expect_heard(
    heard: &Heard,
    name: &str,
    shown: &str,
    step: &ExpectPublished,
) -> Result<(), String> {
    let wait = std::time::Duration::from_millis(step.within_ms.unwrap_or(3000));
    let deadline = std::time::Instant::now() + wait;
    loop {
        let messages: Vec<Vec<u8>> = heard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(on, _)| on == name)
            .map(|(_, payload)| payload.clone())
            .collect();
        let found = messages.iter().any(|payload| {
            let json_ok = step.json.as_ref().is_none_or(|json| {
                serde_json::from_slice::<serde_json::Value>(payload).is_ok_and(|p| p == *json)
            });
            let body_ok = step
                .body
                .as_ref()
                .is_none_or(|body| payload.as_slice() == body.as_bytes());
            json_ok && body_ok
        });
        if found {
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            let messages: Vec<String> = messages
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            return Err(format!(
                "\n  no matching message on {shown} within {wait:?}; heard {messages:?}"
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The run-specific topics of the `mqtt` precondition, and what was published on them.
pub struct MqttTopics {
    names: BTreeMap<String, String>,
    pub(super) heard: Heard,
    listener: tokio::task::JoinHandle<()>,
}

impl MqttTopics {
    /// Gives each of `topics` a run-specific name and subscribes to them on the local broker,
    /// returning once the broker has confirmed every subscription.
    pub async fn start(topics: &[String]) -> anyhow::Result<MqttTopics> {
        use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
        if std::net::TcpStream::connect("127.0.0.1:1883").is_err() {
            anyhow::bail!(
                "this spec needs an MQTT broker at 127.0.0.1:1883, and nothing answers there"
            );
        }
        let run = fixtures::run_id();
        let names: BTreeMap<String, String> = topics
            .iter()
            .map(|t| (t.clone(), format!("{t}-run-{run}")))
            .collect();
        let options = MqttOptions::new(format!("rotor-test-{run}"), "127.0.0.1", 1883);
        let (client, mut events) = AsyncClient::new(options, 16);
        for name in names.values() {
            client.subscribe(name, QoS::ExactlyOnce).await?;
        }
        let mut confirmed = 0;
        let subscribing = async {
            while confirmed < names.len() {
                if let Event::Incoming(Packet::SubAck(_)) = events.poll().await? {
                    confirmed += 1;
                }
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), subscribing)
            .await
            .map_err(|_| anyhow::anyhow!("the MQTT broker did not confirm the subscriptions"))??;
        let heard: Heard = Arc::default();
        let sink = heard.clone();
        let listener = tokio::spawn(async move {
            // The client must live as long as the event loop it feeds.
            let _client = client;
            while let Ok(event) = events.poll().await {
                if let Event::Incoming(Packet::Publish(message)) = event {
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((message.topic.clone(), message.payload.to_vec()));
                }
            }
        });
        Ok(MqttTopics {
            names,
            heard,
            listener,
        })
    }

    /// The run-specific name of `topic`, or `topic` itself when it is not isolated.
    pub fn name(&self, topic: &str) -> String {
        self.names
            .get(topic)
            .cloned()
            .unwrap_or_else(|| topic.to_owned())
    }
}

impl Drop for MqttTopics {
    fn drop(&mut self) {
        self.listener.abort();
    }
}
