#[rotor_sdk::http_component]
fn handle(count: u32) -> String {
    count.to_string()
}

fn main() {}
