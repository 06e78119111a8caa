//! Variables from Spin's providers in Spin's order: `--variable` values, then the runtime
//! config's `[[variables_provider]]` entries in file order (`static`, `env` with a prefix and
//! a dotenv file, `vault`), then `SPIN_VARIABLE_*` and the app's `.env`, then the default.

mod common;

use std::net::SocketAddr;

use http::StatusCode;
use rotor_host::capabilities::StateOptions;
use rotor_spec::client;

/// The probe with four component variables over four app variables with defaults.
const MANIFEST_GRANTS: &str = r#"variables = { a = "{{ a }}", b = "{{ b }}", c = "{{ c }}", d = "{{ d }}" }

[variables]
a = { default = "default-a" }
b = { default = "default-b" }
c = { default = "default-c" }
d = { default = "default-d" }
"#;

struct Setup<'a> {
    cli: &'a [(&'a str, &'a str)],
    environment: &'a [(&'a str, &'a str)],
    runtime_config: &'a str,
    files: &'a [(&'a str, &'a str)],
}

async fn serve(setup: Setup<'_>) -> (SocketAddr, tempfile::TempDir) {
    let dir = common::app_dir(&common::probe_manifest(MANIFEST_GRANTS));
    for (name, text) in setup.files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(&config, setup.runtime_config).unwrap();
    let options = StateOptions {
        runtime_config: Some(config),
        environment: Some(common::map(setup.environment)),
        variables: common::map(setup.cli),
        ..StateOptions::default()
    };
    let address = common::serve_with(dir.path(), common::test_engine(), &options).await;
    (address, dir)
}

async fn read(address: SocketAddr, name: &str) -> String {
    let response = client::get(address, &format!("/variables/{name}"))
        .await
        .unwrap();
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{name}: {}",
        response.text()
    );
    response.text()
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_answer_in_spins_order() {
    let (address, _dir) = serve(Setup {
        cli: &[("a", "cli-a")],
        environment: &[
            ("SPIN_VARIABLE_A", "env-a"),
            ("SPIN_VARIABLE_B", "env-b"),
            ("SPIN_VARIABLE_C", "env-c"),
        ],
        runtime_config: "[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"static-a\", b = \"static-b\" }\n",
        files: &[],
    })
    .await;
    // `--variable` first, then the runtime config's providers, then the environment, then
    // the default.
    assert_eq!(read(address, "a").await, "cli-a");
    assert_eq!(read(address, "b").await, "static-b");
    assert_eq!(read(address, "c").await, "env-c");
    assert_eq!(read(address, "d").await, "default-d");
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_of_the_runtime_config_answer_in_file_order() {
    let (address, _dir) = serve(Setup {
        cli: &[],
        environment: &[("MYAPP_A", "myapp-env-a"), ("SPIN_VARIABLE_B", "env-b")],
        runtime_config: "[[variables_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\ndotenv_path = \"myapp.env\"\n\n[[variables_provider]]\ntype = \"static\"\nvalues = { a = \"static-a\", b = \"static-b\", c = \"static-c\" }\n",
        files: &[("myapp.env", "# the app's own file\nMYAPP_B=dotenv-b\n")],
    })
    .await;
    // The env provider with its prefix comes first: its environment, then its dotenv file.
    assert_eq!(read(address, "a").await, "myapp-env-a");
    assert_eq!(read(address, "b").await, "dotenv-b");
    assert_eq!(read(address, "c").await, "static-c");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_apps_dotenv_file_fills_in_for_the_environment() {
    let (address, _dir) = serve(Setup {
        cli: &[],
        environment: &[("SPIN_VARIABLE_A", "env-a")],
        runtime_config: "",
        files: &[(
            ".env",
            "SPIN_VARIABLE_A=dotenv-a\nSPIN_VARIABLE_B=\"dotenv b\"\n",
        )],
    })
    .await;
    assert_eq!(read(address, "a").await, "env-a");
    assert_eq!(read(address, "b").await, "dotenv b");
    assert_eq!(read(address, "c").await, "default-c");
}
