#[rotor_sdk::http_component]
fn handle<T: Default>() -> String {
    String::new()
}

fn main() {}
