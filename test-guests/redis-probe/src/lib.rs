//! Handles each message on its channel by recording it in Redis: `RPUSH {record_key} payload`
//! at the address of the variable `redis_address`. A message `fail` is an error, and
//! `panic` traps, so tests can check that the host goes on; `sleep:MS` is recorded after
//! that many milliseconds, and `stall` waits for an hour.
#![forbid(unsafe_code)]

use rotor_sdk::redis::Connection;
use rotor_sdk::{redis, variables};

#[rotor_sdk::redis_component]
async fn on_message(payload: Vec<u8>) -> Result<(), String> {
    match payload.as_slice() {
        b"fail" => return Err("this message fails on purpose".into()),
        b"panic" => panic!("this message panics on purpose"),
        b"stall" => std::thread::sleep(std::time::Duration::from_secs(3600)),
        other => {
            if let Some(ms) = other.strip_prefix(b"sleep:") {
                let ms: u64 = String::from_utf8_lossy(ms).parse().unwrap_or(0);
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
        }
    }
    let address = variables::get("redis_address").map_err(|e| e.to_string())?;
    let key = variables::get("record_key").map_err(|e| e.to_string())?;
    let connection = Connection::open(&address).map_err(|e| format!("{e:?}"))?;
    connection
        .execute("RPUSH", redis::args![key.as_str(), payload])
        .map_err(|e| format!("{e:?}"))?;
    Ok(())
}
