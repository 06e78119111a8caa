//! Unit tests of `examples/sqlite-notes`: its schema comes from its own migrations file.

use examples_unit_tests::example;
use rotor_test::{SqlValue, VirtualHost};
use serde_json::json;

const MIGRATIONS: &str = include_str!("../../sqlite-notes/migrations.sql");

fn host() -> VirtualHost {
    VirtualHost::builder(example("sqlite-notes"))
        .sqlite("default", MIGRATIONS)
        .load()
        .unwrap()
}

#[test]
fn creating_a_note_inserts_a_row_with_parameters() {
    let host = host();
    let response = host.post_json("/notes", &json!({"title": "groceries", "body": "eggs"}));
    response.assert_status(201);
    assert_eq!(
        response.json(),
        json!({"id": 1, "title": "groceries", "body": "eggs", "pinned": false})
    );
    host.calls().assert_includes(&[
        r#"sqlite default: INSERT INTO notes (title, body, pinned) VALUES (?, ?, ?) RETURNING id ["groceries", "eggs", 0]"#,
    ]);
    assert_eq!(
        host.sqlite("default", "SELECT title, body, pinned FROM notes"),
        vec![vec![
            SqlValue::Text("groceries".into()),
            SqlValue::Text("eggs".into()),
            SqlValue::Integer(0)
        ]]
    );
}

#[test]
fn lists_seeded_rows_pinned_first() {
    let host = VirtualHost::builder(example("sqlite-notes"))
        .sqlite("default", MIGRATIONS)
        .sqlite(
            "default",
            "INSERT INTO notes (title, pinned) VALUES ('plain', 0), ('pinned', 1);",
        )
        .load()
        .unwrap();
    let titles: Vec<String> = host
        .get("/notes")
        .assert_status(200)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|note| note["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles, ["pinned", "plain"]);
}

#[test]
fn a_note_without_a_title_runs_no_statement() {
    let host = host();
    host.post_json("/notes", &json!({"body": "no title"}))
        .assert_status(422);
    host.calls().assert_none("sqlite *");
}
