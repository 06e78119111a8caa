#[rotor_sdk::http_component]
fn hello() -> &'static str {
    "hello"
}

fn main() {}
