//! Unit tests of `examples/http-outbound`: the backend is stubbed, and its requests are
//! checked.

use std::time::Duration;

use examples_unit_tests::example;
use rotor_test::stubs::HttpStub;
use rotor_test::{HttpFailure, VirtualHost};
use serde_json::json;

const BACKEND: &str = "https://backend.test";

fn host() -> rotor_test::VirtualHostBuilder {
    VirtualHost::builder(example("http-outbound")).variable("backend_url", BACKEND)
}

#[test]
fn summarises_a_user_from_two_backend_calls() {
    let host = host()
        .stub(HttpStub::get("https://backend.test/users/1").json(&json!({
            "id": 1, "name": "Leanne Graham", "email": "Sincere@April.BIZ",
            "address": {"city": "Gwenborough"}
        })))
        .stub(
            HttpStub::get("https://backend.test/users/1/todos").json(&json!([
                {"id": 1, "completed": false}, {"id": 2, "completed": true}
            ])),
        )
        .load()
        .unwrap();
    let summary = host.get("/users/1/summary").assert_status(200).json();
    assert_eq!(
        summary,
        json!({
            "id": 1, "name": "Leanne Graham", "email_domain": "april.biz",
            "city": "Gwenborough", "todos": {"total": 2, "done": 1}
        })
    );
    let calls = host.calls();
    calls.assert_lines(&[
        "http GET https://backend.test/users/1",
        "http GET https://backend.test/users/1/todos",
    ]);
}

#[test]
fn a_failing_or_unreachable_backend_is_a_502() {
    let host = host()
        .stub(
            HttpStub::get("https://backend.test/users/3")
                .status(500)
                .body("exploded"),
        )
        .stub(HttpStub::get("https://backend.test/users/5").fail(HttpFailure::ConnectionRefused))
        .load()
        .unwrap();
    let response = host.get("/users/3/summary");
    response.assert_status(502);
    assert!(!response.text().contains("exploded"), "{}", response.text());
    host.get("/users/5/summary").assert_status(502);
}

#[test]
fn an_unknown_user_is_a_404() {
    let host = host()
        .stub(HttpStub::get("https://backend.test/users/*").status(404))
        .load()
        .unwrap();
    host.get("/users/99/summary").assert_status(404);
}

#[test]
fn a_slow_backend_meets_the_request_deadline() {
    let host = host()
        .request_deadline(Duration::from_millis(500))
        .stub(HttpStub::get("https://backend.test/*").delay(Duration::from_secs(30)))
        .load()
        .unwrap();
    let started = std::time::Instant::now();
    let response = host.get("/users/1/summary");
    assert!(response.status >= 500, "status {}", response.status);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
