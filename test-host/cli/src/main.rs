//! The `rotor` command: serve, build and test Spin-compatible apps.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use rotor_cli::js_build;

mod new_app;

use clap::{Args, Parser, Subcommand};
use rotor_host::capabilities::StateOptions;
use rotor_host::engine::guest_output::OutputOptions;
use rotor_host::engine::{self, Engine, EngineConfig};
use rotor_host::manifest::{self, Manifest};
use rotor_host::secret::redact_url;
use rotor_host::triggers::http::tls::TlsConfig;
use rotor_host::{App, AppOptions};
use rotor_spec::conformance;

/// Run Spin-compatible WebAssembly apps locally.
#[derive(Parser)]
#[command(name = "rotor", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve an app's HTTP routes.
    Up(Box<UpArgs>),
    /// Run each component's build command.
    Build {
        /// The app: a directory holding spin.toml, or the manifest itself.
        #[arg(default_value = ".")]
        app: PathBuf,
    },
    /// JavaScript apps.
    Js {
        #[command(subcommand)]
        command: JsCommand,
    },
    /// Run conformance specs (test.json5) against apps.
    Test(TestArgs),
    /// Start a new app from one of the examples.
    New(NewArgs),
}

#[derive(Args)]
struct NewArgs {
    /// The example to start from (`rotor new --list` shows them), such as `kv-todo` or
    /// `js/http-hello`.
    #[arg(required_unless_present = "list")]
    example: Option<String>,
    /// The new app's name: its directory, crate and component, such as `orders-api`.
    #[arg(required_unless_present = "list")]
    name: Option<String>,
    /// Where to create the app's directory.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Depend on the rotor-sdk in this directory (a checkout's `sdk/`) instead of the
    /// released one.
    #[arg(long, value_name = "DIR")]
    sdk_path: Option<PathBuf>,
    /// List the examples, with what each one is.
    #[arg(long)]
    list: bool,
}

