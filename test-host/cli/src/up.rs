//! `rotor up`: serve an app as `spin up` does, with its flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use rotor_host::capabilities::StateOptions;
use rotor_host::engine::guest_output::OutputOptions;
use rotor_host::manifest::{self, Manifest};
use rotor_host::secret::redact_url;
use rotor_host::triggers::http::tls::TlsConfig;
use rotor_host::{App, AppOptions};
use tokio::net::TcpListener;

use crate::{say, RuntimeArgs};

#[derive(Args)]
#[command(after_help = SPIN_FLAGS_NOT_TAKEN)]
pub struct UpArgs {
    /// The app: a directory holding spin.toml, or the manifest itself.
    #[arg(value_name = "APP")]
    app: Option<PathBuf>,
    /// The app, as Spin's `spin up -f` takes it (a directory or a manifest).
    #[arg(
        short = 'f',
        long = "from",
        visible_alias = "from-file",
        value_name = "APP",
        conflicts_with = "app"
    )]
    from: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// When the --listen port is taken, try the next ones (up to 10), as Spin does.
    #[arg(long)]
    find_free_port: bool,
    /// Run the components' build commands first.
    #[arg(long)]
    build: bool,
    /// Spin's runtime config: where key-value stores and SQLite databases live.
    #[arg(long, env = "SPIN_RUNTIME_CONFIG_FILE")]
    runtime_config_file: Option<PathBuf>,
    /// Where the default key-value store and SQLite database are kept (default: APP/.spin).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// A value for an application variable, before every provider: NAME=VALUE, or @FILE
    /// (a JSON or TOML table of names and values). May be given more than once.
    #[arg(long = "variable", value_name = "NAME=VALUE | @FILE")]
    variables: Vec<String>,
    /// An environment variable for every component, over the manifest's `environment`.
    /// May be given more than once.
    #[arg(short = 'e', long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// A key and value written to the default key-value store before serving (an existing
    /// value is overwritten). May be given more than once.
    #[arg(long = "key-value", value_name = "KEY=VALUE")]
    key_values: Vec<String>,
    /// SQL to run before serving: against the default database, or `@FILE` read from a file,
    /// or `@FILE:DATABASE` against the database of that label. May be given more than once;
    /// runs in order.
    #[arg(long = "sqlite", value_name = "SQL | @FILE[:DATABASE]")]
    sqlite_statements: Vec<String>,
    /// Also append each component's stdout and stderr to DIR/COMPONENT_stdout.txt and
    /// DIR/COMPONENT_stderr.txt, as Spin lays them out.
    #[arg(short = 'L', long, env = "SPIN_LOG_DIR", value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// Empty the log files at start instead of appending to them.
    #[arg(long, requires = "log_dir")]
    truncate_logs: bool,
    /// Keep components' output off the terminal (the log files still get it).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Serve HTTPS with this PEM certificate chain (the server's certificate first); HTTP/2
    /// to clients that negotiate it.
    #[arg(long, env = "SPIN_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "SPIN_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// What `rotor up --help` says of the flags of `spin up` it does not take.
const SPIN_FLAGS_NOT_TAKEN: &str = "\
Flags of `spin up` not taken here:
  --from-registry, -k/--insecure  apps come from a directory; there is no OCI registry client
  --temp                          the app runs from its own directory, not a copy
  --follow                        every component's output goes to the terminal (or none, with --quiet)";

/// `NAME=VALUE` arguments of `flag` as pairs.
fn name_value_pairs(flag: &str, arguments: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    arguments
        .iter()
        .map(|argument| match argument.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.to_owned()))
            }
            _ => anyhow::bail!("{flag} {argument:?}: expected NAME=VALUE"),
        })
        .collect()
}

