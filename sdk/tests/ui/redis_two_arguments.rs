#[rotor_sdk::redis_component]
fn on_message(payload: Vec<u8>, extra: u32) -> Result<(), String> {
    let _ = (payload, extra);
    Ok(())
}

fn main() {}
