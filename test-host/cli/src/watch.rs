//! `rotor watch`: builds and serves an app, then on every saved change rebuilds what changed
//! and serves the new version on the same socket, as `spin watch` does. A build or load that
//! fails is printed, and the last good version keeps serving.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use rotor_host::build::watch::{Changes, FileWatcher, WatchPlan};
use rotor_host::manifest::Manifest;
use rotor_host::triggers::http::TriggerSwitch;
use rotor_host::App;
use tokio::net::TcpListener;

use crate::say;
use crate::up::{stop_signal, UpArgs, UpPlan};

/// `rotor watch`'s arguments: `rotor up`'s, and how to watch.
#[derive(Args)]
pub struct WatchArgs {
    #[command(flatten)]
    up: UpArgs,
    /// Build nothing: restart when the manifest or a component's `.wasm` changes.
    #[arg(long)]
    skip_build: bool,
    /// Milliseconds without a further change before a rebuild starts, so that a burst of
    /// saves makes one rebuild.
    #[arg(short = 'd', long, default_value_t = 100)]
    debounce: u64,
    /// Clear the terminal before each rebuild.
    #[arg(short = 'c', long)]
    clear: bool,
}

/// What a running server is told to stop by.
type Stopped = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server in the background: the HTTP server, or a version's Redis subscriptions.
struct Running {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Spawns `serve`, which serves until the future it is given completes.
    fn spawn<F>(serve: impl FnOnce(Stopped) -> F) -> Running
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let stopped = Box::pin(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        });
        Running {
            stop,
            task: tokio::spawn(serve(stopped)),
        }
    }

    /// Tells it to stop; it finishes its requests in flight in the background.
    fn retire(self) {
        let _ = self.stop.send(true);
        tokio::spawn(async move {
            if let Ok(Err(error)) = self.task.await {
                eprintln!("Error: the previous version: {error:#}");
            }
        });
    }
}

/// The one HTTP server of a watch. It outlives the versions of the app: each new version
/// takes over its [`TriggerSwitch`], so no connection is closed while one version replaces
/// another.
struct HttpServer {
    switch: Arc<TriggerSwitch>,
    running: Running,
}

/// `rotor watch`: serves until Ctrl-C or SIGTERM.
pub async fn watch(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let plan = UpPlan::new(args.up)?;
    let quiet = Duration::from_millis(args.debounce);
    let mut manifest = plan.manifest()?;
    let mut watch_plan = WatchPlan::new(&manifest);
    let mut roots = watch_plan.roots();
    // Watching starts before the first build, so that a save during it is not missed.
    let mut watcher = FileWatcher::start(&watch_plan)?;
    let mut listener: Option<Arc<TcpListener>> = None;
    let mut http_server: Option<HttpServer> = None;
    // The current version's Redis subscriptions (or, without any, only its stop signal).
    let mut running: Option<Running> = None;
    let mut seeded = false;
    let mut changes = Changes {
        manifest: false,
        rebuild: manifest.components.keys().cloned().collect(),
        restart: true,
    };
    loop {
        if changes.any() {
            if args.clear {
                print!("\x1b[2J\x1b[H");
            }
            match next_version(&plan, &mut manifest, &changes, args.skip_build).await {
                Ok(mut app) => {
                    if !seeded {
                        // `--sqlite` and `--key-value` seed the stores once, as they would
                        // for one `rotor up`.
                        plan.seed(&app).await?;
                        seeded = true;
                    }
                    if app.http().is_some() && listener.is_none() {
                        listener = Some(Arc::new(plan.listener().await?));
                    }
                    let address = match &listener {
                        Some(listener) => Some(listener.local_addr()?),
                        None => None,
                    };
                    let restarted = running.is_some();
                    plan.announce(&manifest, &app, address);
                    let tls = app.tls().cloned();
                    match (app.take_http(), &listener) {
                        (Some(trigger), Some(listener)) => match &http_server {
                            Some(server) => server.switch.replace(trigger),
                            None => {
                                let switch = Arc::new(TriggerSwitch::new(trigger));
                                let (serving, listener) = (switch.clone(), listener.clone());
                                let running = Running::spawn(move |stopped| async move {
                                    serving.serve(listener, tls, stopped).await
                                });
                                http_server = Some(HttpServer { switch, running });
                            }
                        },
                        // A version without routes: the server stops until one has them.
                        _ => {
                            if let Some(server) = http_server.take() {
                                server.running.retire();
                            }
                        }
                    }
                    if let Some(previous) = running.take() {
                        previous.retire();
                    }
                    // What is left of the app to serve: its Redis subscriptions, if any.
                    running = Some(Running::spawn(move |stopped| {
                        app.serve(None::<TcpListener>, stopped)
                    }));
                    if restarted {
                        say("Serving the new version.");
                    }
                }
                Err(error) => {
                    eprintln!("Error: {error:#}");
                    say(if running.is_some() {
                        "Still serving the last version that built and loaded; waiting for a change."
                    } else {
                        "Nothing to serve yet; waiting for a change."
                    });
                }
            }
            // The manifest may name other files now, and builds make the directories
            // their artifacts go to.
            watch_plan = WatchPlan::new(&manifest);
            let new_roots = watch_plan.roots();
            if new_roots != roots {
                watcher = FileWatcher::start(&watch_plan)?;
                roots = new_roots;
            }
            // The build rewrote the artifacts the new version has just loaded; a source
            // saved meanwhile still counts.
            let mut meanwhile = watch_plan.classify(&watcher.settle(quiet).await, args.skip_build);
            meanwhile.restart = false;
            if meanwhile.any() {
                changes = meanwhile;
                continue;
            }
        }
        tokio::select! {
            batch = watcher.next_batch(quiet) => {
                changes = watch_plan.classify(&batch, args.skip_build);
            }
            () = stop_signal() => break,
        }
    }
    let servers: Vec<Running> = (http_server.map(|server| server.running).into_iter())
        .chain(running)
        .collect();
    if !servers.is_empty() {
        say("Shutting down: finishing the requests in flight.");
        for server in &servers {
            let _ = server.stop.send(true);
        }
        for server in servers {
            server.task.await??;
        }
    }
    say("Stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Reads the manifest again if it changed, rebuilds what `changes` names, and loads the
/// app. On an error the manifest stays the last one that loaded.
async fn next_version(
    plan: &UpPlan,
    manifest: &mut Manifest,
    changes: &Changes,
    skip_build: bool,
) -> anyhow::Result<App> {
    if changes.manifest {
        *manifest = plan.manifest()?;
    }
    if !skip_build && (changes.manifest || !changes.rebuild.is_empty()) {
        let rebuild_all = changes.manifest;
        // A build is a child process that takes a while: the other worker threads go on
        // serving the running version meanwhile.
        tokio::task::block_in_place(|| {
            rotor_host::build::build_some(manifest, |name| {
                rebuild_all || changes.rebuild.contains(name)
            })
        })?;
    }
    plan.app(manifest).await
}