/// Binds `address`, or with `find_free_port` the first free port of the ten from it.
async fn listen_on(
    address: SocketAddr,
    find_free_port: bool,
) -> anyhow::Result<tokio::net::TcpListener> {
    let tries = if find_free_port { 10 } else { 1 };
    let mut candidate = address;
    for _ in 0..tries {
        match tokio::net::TcpListener::bind(candidate).await {
            Ok(listener) => return Ok(listener),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && find_free_port => {
                let Some(next) = candidate.port().checked_add(1) else {
                    break;
                };
                candidate.set_port(next);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
                "{address} is already in use; pick another --listen, or add --find-free-port"
            ),
            Err(e) => anyhow::bail!("cannot listen on {candidate}: {e}"),
        }
    }
    anyhow::bail!(
        "no free port from {address} to port {}: pick another --listen",
        candidate.port()
    )
}

/// `rotor up`, and what `rotor watch` shares of it: the arguments, read and checked once.
pub struct UpPlan {
    /// The manifest to load.
    pub manifest_path: PathBuf,
    /// Whether to run the build commands first.
    pub build: bool,
    env: Vec<(String, String)>,
    key_values: Vec<(String, String)>,
    sqlite_statements: Vec<String>,
    listen: SocketAddr,
    find_free_port: bool,
    tls: Option<(PathBuf, PathBuf)>,
    options: AppOptions,
}

impl UpPlan {
    /// Reads and checks `args`.
    pub fn new(args: UpArgs) -> anyhow::Result<UpPlan> {
        let UpArgs {
            app,
            from,
            listen,
            find_free_port,
            build,
            runtime_config_file,
            state_dir,
            variables,
            env,
            key_values,
            sqlite_statements,
            log_dir,
            truncate_logs,
            quiet,
            tls_cert,
            tls_key,
            runtime,
        } = args;
        let app = from.or(app).unwrap_or_else(|| PathBuf::from("."));
        Ok(UpPlan {
            manifest_path: manifest::locate(&app),
            build,
            env: name_value_pairs("--env", &env)?,
            key_values: name_value_pairs("--key-value", &key_values)?,
            sqlite_statements,
            listen,
            find_free_port,
            tls: tls_cert.zip(tls_key),
            options: AppOptions {
                engine: runtime.engine()?,
                state: StateOptions {
                    state_dir,
                    runtime_config: runtime_config_file,
                    environment: None,
                    variables: variable_arguments(&variables)?,
                    output: OutputOptions {
                        log_dir,
                        truncate_logs,
                        quiet,
                    },
                    virtual_services: None,
                },
            },
        })
    }

    /// The manifest, with `--env` applied; its notices are printed.
    pub fn manifest(&self) -> anyhow::Result<Manifest> {
        let mut manifest = Manifest::load(&self.manifest_path)?;
        for component in manifest.components.values_mut() {
            component.environment.extend(self.env.iter().cloned());
        }
        for notice in &manifest.notices {
            eprintln!("note: {}: {notice}", manifest.path.display());
        }
        Ok(manifest)
    }

    /// The app of `manifest`, ready to serve.
    pub async fn app(&self, manifest: &Manifest) -> anyhow::Result<App> {
        let mut app = App::load(manifest, &self.options).await?;
        if let Some((cert, key)) = &self.tls {
            app = app.with_tls(TlsConfig::from_pem_files(cert, key)?);
        }
        Ok(app)
    }

