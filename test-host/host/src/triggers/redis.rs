//! The Redis trigger: subscribes to every `[[trigger.redis]]` channel and hands each message
//! to a fresh instance of its component, through `fermyon:spin/inbound-redis`.
//!
//! One subscriber connection per server address carries all of its channels. When the
//! connection drops, the trigger reconnects with a growing pause (0.1 s up to 5 s) and
//! subscribes again; a handler that fails or traps is logged and the next message is handled
//! as usual. At most [`MAX_CONCURRENT_MESSAGES`] messages are handled at once; the rest wait
//! their turn in order of arrival.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use tokio::sync::Semaphore;

use crate::capabilities::instance::{HostLinker, InstanceState};
use crate::capabilities::outbound_http::SelfDepth;
use crate::capabilities::{AppCapabilities, ComponentCapabilities};
use bindings::{RedisTriggerHost as RedisGuest, RedisTriggerHostPre as RedisGuestPre};

/// Bindings of the `fermyon:spin/inbound-redis` export, from `wit/`.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/redis-trigger-host",
        exports: { default: async },
    });
}
use crate::manifest::Manifest;
use crate::secret::redact_url;

/// How many messages may be in handling at once, over all channels.
pub const MAX_CONCURRENT_MESSAGES: usize = 64;

/// The longest pause between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long after a guest's deadline the host gives up waiting for it.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

struct RedisComponent {
    pre: RedisGuestPre<InstanceState>,
    capabilities: Arc<ComponentCapabilities>,
}

/// One channel of one server, and who handles it.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The server, templates filled.
    pub address: String,
    /// The channel, templates filled.
    pub channel: String,
    /// The component's name.
    pub component: String,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("address", &redact_url(&self.address))
            .field("channel", &self.channel)
            .field("component", &self.component)
            .finish()
    }
}

/// An app's Redis side: its subscriptions and their prepared components.
pub struct RedisTrigger {
    linker: Arc<HostLinker>,
    subscriptions: Vec<Subscription>,
    components: BTreeMap<String, Arc<RedisComponent>>,
    in_flight: Arc<Semaphore>,
}

