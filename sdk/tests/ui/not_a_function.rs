#[rotor_sdk::http_component]
struct Handler;

fn main() {}
