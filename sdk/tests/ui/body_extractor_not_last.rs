#[rotor_sdk::http_component]
fn handle(body: String, extra: String) -> String {
    body + &extra
}

fn main() {}
