//! A second start of the host loads compiled code from the cache instead of compiling again.

mod common;

use std::time::Duration;

use rotor_host::engine::{Engine, EngineConfig};

#[test]
fn the_second_load_is_a_cache_hit() {
    let cache = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        request_deadline: Duration::from_secs(2),
        max_instance_memory: 64 << 20,
        cache_dir: Some(cache.path().to_owned()),
        ..EngineConfig::default()
    };
    let hello = common::guest("http-hello");

    let first = Engine::new(config.clone()).unwrap();
    first.load_component(&hello).unwrap();
    assert_eq!(first.cache_hits(), 0);

    // The cache writes in the background; give it a moment to land on disk.
    let second = Engine::new(config).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        second.load_component(&hello).unwrap();
        if second.cache_hits() > 0 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        second.cache_hits() > 0,
        "the second engine compiled the component again"
    );
}
