//! Unit tests of `examples/wagi-hello`: a WAGI module (wasm32-wasip1) runs on the virtual
//! host like a component.

use examples_unit_tests::example;
use rotor_test::VirtualHost;

#[test]
fn echoes_what_it_received() {
    let host = VirtualHost::load(example("wagi-hello")).unwrap();
    let response = host.send("POST", "/wagi/echo?x=1", "hello, CGI");
    response.assert_status(200);
    assert_eq!(
        response.text(),
        "method: POST\npath: /echo\nquery: x=1\nbody: hello, CGI\n"
    );
    let redirect = host.get("/wagi/old");
    redirect.assert_status(302);
    assert_eq!(redirect.header("location"), Some("/wagi/new"));
}
