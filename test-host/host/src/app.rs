//! The app layer: the one place where a manifest becomes a running app. The CLI, the spec
//! runner, the benchmarks and the tests all go through [`App::load`] and [`App::serve`] (or
//! [`App::start`]).
//!
//! Loading sets up every capability ([`AppCapabilities::load`]), checks what needs the
//! providers (required variables, `allowed_outbound_hosts` templates), then compiles and links
//! the components of each trigger; nothing is served until [`App::serve`].

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::capabilities::instance::HostLinker;
use crate::capabilities::{AppCapabilities, StateOptions};
use crate::engine::Engine;
use crate::manifest::Manifest;
use crate::triggers::http::{self, HttpTrigger};
use crate::triggers::redis::RedisTrigger;

/// How to load an app.
#[derive(Clone)]
pub struct AppOptions {
    /// The engine to compile and run on; apps in one process can share one.
    pub engine: Arc<Engine>,
    /// Where the app keeps its state, its runtime config and the environment its variables
    /// come from.
    pub state: StateOptions,
}

impl AppOptions {
    /// Options that run on `engine`, with the default state options.
    pub fn new(engine: Arc<Engine>) -> AppOptions {
        AppOptions {
            engine,
            state: StateOptions::default(),
        }
    }
}

/// An app, loaded and checked, with its triggers ready to serve.
pub struct App {
    manifest_path: PathBuf,
    capabilities: Arc<AppCapabilities>,
    http: Option<Arc<HttpTrigger>>,
    redis: Option<Arc<RedisTrigger>>,
    tls: Option<http::tls::TlsConfig>,
}

impl App {
    /// Sets up the capabilities of `manifest`, checks its variables and outbound hosts, and
    /// compiles and links the components of its triggers. An app with no trigger is an error:
    /// there would be nothing to serve.
    pub async fn load(manifest: &Manifest, options: &AppOptions) -> anyhow::Result<App> {
        if manifest.http_triggers.is_empty() && manifest.redis_triggers.is_empty() {
            anyhow::bail!(
                "{}: no [[trigger.http]] or [[trigger.redis]]: nothing to serve",
                manifest.path.display()
            );
        }
        options.engine.fetch_sources(manifest).await?;
        let capabilities = AppCapabilities::load(
            manifest,
            &options.state,
            options.engine.config().request_deadline,
        )?;
        capabilities.check().await?;
        let linker = Arc::new(HostLinker::new(options.engine.clone())?);
        let redis = if manifest.redis_triggers.is_empty() {
            None
        } else {
            Some(RedisTrigger::load(manifest, linker.clone(), &capabilities).await?)
        };
        let http = if manifest.http_triggers.is_empty() {
            None
        } else {
            Some(HttpTrigger::load(manifest, linker, &capabilities)?)
        };
        Ok(App {
            manifest_path: manifest.path.clone(),
            capabilities,
            http,
            redis,
            tls: None,
        })
    }

    /// Serves the HTTP routes over TLS with `tls` (HTTP/2 where the client negotiates it).
    pub fn with_tls(mut self, tls: http::tls::TlsConfig) -> App {
        self.tls = Some(tls);
        self
    }

    /// The app's capabilities: its stores, databases and variables.
    pub fn capabilities(&self) -> &AppCapabilities {
        &self.capabilities
    }

    /// The HTTP trigger, when the manifest has HTTP routes.
    pub fn http(&self) -> Option<&Arc<HttpTrigger>> {
        self.http.as_ref()
    }

    /// Takes the HTTP trigger out, leaving an app that serves only its Redis subscriptions:
    /// `rotor watch` hands each version's trigger to the one server it keeps
    /// ([`http::TriggerSwitch`]).
    pub fn take_http(&mut self) -> Option<Arc<HttpTrigger>> {
        self.http.take()
    }

    /// The TLS settings [`App::with_tls`] gave, if any.
    pub fn tls(&self) -> Option<&http::tls::TlsConfig> {
        self.tls.as_ref()
    }

    /// The Redis trigger, when the manifest has Redis subscriptions.
    pub fn redis(&self) -> Option<&Arc<RedisTrigger>> {
        self.redis.as_ref()
    }

    /// Serves the HTTP routes on `listener` (which an app with routes needs) and the Redis
    /// subscriptions, until `shutdown` completes. The listener may be shared
    /// (`Arc<TcpListener>`).
    pub async fn serve<L>(
        self,
        listener: Option<L>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()>
    where
        L: std::borrow::Borrow<TcpListener> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let redis = self
            .redis
            .map(|redis| tokio::spawn(redis.run(until_stopped(stopped.clone()))));
        let forward = tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let served = match (self.http, listener) {
            (Some(trigger), Some(listener)) => {
                http::serve(trigger, listener, self.tls, until_stopped(stopped.clone())).await
            }
            (Some(_), None) => Err(anyhow::anyhow!(
                "{}: the app has HTTP routes but was given no listener",
                self.manifest_path.display()
            )),
            (None, _) => {
                until_stopped(stopped.clone()).await;
                Ok(())
            }
        };
        forward.abort();
        if let Some(task) = redis {
            // The trigger stops its subscribers itself once told to; aborting it here would
            // leave them running.
            let _ = task.await;
        }
        served
    }

    /// Starts serving in the background, the HTTP routes on `address` (port 0 for any free
    /// port); returns at once with the address bound.
    pub async fn start(self, address: SocketAddr) -> anyhow::Result<Serving> {
        let listener = match &self.http {
            Some(_) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address}"))?,
            ),
            None => None,
        };
        let address = match &listener {
            Some(listener) => Some(listener.local_addr()?),
            None => None,
        };
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(self.serve(listener, async move {
            // A `Serving` dropped without `stop` leaves the app serving for good.
            if stopped.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        }));
        Ok(Serving {
            address,
            stop,
            task,
        })
    }
}

/// An app serving in the background. Dropping it leaves the app serving, as dropping a
/// task's handle leaves the task running; [`Serving::stop`] stops it.
pub struct Serving {
    /// Where the HTTP routes are served; `None` for an app without any.
    pub address: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Serving {
    /// Stops serving and waits until the app has stopped.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("the app's task failed")?
    }
}