    /// Runs `--sqlite` and `--key-value` against `app`'s stores.
    pub async fn seed(&self, app: &App) -> anyhow::Result<()> {
        for argument in &self.sqlite_statements {
            // `@FILE:DATABASE` as Spin writes it; a bare `@FILE` or SQL goes to `default`.
            let (script, label) = match argument.strip_prefix('@').and_then(|f| f.split_once(':')) {
                Some((file, label)) if !file.trim().is_empty() && !label.trim().is_empty() => {
                    (format!("@{}", file.trim()), label.trim())
                }
                Some(_) => anyhow::bail!("--sqlite {argument}: expected @FILE:DATABASE"),
                None => (argument.clone(), "default"),
            };
            let database = app.capabilities().sqlite_database(label).ok_or_else(|| {
                anyhow::anyhow!(
                    "--sqlite {argument}: no database `{label}`: `default`, or one the runtime config defines ([sqlite_database.{label}])"
                )
            })?;
            database
                .run_script_argument(&script, Path::new("."))
                .map_err(|e| e.context("--sqlite"))?;
        }
        if !self.key_values.is_empty() {
            let store = app
                .capabilities()
                .key_value_store("default")
                .expect("every app has a default key-value store");
            for (key, value) in &self.key_values {
                store
                    .set(key.clone(), value.clone().into_bytes())
                    .await
                    .map_err(|e| anyhow::anyhow!("--key-value {key}: {e}"))?;
            }
        }
        Ok(())
    }

    /// The socket of `--listen` (or the next free one, with `--find-free-port`).
    pub async fn listener(&self) -> anyhow::Result<TcpListener> {
        listen_on(self.listen, self.find_free_port).await
    }

    /// Says where `app` of `manifest` is served: the routes on `address`, and the Redis
    /// subscriptions.
    pub fn announce(&self, manifest: &Manifest, app: &App, address: Option<SocketAddr>) {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        if let (Some(_), Some(address)) = (app.http(), address) {
            say(&format!(
                "Serving {} on {scheme}://{address}",
                manifest.application.name
            ));
            for trigger in &manifest.http_triggers {
                let Some(path) = trigger.path() else { continue };
                let target = trigger.component().unwrap_or("(static response)");
                say(&format!("  {scheme}://{address}{path} -> {target}"));
            }
        }
        if let Some(trigger) = app.redis() {
            say(&format!(
                "Subscribing {} to Redis",
                manifest.application.name
            ));
            for subscription in trigger.subscriptions() {
                say(&format!(
                    "  {} channel {:?} -> {}",
                    redact_url(&subscription.address),
                    subscription.channel,
                    subscription.component
                ));
            }
        }
    }
}

/// `rotor up`: serves until Ctrl-C or SIGTERM, then lets the requests in flight finish.
pub async fn up(args: UpArgs) -> anyhow::Result<ExitCode> {
    let plan = UpPlan::new(args)?;
    let manifest = plan.manifest()?;
    if plan.build {
        rotor_host::build::build_all(&manifest)?;
    }
    let app = plan.app(&manifest).await?;
    plan.seed(&app).await?;
    let listener = match app.http() {
        None => None,
        Some(_) => Some(plan.listener().await?),
    };
    let address = listener.as_ref().map(TcpListener::local_addr).transpose()?;
    plan.announce(&manifest, &app, address);
    app.serve(listener, async {
        stop_signal().await;
        say("Shutting down: finishing the requests in flight (a second Ctrl-C stops at once).");
        tokio::spawn(async {
            stop_signal().await;
            say("Stopped without waiting.");
            std::process::exit(130);
        });
    })
    .await?;
    say("Stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what `kill`, systemd and Kubernetes send).
pub async fn stop_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

/// The values of `--variable` arguments, later ones overriding earlier ones.
fn variable_arguments(
    arguments: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut values = std::collections::BTreeMap::new();
    for argument in arguments {
        if let Some(file) = argument.strip_prefix('@') {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("--variable {argument}: cannot read {file}: {e}"))?;
            let table: std::collections::BTreeMap<String, String> = if file.ends_with(".json") {
                serde_json::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("--variable {argument}: not a JSON object of strings: {e}")
                })?
            } else {
                toml::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("--variable {argument}: not a TOML table of strings: {e}")
                })?
            };
            values.extend(table);
        } else {
            let Some((name, value)) = argument.split_once('=') else {
                anyhow::bail!("--variable {argument:?}: expected NAME=VALUE or @FILE");
            };
            values.insert(name.trim().to_owned(), value.to_owned());
        }
    }
    Ok(values)
}
