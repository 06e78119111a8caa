//! Simple `SELECT` throughput through a guest, next to the same query issued directly by the
//! host's own drivers (tokio-postgres, mysql_async), in one run and at the same concurrency.
//! Usage: `sql_bench PATH/TO/probe.wasm [REQUESTS]`.
//!
//! The guest side sends `POST /rdbms/{pg,mysql}` to the probe component: a fresh instance
//! opens a pooled connection, runs `SELECT 1 AS one` and answers the row as JSON. The direct
//! side runs the same statement on connections of its own, as prepared statements the way
//! the host does.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use mysql_async::prelude::Queryable as _;
use rotor_host::engine::{Engine, EngineConfig};
use rotor_host::manifest::Manifest;
use rotor_host::{App, AppOptions};
use rotor_spec::client;

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL: &str = "mysql://root@127.0.0.1:3306/test";
const STATEMENT: &str = "SELECT 1 AS one";
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let probe = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: sql_bench PROBE.wasm [REQUESTS]"))?;
    let requests: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(5_000);

    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("spin.toml"),
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"sql-bench\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"probe\"\n[component.probe]\nsource = \"{probe}\"\nallowed_outbound_hosts = [\"postgres://127.0.0.1:5432\", \"mysql://127.0.0.1:3306\"]\n"
        ),
    )?;
    let manifest = Manifest::load(&dir.path().join("spin.toml"))?;
    let engine = Engine::new(EngineConfig {
        request_deadline: Duration::from_secs(60),
        ..EngineConfig::default()
    })?;
    let app = App::load(&manifest, &AppOptions::new(engine)).await?;
    let serving = app.start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let address = serving.address.expect("the app has an HTTP route");

    println!("| database | path | requests | requests/s | vs direct |");
    println!("|---|---|---:|---:|---:|");
    for (name, path, url) in [
        ("PostgreSQL", "/rdbms/pg", PG),
        ("MariaDB", "/rdbms/mysql", MYSQL),
    ] {
        let guest = through_guest(address, path, url, requests).await?;
        let direct = if path == "/rdbms/pg" {
            direct_postgres(requests).await?
        } else {
            direct_mysql(requests).await?
        };
        println!(
            "| {name} | guest -> host -> driver | {requests} | {guest:.0} | {:.3} |",
            guest / direct
        );
        println!("| {name} | driver directly | {requests} | {direct:.0} | 1.000 |");
    }
    Ok(())
}

/// Runs `work` `total` times over `CONCURRENCY` workers; returns runs per second.
async fn concurrently<F, Fut>(total: usize, work: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let work = work.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::SeqCst) < total {
                work().await?;
            }
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

async fn through_guest(
    address: SocketAddr,
    path: &'static str,
    url: &'static str,
    requests: usize,
) -> anyhow::Result<f64> {
    let body = serde_json::json!({ "address": url, "statement": STATEMENT }).to_string();
    let call = move || {
        let body = body.clone();
        async move {
            let response = client::send(address, Method::POST, path, &[], body).await?;
            anyhow::ensure!(
                response.status == 200,
                "the guest failed: {}",
                response.text()
            );
            Ok(())
        }
    };
    call().await?;
    concurrently(requests, call).await
}

async fn direct_postgres(requests: usize) -> anyhow::Result<f64> {
    let mut clients = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, connection) = tokio_postgres::connect(PG, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        clients.push(Arc::new(client));
    }
    let clients = Arc::new(clients);
    let turn = Arc::new(AtomicUsize::new(0));
    concurrently(requests, move || {
        let client = clients[turn.fetch_add(1, Ordering::SeqCst) % CONCURRENCY].clone();
        async move {
            let statement = client.prepare(STATEMENT).await?;
            let rows = client.query(&statement, &[]).await?;
            anyhow::ensure!(rows.len() == 1);
            Ok(())
        }
    })
    .await
}

async fn direct_mysql(requests: usize) -> anyhow::Result<f64> {
    // The host's pool settings: up to 32 connections, idle ones kept.
    let pool = mysql_async::Pool::new(
        mysql_async::OptsBuilder::from_opts(mysql_async::Opts::from_url(MYSQL)?).pool_opts(
            mysql_async::PoolOpts::default()
                .with_constraints(mysql_async::PoolConstraints::new(0, 32).unwrap_or_default())
                .with_inactive_connection_ttl(Duration::from_secs(60)),
        ),
    );
    concurrently(requests, move || {
        let pool = pool.clone();
        async move {
            let mut conn = pool.get_conn().await?;
            let rows: Vec<mysql_async::Row> = conn.exec(STATEMENT, ()).await?;
            anyhow::ensure!(rows.len() == 1);
            Ok(())
        }
    })
    .await
}
