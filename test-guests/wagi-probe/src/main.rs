//! Probes the WAGI executor; what it does depends on the first `&`-part of the query
//! (which also arrives as the first argument after the script name):
//!
//! - `env`: every environment variable, `NAME=value` per line, sorted, then `argv` and the
//!   body from stdin;
//! - `no-blank`: headers without the blank line;
//! - `bad-status`: a status that does not parse;
//! - `flood`: more output than the host accepts;
//! - `loop`: never ends; `exit`: exits with status 3;
//! - `sleep`: answers `fine` after a second and a half.
#![forbid(unsafe_code)]

use std::io::{Read, Write};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    match mode.as_str() {
        "env" => {
            let mut vars: Vec<(String, String)> = std::env::vars().collect();
            vars.sort();
            let _ = write!(out, "content-type: text/plain\n\n");
            for (name, value) in vars {
                let _ = writeln!(out, "{name}={value}");
            }
            let args: Vec<String> = std::env::args().collect();
            let _ = writeln!(out, "argv={}", args.join(" "));
            let mut body = String::new();
            let _ = std::io::stdin().read_to_string(&mut body);
            let _ = write!(out, "stdin={body}");
        }
        "no-blank" => {
            let _ = write!(out, "content-type: text/plain\nno blank line follows");
        }
        "bad-status" => {
            let _ = write!(out, "status: lots\n\nbody");
        }
        "flood" => {
            let _ = write!(out, "content-type: text/plain\n\n");
            let chunk = vec![b'x'; 1 << 20];
            for _ in 0..64 {
                if out.write_all(&chunk).is_err() {
                    std::process::exit(2);
                }
            }
        }
        "loop" => {
            let mut counter: u64 = 0;
            loop {
                counter = std::hint::black_box(counter.wrapping_add(1));
            }
        }
        "exit" => std::process::exit(3),
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let _ = write!(out, "content-type: text/plain\n\nfine");
        }
        _ => {
            let _ = write!(out, "content-type: text/plain\n\nfine");
        }
    }
}
