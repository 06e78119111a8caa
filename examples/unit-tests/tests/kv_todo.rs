//! Unit tests of `examples/kv-todo`: the store is in memory, seeded and read by the test.

use examples_unit_tests::example;
use rotor_test::VirtualHost;
use serde_json::json;

#[test]
fn creating_a_todo_writes_the_counter_and_the_todo() {
    let host = VirtualHost::load(example("kv-todo")).unwrap();
    let response = host.post_json("/todos", &json!({"title": "write the README"}));
    response.assert_status(201);
    assert_eq!(response.header("location"), Some("/todos/1"));
    host.calls().assert_lines(&[
        "key-value default: set next-id = 2",
        r#"key-value default: set todo:1 = {"id":1,"title":"write the README","done":false}"#,
    ]);
    let stored: serde_json::Value =
        serde_json::from_slice(&host.key_value("default", "todo:1").unwrap()).unwrap();
    assert_eq!(stored["title"], "write the README");
}

#[test]
fn lists_what_the_store_holds_in_id_order() {
    let host = VirtualHost::builder(example("kv-todo"))
        .key_value(
            "default",
            "todo:10",
            r#"{"id":10,"title":"later","done":false}"#,
        )
        .key_value(
            "default",
            "todo:2",
            r#"{"id":2,"title":"sooner","done":true}"#,
        )
        .key_value("default", "unrelated", "not a todo")
        .load()
        .unwrap();
    let todos = host.get("/todos").assert_status(200).json();
    assert_eq!(
        todos,
        json!([
            {"id": 2, "title": "sooner", "done": true},
            {"id": 10, "title": "later", "done": false}
        ])
    );
    host.calls().assert_lines(&[]);
}

#[test]
fn deleting_removes_the_key_and_a_bad_todo_writes_nothing() {
    let host = VirtualHost::builder(example("kv-todo"))
        .key_value("default", "todo:1", r#"{"id":1,"title":"a","done":false}"#)
        .load()
        .unwrap();
    host.send("DELETE", "/todos/1", "").assert_status(204);
    assert_eq!(host.key_value("default", "todo:1"), None);
    host.post_json("/todos", &json!({"title": ""}))
        .assert_status(422);
    host.calls()
        .assert_lines(&["key-value default: delete todo:1"]);
}
