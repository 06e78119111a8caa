//! Benchmark reference: the hello service as a plain native hyper server, on the same HTTP
//! stack as `rotor up`, so that `cargo xtask bench` can report what running it as a
//! WebAssembly component costs. Usage: `native_hello 127.0.0.1:3001`.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

fn greet(request: &Request<hyper::body::Incoming>) -> String {
    let name = request
        .uri()
        .query()
        .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("name=")))
        .unwrap_or("world");
    format!("Hello, {name}!\n")
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3001".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("Serving on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|request: Request<hyper::body::Incoming>| async move {
                let mut response = Response::new(Full::new(Bytes::from(greet(&request))));
                response
                    .headers_mut()
                    .insert("content-type", "text/plain; charset=utf-8".parse().unwrap());
                Ok::<_, Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
