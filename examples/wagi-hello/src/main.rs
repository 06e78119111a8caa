//! A WAGI handler: reads the request from CGI environment variables and stdin, and writes
//! a response (headers, a blank line, the body) to stdout.
//!
//! `GET /wagi/anything?x=1` answers what it received, as plain text; `POST` echoes the body
//! too. `GET /wagi/old` redirects to `/wagi/new`, and `GET /wagi/missing` is a 404, to show
//! the `location` and `status` headers.
#![forbid(unsafe_code)]

use std::io::{Read, Write};

fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let path = var("PATH_INFO");
    let mut out = std::io::stdout().lock();
    let result = match path.as_str() {
        "/old" => write!(out, "location: {}/new\n\n", var("SCRIPT_NAME")),
        "/missing" => write!(
            out,
            "status: 404 Not Found\ncontent-type: text/plain\n\nnothing at {path}\n"
        ),
        _ => {
            let mut body = String::new();
            if let Err(error) = std::io::stdin().read_to_string(&mut body) {
                eprintln!("cannot read the request body: {error}");
            }
            write!(
                out,
                "content-type: text/plain; charset=utf-8\n\n\
                 method: {}\npath: {path}\nquery: {}\nbody: {body}\n",
                var("REQUEST_METHOD"),
                var("QUERY_STRING"),
            )
        }
    };
    if let Err(error) = result.and_then(|()| out.flush()) {
        eprintln!("cannot write the response: {error}");
        std::process::exit(1);
    }
}
