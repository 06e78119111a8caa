#[rotor_sdk::redis_component]
fn on_message(payload: u64) -> Result<(), String> {
    let _ = payload;
    Ok(())
}

fn main() {}
