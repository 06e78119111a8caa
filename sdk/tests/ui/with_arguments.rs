#[rotor_sdk::http_component(route = "/")]
fn handle() -> &'static str {
    "hello"
}

fn main() {}
