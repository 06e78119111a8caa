//! `rotor up` stops on SIGTERM (what `kill`, systemd and Kubernetes send) as on Ctrl-C: a
//! request that started before the signal still gets its answer, and the process exits 0.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::StatusCode;
use rotor_spec::client;

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let dir = common::app_dir(&common::probe_manifest(""));
    let mut rotor = std::process::Command::new(env!("CARGO_BIN_EXE_rotor"))
        .args(["up", "--no-cache", "--listen", "127.0.0.1:0"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(rotor.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let address: SocketAddr = banner
        .trim()
        .rsplit_once("http://")
        .and_then(|(_, address)| address.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let slow = runtime.spawn(client::get(address, "/sleep/2000"));
    std::thread::sleep(Duration::from_millis(500));
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &rotor.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());

    let response = runtime
        .block_on(slow)
        .unwrap()
        .expect("the request in flight was dropped");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), "slept 2000 ms");

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = rotor.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "rotor up did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let rest: Vec<String> = stdout.lines().map_while(Result::ok).collect();
    assert!(rest.iter().any(|line| line == "Stopped."), "{rest:?}");
}
