#[rotor_sdk::redis_component]
async fn on_message(payload: String) -> Result<(), std::fmt::Error> {
    println!("{payload}");
    Ok(())
}

fn main() {}
