//! Unit tests of `examples/http-router`: routing, extractors and CORS, with no capability.

use examples_unit_tests::example;
use rotor_test::VirtualHost;
use serde_json::json;

fn host() -> VirtualHost {
    VirtualHost::load(example("http-router")).unwrap()
}

#[test]
fn gets_a_book_and_refuses_ids_that_are_not_numbers() {
    let host = host();
    let book = host.get("/books/2").assert_status(200).json();
    assert_eq!(book["id"], 2);
    host.get("/books/abc").assert_status(400);
    host.get("/books/99").assert_status(404);
}

#[test]
fn creates_a_book_and_points_at_it() {
    let response = host().post_json(
        "/books",
        &json!({"title": "Parable of the Sower", "author": "Octavia E. Butler"}),
    );
    response.assert_status(201);
    assert_eq!(response.header("location"), Some("/books/3"));
}

#[test]
fn a_wrong_method_is_405_with_allow() {
    let response = host().send("PUT", "/books/1", "");
    response.assert_status(405);
    assert_eq!(response.header("allow"), Some("DELETE, GET, HEAD, OPTIONS"));
}
