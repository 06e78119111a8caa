//! The `rotor` command: serve, build and test Spin-compatible apps.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rotor_cli::js_build;

mod new_app;
mod up;
mod watch;

use clap::{Args, Parser, Subcommand};
use rotor_host::engine::{self, Engine, EngineConfig};
use rotor_host::manifest::{self, Manifest};
use rotor_spec::conformance;

// glibc's malloc took a tenth of the host's time under load, part of it waiting on its
// arena locks; mimalloc keeps a heap per thread (c16 on the hello: +13%).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Up(Box<up::UpArgs>),
    /// Build and serve an app, and rebuild and serve it again whenever its files change.
    Watch(Box<watch::WatchArgs>),
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
    /// Run a conformance kit (a directory of NAME/test.json5) against the apps in PATH
    /// (PATH/NAME/spin.toml) and print a table of spec × passed/failed/skipped.
    #[arg(long, value_name = "KIT", conflicts_with_all = ["spec", "against"])]
    spec_kit: Option<PathBuf>,
    /// With --spec-kit, also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE", requires = "spec_kit")]
    junit: Option<PathBuf>,
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
        /// Snapshot the engine with only the app's source in place, so that each request
        /// loads the app, instead of with the app loaded.
        #[arg(long)]
        no_preinit: bool,
        /// The JavaScript engine: `quickjs` (smaller and faster; in `rotor` only when a C
        /// compiler for WASI was found as it was built) or `boa`. The default is QuickJS
        /// where this `rotor` has it, else boa.
        #[arg(long)]
        engine: Option<js_build::JsEngine>,
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
    /// How many threads serve HTTP connections, each running its connections and their
    /// guests on an event loop of its own. 0, the default, runs them all on one shared pool
    /// of worker threads, the quickest for a single client; one per core serves the most
    /// requests per second under many connections.
    #[arg(long, default_value_t = 0)]
    server_threads: usize,
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
            server_threads: self.server_threads,
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
        Command::Up(args) => up::up(*args).await,
        Command::Watch(args) => watch::watch(*args).await,
        Command::Js {
            command:
                JsCommand::Build {
                    app,
                    output,
                    no_preinit,
                    engine,
                },
        } => {
            let started = std::time::Instant::now();
            let engine = engine.unwrap_or_default();
            let preinitialized = js_build::build(&app, &output, engine, !no_preinit).await?;
            eprintln!(
                "Built {} into {} with {}{} in {:.1} s.",
                app.display(),
                output.display(),
                engine.name(),
                if preinitialized {
                    ", pre-initialized"
                } else {
                    ""
                },
                started.elapsed().as_secs_f64()
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
        spec_kit,
        junit,
        runtime,
    } = args;
    if let Some(kit) = spec_kit {
        return test_kit(&kit, &path, build, junit.as_deref(), runtime.engine()?).await;
    }
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

/// `rotor test --spec-kit KIT APPS`: every spec of the kit against the app of its name, a
/// line per case as it runs, then the table; `--junit` also writes JUnit XML.
async fn test_kit(
    kit: &std::path::Path,
    apps: &std::path::Path,
    build: bool,
    junit: Option<&std::path::Path>,
    engine: std::sync::Arc<Engine>,
) -> anyhow::Result<ExitCode> {
    use conformance::kit;
    let rows = kit::run_kit(kit, apps, engine, |app| {
        if build {
            rotor_host::build::build_all(&Manifest::load(&app.join("spin.toml"))?)?;
        }
        Ok(())
    })
    .await?;
    // Each case's line was printed as it ran; a broken app's reason was not.
    for row in &rows {
        if let kit::KitOutcome::Broken(why) = &row.outcome {
            println!("FAIL {}: the app could not be run: {why}", row.spec);
        }
    }
    print!("{}", kit::table(&rows));
    if let Some(file) = junit {
        std::fs::write(file, kit::junit_xml(&rows))
            .map_err(|e| anyhow::anyhow!("--junit {}: {e}", file.display()))?;
    }
    Ok(if kit::all_passed(&rows) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
