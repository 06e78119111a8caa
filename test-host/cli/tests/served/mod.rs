//! A `rotor up` in a process of its own, for tests that drive the command as users do.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A running `rotor up`, killed when dropped.
pub struct Served {
    child: Child,
    /// Where it serves, read from its first line of output.
    pub address: SocketAddr,
}

impl Served {
    /// Stops it and returns what it wrote to stderr.
    #[allow(dead_code)] // Not every test binary that has this module reads stderr.
    pub fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        stderr
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `command` (a `rotor up`) and waits for the line that says where it serves; panics
/// with its stderr when there is none.
pub fn serve(command: &mut Command) -> Served {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let address = banner
        .trim()
        .rsplit_once("://")
        .and_then(|(_, address)| address.parse().ok())
        .unwrap_or_else(|| {
            let mut stderr = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
            panic!("no address in {banner:?}; stderr: {stderr}")
        });
    Served { child, address }
}
