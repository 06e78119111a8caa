//! Unit tests of `examples/mysql-inventory`: MySQL is stubbed per statement.

use examples_unit_tests::example;
use rotor_test::stubs::SqlStub;
use rotor_test::{SqlValue, VirtualHost};
use serde_json::json;

const FIND: &str = "SELECT sku, name, quantity FROM stock WHERE sku = ?";

fn item(sku: &str, quantity: i64) -> Vec<SqlValue> {
    vec![
        SqlValue::Text(sku.into()),
        SqlValue::Text("Widget".into()),
        SqlValue::Integer(quantity),
    ]
}

#[test]
fn replacing_an_item_upserts_then_reads_it_back() {
    let host = VirtualHost::builder(example("mysql-inventory"))
        .stub(SqlStub::mysql("INSERT INTO stock *"))
        .stub(SqlStub::mysql(FIND).rows(&["sku", "name", "quantity"], vec![item("w-1", 5)]))
        .load()
        .unwrap();
    let stored = host
        .send("PUT", "/items/w-1", r#"{"name": "Widget", "quantity": 5}"#)
        .assert_status(200)
        .json();
    assert_eq!(
        stored,
        json!({"sku": "w-1", "name": "Widget", "quantity": 5})
    );
    host.calls().assert_lines(&[
        r#"mysql mysql://root@127.0.0.1:3306/test: INSERT INTO stock (sku, name, quantity) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE * ["w-1", "Widget", 5]"#,
        r#"mysql *: SELECT sku, name, quantity FROM stock WHERE sku = ? ["w-1"]"#,
    ]);
}

#[test]
fn taking_more_than_is_in_stock_is_a_conflict() {
    let host = VirtualHost::builder(example("mysql-inventory"))
        .stub(SqlStub::mysql("UPDATE stock SET quantity = *"))
        .stub(
            SqlStub::mysql("SELECT ROW_COUNT() AS changed")
                .rows(&["changed"], vec![vec![SqlValue::Integer(0)]]),
        )
        .stub(SqlStub::mysql(FIND).rows(&["sku", "name", "quantity"], vec![item("w-1", 2)]))
        .load()
        .unwrap();
    let response = host.send("POST", "/items/w-1/adjust", r#"{"delta": -3}"#);
    response.assert_status(409);
    assert!(
        response.text().contains("only 2 in stock"),
        "{}",
        response.text()
    );
    host.calls()
        .assert_includes(&[r#"mysql *: UPDATE stock SET quantity = * [-3, "w-1", -3]"#]);
}

#[test]
fn an_unknown_item_is_a_404() {
    let host = VirtualHost::builder(example("mysql-inventory"))
        .stub(SqlStub::mysql(FIND).rows(&["sku", "name", "quantity"], vec![]))
        .load()
        .unwrap();
    host.get("/items/nope").assert_status(404);
}
