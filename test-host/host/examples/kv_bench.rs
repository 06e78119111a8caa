//! Key-value throughput through a guest, next to the same operations done directly with
//! rusqlite, in one run. Usage: `kv_bench PATH/TO/probe.wasm [OPERATIONS]`.
//!
//! The guest side sends `POST /kv-many/default/N` to the probe component, which sets then gets
//! N keys in the default store (the embedded SQLite file): 2N operations per request, each a
//! call from the guest into the host. The direct side runs the host's own statements on a
//! connection of its own, the same 2N times.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::Method;
use rotor_host::engine::{Engine, EngineConfig};
use rotor_host::manifest::Manifest;
use rotor_host::{App, AppOptions};
use rotor_spec::client;

const PER_REQUEST: usize = 500;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let probe = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: kv_bench PROBE.wasm [OPERATIONS]"))?;
    let operations: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let rounds = (operations / (2 * PER_REQUEST)).max(1);

    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("spin.toml"),
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"kv-bench\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n[component.probe]\nsource = \"{probe}\"\nkey_value_stores = [\"default\"]\n"
        ),
    )?;
    let manifest = Manifest::load(&dir.path().join("spin.toml"))?;
    let engine = Engine::new(EngineConfig {
        request_deadline: Duration::from_secs(120),
        ..EngineConfig::default()
    })?;
    let app = App::load(&manifest, &AppOptions::new(engine)).await?;
    let serving = app.start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let address = serving.address.expect("the app has an HTTP route");

    // Warm up: first request compiles nothing (done at load) but opens the file.
    many(address, "warmup").await?;
    let started = Instant::now();
    for round in 0..rounds {
        many(address, &format!("round{round}")).await?;
    }
    let guest_rate = (rounds * 2 * PER_REQUEST) as f64 / started.elapsed().as_secs_f64();

    let direct_rate = direct(&dir.path().join("direct.db"), rounds * PER_REQUEST)?;
    println!("| path | operations | ops/s | vs direct |");
    println!("|---|---:|---:|---:|");
    println!(
        "| guest -> host -> SQLite (set+get) | {} | {guest_rate:.0} | {:.3} |",
        rounds * 2 * PER_REQUEST,
        guest_rate / direct_rate
    );
    println!(
        "| rusqlite directly (set+get) | {} | {direct_rate:.0} | 1.000 |",
        rounds * 2 * PER_REQUEST
    );
    Ok(())
}

async fn many(address: SocketAddr, prefix: &str) -> anyhow::Result<()> {
    let response = client::send(
        address,
        Method::POST,
        &format!("/kv-many/default/{PER_REQUEST}"),
        &[],
        prefix.to_owned(),
    )
    .await?;
    // The probe answers the count it wrote and read back; anything else means the work
    // was not done and the numbers would be meaningless.
    anyhow::ensure!(
        response.status == 200 && response.text() == PER_REQUEST.to_string(),
        "the guest did not do the work: {} {}",
        response.status,
        response.text()
    );
    Ok(())
}

/// The same statements the host's SQLite key-value store runs, straight on rusqlite.
fn direct(path: &std::path::Path, keys: usize) -> anyhow::Result<f64> {
    let connection = rusqlite::Connection::open(path)?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key));",
    )?;
    let started = Instant::now();
    for n in 0..keys {
        connection.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            ("default", format!("key-{n}"), b"value".as_slice()),
        )?;
    }
    for n in 0..keys {
        let _: Vec<u8> = connection.query_row(
            "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2",
            ("default", format!("key-{n}")),
            |row| row.get(0),
        )?;
    }
    Ok((2 * keys) as f64 / started.elapsed().as_secs_f64())
}
