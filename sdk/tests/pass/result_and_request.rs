use rotor_sdk::http::{Bytes, Request};

#[rotor_sdk::http_component]
fn length(request: Request<Bytes>) -> Result<String, std::num::ParseIntError> {
    let n: u32 = std::str::from_utf8(request.body()).unwrap_or("0").parse()?;
    Ok(format!("{}", n * 2))
}

fn main() {}
