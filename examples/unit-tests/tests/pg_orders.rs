//! Unit tests of `examples/pg-orders`: PostgreSQL is stubbed per statement, and the
//! statements the app runs are checked with their parameters.

use examples_unit_tests::example;
use rotor_test::stubs::SqlStub;
use rotor_test::{SqlValue, VirtualHost};
use serde_json::json;

const COLUMNS: &[&str] = &[
    "id",
    "customer",
    "item",
    "quantity",
    "unit_price_cents",
    "shipped",
    "note",
];

fn order(id: i64, customer: &str, shipped: bool) -> Vec<SqlValue> {
    vec![
        SqlValue::Integer(id),
        SqlValue::Text(customer.into()),
        SqlValue::Text("widget".into()),
        SqlValue::Integer(3),
        SqlValue::Integer(250),
        SqlValue::Boolean(shipped),
        SqlValue::Null,
    ]
}

#[test]
fn creating_an_order_inserts_it_with_its_parameters() {
    let host = VirtualHost::builder(example("pg-orders"))
        .stub(SqlStub::postgres("INSERT INTO orders *").rows(COLUMNS, vec![order(7, "ada", false)]))
        .load()
        .unwrap();
    let response = host.post_json(
        "/orders",
        &json!({"customer": "ada", "item": "widget", "quantity": 3, "unit_price_cents": 250}),
    );
    response.assert_status(201);
    assert_eq!(response.header("location"), Some("/orders/7"));
    assert_eq!(response.json()["total_cents"], 750);
    host.calls().assert_lines(&[
        r#"postgres postgres://postgres@127.0.0.1:5432/test: INSERT INTO orders (customer, item, quantity, unit_price_cents, note) VALUES ($1, $2, $3, $4, $5) RETURNING * ["ada", "widget", 3, 250, NULL]"#,
    ]);
}

#[test]
fn lists_one_customers_orders_by_parameter() {
    let host = VirtualHost::builder(example("pg-orders"))
        .stub(
            SqlStub::postgres("SELECT * FROM orders WHERE customer = $1 ORDER BY id")
                .with_parameters(vec![SqlValue::Text("ada".into())])
                .rows(COLUMNS, vec![order(1, "ada", true), order(4, "ada", false)]),
        )
        .load()
        .unwrap();
    let orders = host.get("/orders?customer=ada").assert_status(200).json();
    let ids: Vec<i64> = orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 4]);
}

#[test]
fn a_database_error_is_a_500_and_a_missing_order_a_404() {
    let host = VirtualHost::builder(example("pg-orders"))
        .stub(SqlStub::postgres("SELECT * FROM orders ORDER BY id").fail("connection reset"))
        .stub(SqlStub::postgres("SELECT * FROM orders WHERE id = $1").rows(COLUMNS, vec![]))
        .load()
        .unwrap();
    host.get("/orders").assert_status(500);
    host.get("/orders/12").assert_status(404);
    host.calls()
        .assert_includes(&["postgres *: SELECT * FROM orders WHERE id = $1 [12]"]);
}

#[test]
fn deleting_runs_one_delete() {
    let host = VirtualHost::builder(example("pg-orders"))
        .stub(SqlStub::postgres("DELETE FROM orders WHERE id = $1").rows_affected(1))
        .load()
        .unwrap();
    host.send("DELETE", "/orders/3", "").assert_status(204);
    host.calls()
        .assert_lines(&["postgres *: DELETE FROM orders WHERE id = $1 [3]"]);
}
