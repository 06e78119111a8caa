//! Unit tests of `examples/http-hello`.

use examples_unit_tests::example;
use rotor_test::VirtualHost;

fn host() -> VirtualHost {
    VirtualHost::load(example("http-hello")).expect("loading http-hello (build it first)")
}

#[test]
fn greets_the_world_by_default() {
    let response = host().get("/hello");
    response.assert_status(200);
    assert_eq!(response.text(), "Hello, world!\n");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[test]
fn greets_by_the_decoded_name_and_calls_nothing() {
    let host = host();
    let response = host.get("/hello?name=Ada%20Lovelace");
    assert_eq!(response.text(), "Hello, Ada Lovelace!\n");
    host.calls().assert_lines(&[]);
}

#[test]
fn answers_nothing_outside_its_route() {
    host().get("/goodbye").assert_status(404);
}