#[derive(Args)]
#[command(after_help = SPIN_FLAGS_NOT_TAKEN)]
struct UpArgs {
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

#[derive(Args)]
struct TestArgs {
    /// An app directory, or a directory whose subdirectories are apps.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Run the components' build commands first.
    #[arg(long)]
    build: bool,
    /// Run this spec instead of each app's own test.json5 (for an app's twin in another
    /// language).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Run the spec against an app already running at this http:// URL (another `rotor up`,
    /// `spin up`, a SpinKube deployment) instead of starting it: preconditions, publish steps
    /// and requests that need the host are reported as skipped. One app's spec only.
    #[arg(long, value_name = "URL")]
    against: Option<String>,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[derive(Subcommand)]
enum JsCommand {
    /// Build a JavaScript app (an ES module) into a component.
    Build {
        /// The app's JavaScript file.
        app: PathBuf,
        /// Where to write the component.
        #[arg(short, long)]
        output: PathBuf,
        /// Leave the component as built, loading the app on each request, instead of
        /// snapshotting it with the app loaded.
        #[arg(long)]
        no_preinit: bool,
        /// The JavaScript engine: `boa` (pure Rust) or `quickjs` (smaller and faster; needs
        /// a C compiler for WASI: `WASI_SDK`, or clang with a WASI libc).
        #[arg(long, default_value = "boa")]
        engine: js_build::JsEngine,
    },
}

#[derive(Args)]
struct RuntimeArgs {
    /// Seconds one request may run before it is stopped with a 500.
    #[arg(long, default_value_t = 30.0)]
    deadline: f64,
    /// The most memory one instance may use, such as 64MiB.
    #[arg(long, default_value = "128MiB", value_parser = engine::parse_size)]
    max_instance_memory: usize,
    /// Where compiled code is cached.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Compile every component afresh, without the cache.
    #[arg(long)]
    no_cache: bool,
    /// How many requests may run at once; more are answered 503 with `Retry-After`.
    #[arg(long, default_value_t = engine::DEFAULT_MAX_IN_FLIGHT)]
    max_in_flight: usize,
    /// The largest request body a component is given, such as 10MiB; a larger one is
    /// answered 413. No limit unless given, as in Spin.
    #[arg(long, value_parser = engine::parse_size)]
    max_request_body: Option<usize>,
    /// Seconds a stopping `rotor up` (Ctrl-C, SIGTERM) waits for requests in flight and
    /// Redis messages being handled; a second signal stops at once.
    #[arg(long, default_value_t = engine::DEFAULT_DRAIN_TIMEOUT.as_secs_f64())]
    drain_timeout: f64,
}

impl RuntimeArgs {
    fn engine(&self) -> anyhow::Result<std::sync::Arc<Engine>> {
        if !(self.deadline.is_finite() && self.deadline > 0.0) {
            anyhow::bail!("--deadline must be a positive number of seconds");
        }
        if !(self.drain_timeout.is_finite() && self.drain_timeout >= 0.0) {
            anyhow::bail!("--drain-timeout must be a number of seconds, 0 or more");
        }
        Engine::new(EngineConfig {
            request_deadline: Duration::from_secs_f64(self.deadline),
            max_instance_memory: self.max_instance_memory,
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir.clone().or_else(engine::default_cache_dir)
            },
            max_in_flight: self.max_in_flight,
            max_request_body: self.max_request_body.map(|bytes| bytes as u64),
            drain_timeout: Duration::from_secs_f64(self.drain_timeout),
        })
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("starting tokio");
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a line for the person running `rotor up`.
///
/// Whoever reads our stdout may stop reading (a script that only wanted the address, a closed
/// pipe): the server must go on serving, so a failed write is ignored instead of panicking
/// as `println!` would.
fn say(line: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Up(args) => up(*args).await,
        Command::Js {
            command:
                JsCommand::Build {
                    app,
                    output,
                    no_preinit,
                    engine,
                },
        } => {
            let preinitialized = js_build::build(&app, &output, engine, !no_preinit).await?;
            eprintln!(
                "Built {} into {}{}.",
                app.display(),
                output.display(),
                if preinitialized {
                    ", pre-initialized"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Build { app } => {
            let manifest = Manifest::load(&manifest::locate(&app))?;
            rotor_host::build::build_all(&manifest)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Test(args) => test(args).await,
        Command::New(args) => new(args),
    }
}

/// What `rotor up --help` says of the flags of `spin up` it does not take.
const SPIN_FLAGS_NOT_TAKEN: &str = "\
Flags of `spin up` not taken here:
  --from-registry, -k/--insecure  apps come from a directory; there is no OCI registry client
  --temp                          the app runs from its own directory, not a copy
  --follow                        every component's output goes to the terminal (or none, with --quiet)
  --tls-cert, --tls-key           not yet: serve plain HTTP behind a TLS proxy meanwhile";

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

/// `rotor up`: loads the app and serves it until Ctrl-C.
async fn up(args: UpArgs) -> anyhow::Result<ExitCode> {
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
    let env = name_value_pairs("--env", &env)?;
    let key_values = name_value_pairs("--key-value", &key_values)?;
    let mut manifest = Manifest::load(&manifest::locate(&app))?;
    for component in manifest.components.values_mut() {
        component.environment.extend(env.iter().cloned());
    }
    for notice in &manifest.notices {
        eprintln!("note: {}: {notice}", manifest.path.display());
    }
    if build {
        rotor_host::build::build_all(&manifest)?;
    }
    let options = AppOptions {
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
        },
    };
    let mut app = App::load(&manifest, &options).await?;
    let scheme = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => {
            app = app.with_tls(TlsConfig::from_pem_files(&cert, &key)?);
            "https"
        }
        _ => "http",
    };
    for argument in &sqlite_statements {
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
    if !key_values.is_empty() {
        let store = app
            .capabilities()
            .key_value_store("default")
            .expect("every app has a default key-value store");
        for (key, value) in key_values {
            store
                .set(key.clone(), value.into_bytes())
                .await
                .map_err(|e| anyhow::anyhow!("--key-value {key}: {e}"))?;
        }
    }
    let listener = match app.http() {
        None => None,
        Some(_) => {
            let listener = listen_on(listen, find_free_port).await?;
            let address = listener.local_addr()?;
            say(&format!(
                "Serving {} on {scheme}://{address}",
                manifest.application.name
            ));
            for trigger in &manifest.http_triggers {
                let Some(path) = trigger.path() else { continue };
                let target = trigger.component().unwrap_or("(static response)");
                say(&format!("  {scheme}://{address}{path} -> {target}"));
            }
            Some(listener)
        }
    };
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
async fn stop_signal() {
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

/// `rotor new`: writes a new app from an example, or lists the examples.
fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        let examples = new_app::list();
        let width = examples
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0);
        for (name, description) in examples {
            println!("{name:width$}  {description}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(example), Some(name)) = (args.example, args.name) else {
        anyhow::bail!("rotor new takes an example and a name, or --list");
    };
    let sdk = match args.sdk_path {
        Some(path) => new_app::Sdk::Path(
            path.canonicalize()
                .map_err(|e| anyhow::anyhow!("--sdk-path {}: {e}", path.display()))?,
        ),
        None => new_app::Sdk::Version(env!("CARGO_PKG_VERSION").to_owned()),
    };
    let dir = new_app::create(&example, &name, &args.dir, &sdk)?;
    say(&format!(
        "Created {} from the {example} example.",
        dir.display()
    ));
    say(&format!(
        "Next: `rotor test --build {0}` checks it against its spec, `rotor up --build {0}` serves it.",
        dir.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `rotor test`: runs each app's spec (or the one given) and prints a line per case and a
/// summary.
async fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let TestArgs {
        path,
        build,
        spec,
        against,
        runtime,
    } = args;
    if let Some(base_url) = against {
        let spec = match spec {
            Some(spec) => spec,
            None => match conformance::find_apps(&path)?.as_slice() {
                [app] => app.join(conformance::SPEC_FILE),
                apps => anyhow::bail!(
                    "--against runs one spec, and {} holds {}: give one app's directory or --spec",
                    path.display(),
                    apps.len()
                ),
            },
        };
        let results = conformance::run_spec_against(&base_url, &spec).await?;
        let (_, failed, line) = conformance::summary(&results);
        println!("{line}");
        return Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let engine = runtime.engine()?;
    let mut results = Vec::new();
    let mut broken = 0;
    let apps = match &spec {
        Some(_) => vec![path.clone()],
        None => conformance::find_apps(&path)?,
    };
    for app in apps {
        let outcome = async {
            if build {
                rotor_host::build::build_all(&Manifest::load(&app.join("spin.toml"))?)?;
            }
            let spec = spec
                .clone()
                .unwrap_or_else(|| app.join(conformance::SPEC_FILE));
            conformance::run_spec(&app, &spec, engine.clone()).await
        }
        .await;
        match outcome {
            Ok(cases) => results.extend(cases),
            Err(error) => {
                broken += 1;
                println!(
                    "FAIL {}: the app could not be run: {error:#}",
                    app.display()
                );
            }
        }
    }
    let (_, failed, mut line) = conformance::summary(&results);
    if broken > 0 {
        line = format!(
            "{} passed, {} failed",
            results.len() - failed,
            failed + broken
        );
    }
    println!("{line}");
    Ok(if failed + broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
