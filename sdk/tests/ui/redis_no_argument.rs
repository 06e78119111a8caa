#[rotor_sdk::redis_component]
fn on_message() -> Result<(), String> {
    Ok(())
}

fn main() {}
