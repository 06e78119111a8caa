//! `fermyon:spin/key-value@2.0.0` through the host: grants, persistence, concurrency, large
//! values, and the same test set against a Redis-backed store.

mod common;

use std::net::SocketAddr;

use http::{Method, StatusCode};
use rotor_host::capabilities::StateOptions;
use rotor_spec::client;

async fn put(
    address: SocketAddr,
    path: &str,
    body: impl Into<bytes::Bytes>,
) -> client::ReceivedResponse {
    client::send(address, Method::PUT, path, &[], body)
        .await
        .unwrap()
}

async fn json(address: SocketAddr, path: &str) -> serde_json::Value {
    let response = client::get(address, path).await.unwrap();
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", response.text()))
}

/// The key-value behaviour every backend must have, on store `label`, under key `prefix`.
async fn key_value_test_set(address: SocketAddr, label: &str, prefix: &str) {
    let key = format!("{prefix}-a");
    let url = format!("/kv/{label}/{key}");
    assert_eq!(
        client::get(address, &url).await.unwrap().status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client::get(address, &format!("{url}/exists"))
            .await
            .unwrap()
            .text(),
        "false"
    );

    assert_eq!(
        put(address, &url, "first").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        put(address, &url, "second").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(client::get(address, &url).await.unwrap().text(), "second");
    assert_eq!(
        client::get(address, &format!("{url}/exists"))
            .await
            .unwrap()
            .text(),
        "true"
    );
    let keys = json(address, &format!("/kv/{label}")).await;
    assert!(
        keys.as_array().unwrap().contains(&serde_json::json!(key)),
        "{keys}"
    );

    let deleted = client::send(address, Method::DELETE, &url, &[], "")
        .await
        .unwrap();
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        client::get(address, &url).await.unwrap().status,
        StatusCode::NOT_FOUND
    );
    let again = client::send(address, Method::DELETE, &url, &[], "")
        .await
        .unwrap();
    assert_eq!(
        again.status,
        StatusCode::NO_CONTENT,
        "deleting an absent key is not an error"
    );

    // A 1 MiB value of every byte value round-trips.
    let big: Vec<u8> = (0..(1 << 20)).map(|i: u32| (i % 256) as u8).collect();
    let big_url = format!("/kv/{label}/{prefix}-big");
    assert_eq!(
        put(address, &big_url, big.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    let read = client::get(address, &big_url).await.unwrap();
    assert_eq!(read.body.len(), big.len());
    assert!(read.body == big, "the 1 MiB value came back different");

    // 200 requests at once, each writing its own key: every write is readable afterwards.
    let writers = (0..200).map(|n| {
        let url = format!("/kv/{label}/{prefix}-n{n}");
        tokio::spawn(async move { put(address, &url, format!("value {n}")).await.status })
    });
    for writer in writers.collect::<Vec<_>>() {
        assert_eq!(writer.await.unwrap(), StatusCode::NO_CONTENT);
    }
    for n in 0..200 {
        let value = client::get(address, &format!("/kv/{label}/{prefix}-n{n}"))
            .await
            .unwrap();
        assert_eq!(value.text(), format!("value {n}"), "key {prefix}-n{n}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_store_keeps_everything() {
    let dir = common::app_dir(&common::probe_manifest("key_value_stores = [\"default\"]"));
    let address = common::serve(dir.path(), common::test_engine()).await;
    key_value_test_set(address, "default", &common::unique("kv")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ungranted_store_is_access_denied() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let denied = json(address, "/kv/default/key").await;
    assert_eq!(denied["error"], "access-denied", "{denied}");

    let dir = common::app_dir(&common::probe_manifest("key_value_stores = [\"default\"]"));
    let address = common::serve(dir.path(), common::test_engine()).await;
    let denied = json(address, "/kv/other/key").await;
    assert_eq!(denied["error"], "access-denied", "{denied}");
    assert!(!dir.path().join(".spin/other").exists());
    // The guest is still served after a denial.
    assert_eq!(client::get(address, "/ok").await.unwrap().text(), "fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn data_survives_a_restart() {
    let dir = common::app_dir(&common::probe_manifest("key_value_stores = [\"default\"]"));
    let first = common::serve(dir.path(), common::test_engine()).await;
    assert_eq!(
        put(first, "/kv/default/kept", "still here").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(dir.path().join(".spin/sqlite_key_value.db").exists());

    // A new runtime and app over the same directory, as a second `rotor up` would be.
    let second = common::serve(dir.path(), common::test_engine()).await;
    assert_eq!(
        client::get(second, "/kv/default/kept")
            .await
            .unwrap()
            .text(),
        "still here"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_label_without_configuration_is_refused_at_load() {
    let dir = common::app_dir(&common::probe_manifest("key_value_stores = [\"cache\"]"));
    let error = common::load_app(dir.path(), common::test_engine(), &StateOptions::default())
        .await
        .err()
        .expect("the manifest must be refused");
    assert!(
        error.to_string().contains("uses key-value store `cache`"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runtime_config_store_on_a_sqlite_file() {
    let (address, dir) = common::serve_probe_with_runtime_config(
        "key_value_stores = [\"archive\"]",
        "[key_value_store.archive]\ntype = \"spin\"\npath = \"data/archive.db\"\n",
    )
    .await;
    assert_eq!(
        put(address, "/kv/archive/k", "v").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        client::get(address, "/kv/archive/k").await.unwrap().text(),
        "v"
    );
    assert!(dir.path().join("data/archive.db").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_backed_store_passes_the_same_test_set() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let (address, _dir) = common::serve_probe_with_runtime_config(
        "key_value_stores = [\"shared\"]",
        "[key_value_store.shared]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n",
    )
    .await;
    let prefix = common::unique("rotor_kv_test");
    key_value_test_set(address, "shared", &prefix).await;

    // Nothing went to the local file: the values are on the server, under the label.
    let mut redis = redis::Client::open("redis://127.0.0.1:6379")
        .unwrap()
        .get_connection()
        .unwrap();
    let stored: Option<String> = redis::cmd("GET")
        .arg(format!("shared:{prefix}-n7"))
        .query(&mut redis)
        .unwrap();
    assert_eq!(stored.as_deref(), Some("value 7"));
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("shared:{prefix}-*"))
        .query(&mut redis)
        .unwrap();
    let _: () = redis::cmd("DEL").arg(keys).query(&mut redis).unwrap();
}

/// Two stores on one Redis database: each lists, reads and deletes only its own keys. A
/// store with `prefix = ""` keeps Spin's bare keys.
#[tokio::test(flavor = "multi_thread")]
async fn redis_stores_on_one_database_do_not_see_each_other() {
    if !common::service_available("Redis", "127.0.0.1:6379") {
        return;
    }
    let bare = common::unique("rotor_kv_bare");
    let (address, _dir) = common::serve_probe_with_runtime_config(
        "key_value_stores = [\"left\", \"right\", \"bare\"]",
        &format!(
            "[key_value_store.left]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n\n\
             [key_value_store.right]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n\n\
             [key_value_store.bare]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\nprefix = \"{bare}:\"\n"
        ),
    )
    .await;
    let key = common::unique("rotor_kv_iso");
    let other = format!("{key}-left-only");
    assert_eq!(
        put(address, &format!("/kv/left/{key}"), "L").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        put(address, &format!("/kv/left/{other}"), "G").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        put(address, &format!("/kv/right/{key}"), "R").await.status,
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        client::get(address, &format!("/kv/left/{key}"))
            .await
            .unwrap()
            .text(),
        "L"
    );
    assert_eq!(
        client::get(address, &format!("/kv/right/{key}"))
            .await
            .unwrap()
            .text(),
        "R"
    );
    let left = json(address, "/kv/left").await;
    let right = json(address, "/kv/right").await;
    assert!(
        left.as_array().unwrap().contains(&serde_json::json!(key)),
        "{left}"
    );
    assert!(
        left.as_array().unwrap().contains(&serde_json::json!(other)),
        "{left}"
    );
    assert!(
        right.as_array().unwrap().contains(&serde_json::json!(key)),
        "{right}"
    );
    assert!(
        !right
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(other)),
        "{right}"
    );
    for listed in left
        .as_array()
        .unwrap()
        .iter()
        .chain(right.as_array().unwrap())
    {
        assert!(!listed.as_str().unwrap().starts_with("left:"), "{listed}");
        assert!(!listed.as_str().unwrap().starts_with("right:"), "{listed}");
    }
    let deleted = client::send(
        address,
        Method::DELETE,
        &format!("/kv/right/{key}"),
        &[],
        "",
    )
    .await
    .unwrap();
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        client::get(address, &format!("/kv/left/{key}"))
            .await
            .unwrap()
            .text(),
        "L"
    );

    // The explicit prefix is what lands on the server.
    assert_eq!(
        put(address, &format!("/kv/bare/{key}"), "B").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(json(address, "/kv/bare").await, serde_json::json!([key]));
    let mut redis = redis::Client::open("redis://127.0.0.1:6379")
        .unwrap()
        .get_connection()
        .unwrap();
    let stored: Option<String> = redis::cmd("GET")
        .arg(format!("{bare}:{key}"))
        .query(&mut redis)
        .unwrap();
    assert_eq!(stored.as_deref(), Some("B"));
    let _: () = redis::cmd("DEL")
        .arg(format!("{bare}:{key}"))
        .arg(format!("left:{key}"))
        .arg(format!("left:{other}"))
        .query(&mut redis)
        .unwrap();
}
