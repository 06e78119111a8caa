//! Core modules built for wasm32-wasip1, as Spin's own templates build them, run as HTTP and
//! Redis components: the host adapts them with the WASI preview 1 adapter and caches the
//! result.

mod common;

use std::time::{Duration, Instant};

use redis::AsyncCommands as _;
use rotor_host::engine::{Engine, EngineConfig};

fn is_core_module(path: &std::path::Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.starts_with(b"\0asm\x01\0\0\0")
}

fn hello_manifest() -> String {
    common::one_route_manifest("/hello/...", &common::core_module_guest("http-hello"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http_core_module_is_served() {
    let module = common::core_module_guest("http-hello");
    assert!(
        is_core_module(&module),
        "{} is not a core module",
        module.display()
    );
    let dir = common::app_dir(&hello_manifest());
    let address = common::serve(dir.path(), common::test_engine()).await;
    let response = rotor_spec::client::get(address, "/hello?name=Ada")
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "Hello, Ada!\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_adapted_component_is_cached() {
    let cache = tempfile::tempdir().unwrap();
    let engine = || {
        Engine::new(EngineConfig {
            cache_dir: Some(cache.path().to_owned()),
            ..EngineConfig::default()
        })
        .unwrap()
    };
    let dir = common::app_dir(&hello_manifest());
    common::load_app(dir.path(), engine(), &Default::default())
        .await
        .unwrap();
    let adapted: Vec<_> = std::fs::read_dir(cache.path().join("adapted"))
        .expect("the adapted component is in the cache")
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(adapted.len(), 1, "{adapted:?}");
    let component = std::fs::read(&adapted[0]).unwrap();
    assert_eq!(&component[..8], b"\0asm\x0d\0\x01\0", "a component");

    // A second start takes the component from the cache, and its compiled code too.
    let second = engine();
    common::load_app(dir.path(), second.clone(), &Default::default())
        .await
        .unwrap();
    assert_eq!(second.cache_hits(), 1);

    // A damaged cache entry is not trusted blindly: it is adapted again.
    std::fs::write(&adapted[0], b"not a component").unwrap();
    let error = common::load_app(dir.path(), engine(), &Default::default()).await;
    assert!(error.is_ok(), "{:#}", error.err().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_core_module_handles_messages() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let module = common::core_module_guest("redis-probe");
    assert!(
        is_core_module(&module),
        "{} is not a core module",
        module.display()
    );
    let channel = common::unique("rotor_core_module");
    let key = common::unique("rotor_core_records");
    let manifest = format!(
        r#"spin_manifest_version = 2

[application]
name = "core-module-redis"

[[trigger.redis]]
address = "redis://127.0.0.1:6379"
channel = "{channel}"
component = "recorder"

[component.recorder]
source = "{}"
allowed_outbound_hosts = ["redis://127.0.0.1:6379"]
variables = {{ redis_address = "redis://127.0.0.1:6379", record_key = "{key}" }}
"#,
        module.display()
    );
    let dir = common::app_dir(&manifest);
    let app = common::load_app(dir.path(), common::test_engine(), &Default::default())
        .await
        .unwrap();
    let serving = app
        .start(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let records = loop {
        let _: i64 = redis.publish(&channel, "from a core module").await.unwrap();
        let records: Vec<String> = redis.lrange(&key, 0, -1).await.unwrap();
        if !records.is_empty() || Instant::now() > deadline {
            break records;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    serving.stop().await.unwrap();
    let _: i64 = redis.del(&key).await.unwrap();
    assert!(
        records.iter().all(|r| r == "from a core module") && !records.is_empty(),
        "{records:?}"
    );
}
