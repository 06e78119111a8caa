#[rotor_sdk::http_component]
fn handle() -> u32 {
    42
}

fn main() {}
