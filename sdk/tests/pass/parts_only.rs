use rotor_sdk::http::{Method, Query};

#[derive(serde::Deserialize)]
struct Greeting {
    name: Option<String>,
}

#[rotor_sdk::http_component]
fn hello(method: Method, Query(greeting): Query<Greeting>) -> String {
    format!("{method} hello, {}", greeting.name.unwrap_or_default())
}

fn main() {}
