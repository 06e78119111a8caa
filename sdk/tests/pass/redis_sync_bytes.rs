#[rotor_sdk::redis_component]
fn on_message(payload: rotor_sdk::http::Bytes) {
    println!("{} bytes", payload.len());
}

fn main() {}