impl RedisTrigger {
    /// Compiles and links every component a Redis trigger names, and fills the triggers'
    /// templates from the app's variables.
    pub async fn load(
        manifest: &Manifest,
        linker: Arc<HostLinker>,
        capabilities: &AppCapabilities,
    ) -> anyhow::Result<Arc<RedisTrigger>> {
        let file = manifest.path.display();
        let mut components = BTreeMap::new();
        let mut subscriptions = Vec::new();
        for trigger in &manifest.redis_triggers {
            let at = |field: &str| format!("{file}:{}: at `trigger.redis.{field}`", trigger.line);
            let address = capabilities
                .fill_template(&trigger.address)
                .await
                .with_context(|| at("address"))?;
            crate::capabilities::redis::destination(&address).map_err(|_| {
                anyhow::anyhow!("{}: {address:?} is not a redis:// URL", at("address"))
            })?;
            let channel = capabilities
                .fill_template(&trigger.channel)
                .await
                .with_context(|| at("channel"))?;
            subscriptions.push(Subscription {
                address,
                channel,
                component: trigger.component.clone(),
            });
            if components.contains_key(&trigger.component) {
                continue;
            }
            let instance_pre = linker.link(manifest, &trigger.component)?;
            let pre = RedisGuestPre::new(instance_pre)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!(
                        "{file}: component `{}` does not export fermyon:spin/inbound-redis",
                        trigger.component
                    )
                })?;
            components.insert(
                trigger.component.clone(),
                Arc::new(RedisComponent {
                    pre,
                    capabilities: super::granted(capabilities, manifest, &trigger.component)?,
                }),
            );
        }
        Ok(Arc::new(RedisTrigger {
            linker,
            subscriptions,
            components,
            in_flight: Arc::new(Semaphore::new(MAX_CONCURRENT_MESSAGES)),
        }))
    }

    /// What the app subscribes to.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// Subscribes and handles messages until `shutdown` completes; then stops taking
    /// messages, lets the handlers already running finish (up to the engine's drain
    /// timeout), and returns.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let mut by_address: BTreeMap<&str, Vec<&Subscription>> = BTreeMap::new();
        for subscription in &self.subscriptions {
            by_address
                .entry(&subscription.address)
                .or_default()
                .push(subscription);
        }
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for (address, subscriptions) in by_address {
            let app = self.clone();
            let address = address.to_owned();
            let subscriptions: Vec<Subscription> = subscriptions.into_iter().cloned().collect();
            tasks.push(tokio::spawn(app.subscribe_forever(
                address,
                subscriptions,
                stopping.clone(),
            )));
        }
        shutdown.await;
        let _ = stop.send(true);
        // A subscriber hands on the message it has taken before it looks at `stop` again.
        for task in tasks {
            let _ = task.await;
        }
        let drain = self.linker.engine().config().drain_timeout;
        let all = MAX_CONCURRENT_MESSAGES as u32;
        if tokio::time::timeout(drain, self.in_flight.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(
                "{} Redis messages still being handled after the {drain:?} drain timeout",
                MAX_CONCURRENT_MESSAGES - self.in_flight.available_permits()
            );
        }
    }

    async fn subscribe_forever(
        self: Arc<Self>,
        address: String,
        subscriptions: Vec<Subscription>,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut backoff = Duration::from_millis(100);
        let mut stopped = stopping.clone();
        loop {
            match self
                .subscribe_once(&address, &subscriptions, stopping.clone())
                .await
            {
                Ok(()) if *stopping.borrow() => return,
                Ok(()) => {
                    tracing::warn!(
                        "the Redis subscription to {} ended; reconnecting",
                        redact_url(&address)
                    );
                    backoff = Duration::from_millis(100);
                }
                Err(error) => {
                    tracing::warn!(
                        "cannot subscribe at {}: {error:#}; retrying in {backoff:?}",
                        redact_url(&address)
                    );
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = async { drop(stopped.wait_for(|stop| *stop).await) } => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Subscribes once and handles messages until the connection ends or `stopping` says
    /// to stop.
    async fn subscribe_once(
        self: &Arc<Self>,
        address: &str,
        subscriptions: &[Subscription],
        mut stopping: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let client = redis::Client::open(address)?;
        let subscribing = async {
            let mut pubsub =
                tokio::time::timeout(Duration::from_secs(10), client.get_async_pubsub())
                    .await
                    .context("no connection within 10 s")??;
            for subscription in subscriptions {
                pubsub.subscribe(&subscription.channel).await?;
                tracing::info!(
                    component = %subscription.component,
                    "subscribed to channel {:?} at {}",
                    subscription.channel,
                    redact_url(address)
                );
            }
            anyhow::Ok(pubsub)
        };
        let mut pubsub = tokio::select! {
            pubsub = subscribing => pubsub?,
            () = async { drop(stopping.wait_for(|stop| *stop).await) } => return Ok(()),
        };
        let mut messages = pubsub.on_message();
        loop {
            let message = tokio::select! {
                message = messages.next() => match message {
                    Some(message) => message,
                    None => return Ok(()),
                },
                () = async { drop(stopping.wait_for(|stop| *stop).await) } => return Ok(()),
            };
            let channel = message.get_channel_name().to_owned();
            let payload = message.get_payload_bytes().to_vec();
            let handlers: Vec<Arc<RedisComponent>> = subscriptions
                .iter()
                .filter(|s| s.channel == channel)
                .filter_map(|s| self.components.get(&s.component).cloned())
                .collect();
            for component in handlers {
                // Taking the permit here, in arrival order, keeps a burst from overrunning
                // the instance pool while never dropping a message.
                let permit = self.in_flight.clone().acquire_owned().await?;
                let app = self.clone();
                let payload = payload.clone();
                let channel = channel.clone();
                tokio::spawn(async move {
                    app.handle(&component, &channel, payload).await;
                    drop(permit);
                });
            }
        }
    }

    /// Hands `payload` to every component subscribed to `channel` (on any server), one
    /// after another, as if it had arrived there; what a unit test calls. The first failure
    /// is the answer; `Ok(0)` when nobody subscribes to `channel`.
    pub async fn deliver(&self, channel: &str, payload: &[u8]) -> anyhow::Result<usize> {
        let mut delivered = 0;
        for subscription in self.subscriptions.iter().filter(|s| s.channel == channel) {
            let component = self
                .components
                .get(&subscription.component)
                .context("every subscription's component is loaded")?;
            self.run_handler(component, payload.to_vec()).await?;
            delivered += 1;
        }
        Ok(delivered)
    }

    /// Runs one message through a fresh instance; failures are logged.
    async fn handle(&self, component: &RedisComponent, channel: &str, payload: Vec<u8>) {
        if let Err(error) = self.run_handler(component, payload).await {
            tracing::error!(
                component = %component.capabilities.name,
                "a message on {channel:?}: {error:?}"
            );
        }
    }

    /// Runs one message through a fresh instance of `component`, within the deadline.
    async fn run_handler(
        &self,
        component: &RedisComponent,
        payload: Vec<u8>,
    ) -> anyhow::Result<()> {
        let mut store = self
            .linker
            .new_store(&component.capabilities, None, SelfDepth(0))
            .await;
        // As for HTTP: the epoch deadline stops a guest that computes, this one a guest that
        // waits in the host; either way its permit comes back.
        let deadline = self.linker.engine().config().request_deadline + DEADLINE_GRACE;
        let outcome = tokio::time::timeout(deadline, async {
            let guest: RedisGuest = component.pre.instantiate_async(&mut store).await?;
            guest
                .fermyon_spin_inbound_redis()
                .call_handle_message(&mut store, &payload)
                .await
        })
        .await;
        match outcome {
            Err(_) => anyhow::bail!("the handler was still running at the {deadline:?} deadline"),
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => anyhow::bail!("the handler reported an error: {error:?}"),
            Ok(Err(trap)) => Err(anyhow::Error::from(trap).context("the handler failed")),
        }
    }
}
