//! The WAGI executor: a plain WASI preview 1 command module (`wasm32-wasip1`) answers an HTTP
//! request the CGI way. The request arrives as environment variables (`REQUEST_METHOD`,
//! `PATH_INFO`, `QUERY_STRING`, `HTTP_*` ...) and the body on stdin; the module writes
//! headers, a blank line and the body to stdout.
//!
//! A route opts in with `executor = { type = "wagi" }` (optionally `argv`, default
//! `"${SCRIPT_NAME} ${ARGS}"`, and `entrypoint`, default `_start`). The module gets the same
//! deadline and memory cap as a component, and its stdout is capped at
//! [`MAX_OUTPUT`] bytes.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use wasmtime::{InstancePre, StoreLimits};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::I32Exit;

use super::routes::RouteMatch;
use crate::capabilities::outbound_http::HostBody;
use crate::capabilities::ComponentCapabilities;
use crate::engine::{Engine, Limited};
use crate::manifest::{Manifest, WagiSettings};

/// The most a module may write to stdout for one request.
pub const MAX_OUTPUT: usize = 16 << 20;

/// How many WAGI requests may run at once; beyond, a request is answered 503 with
/// `Retry-After`. The host holds each one's body and output whole (up to [`MAX_BODY`] and
/// [`MAX_OUTPUT`]), so this bounds what WAGI can make it hold, about 1 GiB.
pub const MAX_IN_FLIGHT: usize = 32;

/// The largest request body handed to a module; a larger one is answered 413.
pub const MAX_BODY: usize = 16 << 20;

/// The store data of one WAGI request.
pub struct WagiState {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

impl Limited for WagiState {
    fn limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }
}

/// A prepared WAGI module.
pub struct WagiModule {
    pub(crate) name: Arc<str>,
    pre: InstancePre<WagiState>,
    settings: WagiSettings,
    component: Arc<ComponentCapabilities>,
}

/// What the host knows of one request, for the CGI variables.
pub struct RequestInfo<'a> {
    /// The route that matched.
    pub matched: &'a RouteMatch<'a, String>,
    /// Who sent it.
    pub client: SocketAddr,
}

impl WagiModule {
    /// Compiles component `name` of `manifest` as a core module and links it against WASI
    /// preview 1, which is all a WAGI module may import.
    pub fn load(
        engine: &Engine,
        manifest: &Manifest,
        name: &str,
        settings: &WagiSettings,
        component: Arc<ComponentCapabilities>,
    ) -> anyhow::Result<WagiModule> {
        let module = engine.load_module(manifest, name)?;
        let mut linker = wasmtime::Linker::new(engine.wasmtime());
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |state: &mut WagiState| {
            &mut state.wasi
        })?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "{}: component `{name}` needs imports beyond WASI preview 1, which the WAGI executor does not provide",
                    manifest.path.display()
                )
            })?;
        Ok(WagiModule {
            name: name.into(),
            pre,
            settings: settings.clone(),
            component,
        })
    }

    /// Runs the module for `request` and turns its output into a response; `Err` is a 500
    /// with the reason, for the log.
    pub async fn handle<B>(
        &self,
        engine: &Engine,
        request: Request<B>,
        info: RequestInfo<'_>,
    ) -> anyhow::Result<Response<HostBody>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let (parts, body) = request.into_parts();
        let body = body.map_err(Into::<wasmtime_wasi_http::Error>::into);
        let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            // The client sent too much, which is its mistake, not the module's: a 413.
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                return Ok(Response::builder()
                    .status(StatusCode::PAYLOAD_TOO_LARGE)
                    .body(
                        Full::new(Bytes::from_static(b"Payload Too Large"))
                            .map_err(|never| match never {})
                            .boxed_unsync(),
                    )?);
            }
            Err(error) => bail!("reading the request body: {error}"),
        };
        let mut variables = cgi_variables(&parts, &body, &info);
        // The manifest's `environment` wins over anything a client sent.
        variables.retain(|(name, _)| {
            !self
                .component
                .environment
                .iter()
                .any(|(fixed, _)| fixed == name)
        });
        let args = argv(&self.settings.argv, &variables);

        let stdout = MemoryOutputPipe::new(MAX_OUTPUT);
        let mut wasi = wasmtime_wasi::WasiCtx::builder();
        wasi.stdin(MemoryInputPipe::new(body))
            .stdout(stdout.clone())
            .stderr(self.component.output.stderr.clone())
            .args(&args)
            .envs(&self.component.environment)
            .envs(&variables);
        if let Some(files) = &self.component.files {
            files.mount(&mut wasi)?;
        }
        let mut store = engine.new_store(WagiState {
            wasi: wasi.build_p1(),
            limits: engine.store_limits(),
        });
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(anyhow::Error::from)
            .context("instantiating the module")?;
        let entry = instance
            .get_typed_func::<(), ()>(&mut store, &self.settings.entrypoint)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "the module exports no `{}` function taking and returning nothing",
                    self.settings.entrypoint
                )
            })?;
        let deadline = engine.config().request_deadline + std::time::Duration::from_secs(1);
        let outcome = tokio::time::timeout(deadline, entry.call_async(&mut store, ()))
            .await
            .map_err(|_| anyhow::anyhow!("no answer within the {deadline:?} deadline"))?;
        drop(store);
        let output = stdout.contents();
        match outcome {
            Ok(()) => {}
            Err(error) => match error.downcast_ref::<I32Exit>() {
                Some(I32Exit(0)) => {}
                Some(I32Exit(code)) => bail!("the module exited with status {code}"),
                None if output.len() >= MAX_OUTPUT => {
                    bail!("the module wrote more than the {MAX_OUTPUT}-byte output limit")
                }
                None => return Err(anyhow::Error::from(error).context("the module failed")),
            },
        }
        parse_output(&output)
    }
}

/// The CGI and WAGI variables for one request.
fn cgi_variables(
    parts: &http::request::Parts,
    body: &Bytes,
    info: &RequestInfo<'_>,
) -> Vec<(String, String)> {
    let header = |name: http::header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let host = header(http::header::HOST);
    let (server_name, server_port) = match host.rsplit_once(':') {
        Some((name, port)) if port.parse::<u16>().is_ok() => (name.to_owned(), port.to_owned()),
        _ if host.is_empty() => ("localhost".to_owned(), "80".to_owned()),
        _ => (host.clone(), "80".to_owned()),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut variables = vec![
        ("GATEWAY_INTERFACE", "CGI/1.1".to_owned()),
        (
            "SERVER_SOFTWARE",
            format!("rotor/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("SERVER_PROTOCOL", format!("{:?}", parts.version)),
        ("SERVER_NAME", server_name),
        ("SERVER_PORT", server_port),
        ("REQUEST_METHOD", parts.method.to_string()),
        ("SCRIPT_NAME", info.matched.component_route.clone()),
        ("PATH_INFO", percent_decode(&info.matched.path_info)),
        ("PATH_TRANSLATED", percent_decode(&info.matched.path_info)),
        ("X_RAW_PATH_INFO", info.matched.path_info.clone()),
        ("QUERY_STRING", parts.uri.query().unwrap_or("").to_owned()),
        ("REMOTE_ADDR", info.client.ip().to_string()),
        ("REMOTE_HOST", info.client.ip().to_string()),
        ("REMOTE_USER", String::new()),
        ("AUTH_TYPE", String::new()),
        ("CONTENT_TYPE", header(http::header::CONTENT_TYPE)),
        ("CONTENT_LENGTH", body.len().to_string()),
        ("X_MATCHED_ROUTE", info.matched.route.to_owned()),
        ("X_COMPONENT_ROUTE", info.matched.component_route.clone()),
        (
            "X_FULL_URL",
            format!(
                "{}://{}{path_and_query}",
                if parts.extensions.get::<super::tls::OverTls>().is_some() {
                    "https"
                } else {
                    "http"
                },
                if host.is_empty() { "localhost" } else { &host }
            ),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect::<Vec<_>>();
    for (name, value) in &parts.headers {
        // `Content-Type` and `Content-Length` have CGI variables of their own; RFC 3875
        // (4.1.18) leaves out `Authorization` and `Connection`, as Spin does; and a `Proxy`
        // header must never become `HTTP_PROXY`, which HTTP clients read as their proxy
        // ("httpoxy").
        if [
            http::header::CONTENT_TYPE,
            http::header::CONTENT_LENGTH,
            http::header::AUTHORIZATION,
            http::header::CONNECTION,
        ]
        .contains(name)
            || name.as_str() == "proxy"
        {
            continue;
        }
        let key = format!(
            "HTTP_{}",
            name.as_str().to_ascii_uppercase().replace('-', "_")
        );
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match variables.iter_mut().find(|(k, _)| *k == key) {
            // Repeated headers join as one value, as CGI servers do.
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            None => variables.push((key, value)),
        }
    }
    variables
}

/// Fills the `argv` template.
fn argv(template: &str, variables: &[(String, String)]) -> Vec<String> {
    let lookup = |name: &str| {
        variables
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut args = Vec::new();
    for word in template.split_whitespace() {
        match word {
            "${ARGS}" => args.extend(
                lookup("QUERY_STRING")
                    .split('&')
                    .filter(|part| !part.is_empty())
                    .map(percent_decode),
            ),
            word => args.push(word.replace("${SCRIPT_NAME}", lookup("SCRIPT_NAME"))),
        }
    }
    args
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Turns a module's stdout into a response: header lines, a blank line, the body.
///
/// `status: 404 Not Found` sets the status; a `location` header without a status makes a 302.
/// Output without the blank line, or with a status or header that does not parse, is an
/// error.
pub fn parse_output(output: &[u8]) -> anyhow::Result<Response<HostBody>> {
    let (head, body) = split_head(output).ok_or_else(|| {
        anyhow::anyhow!(
            "the module's output has no blank line after its headers ({} bytes written)",
            output.len()
        )
    })?;
    let head = std::str::from_utf8(head).context("the module's headers are not UTF-8")?;
    let mut response = Response::builder();
    let mut status = None;
    let mut has_location = false;
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            bail!("the module wrote a header line without a colon: {line:?}");
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            let code = value.split_whitespace().next().unwrap_or("");
            let code = code
                .parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| anyhow::anyhow!("the module wrote an invalid status: {value:?}"))?;
            status = Some(code);
            continue;
        }
        if name.eq_ignore_ascii_case("location") {
            has_location = true;
        }
        let name = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("the module wrote an invalid header name: {name:?}"))?;
        let value = HeaderValue::from_str(value)
            .with_context(|| format!("the module wrote an invalid value for {name}"))?;
        response = response.header(name, value);
    }
    let status = status.unwrap_or(if has_location {
        StatusCode::FOUND
    } else {
        StatusCode::OK
    });
    Ok(response.status(status).body(
        Full::new(Bytes::copy_from_slice(body))
            .map_err(|never| match never {})
            .boxed_unsync(),
    )?)
}

/// Splits at the first blank line (`\n\n` or `\r\n\r\n`); a module that writes only a
/// blank line has no headers.
fn split_head(output: &[u8]) -> Option<(&[u8], &[u8])> {
    if let Some(rest) = output.strip_prefix(b"\r\n").or(output.strip_prefix(b"\n")) {
        return Some((&[], rest));
    }
    let lf = output.windows(2).position(|w| w == b"\n\n");
    let crlf = output.windows(4).position(|w| w == b"\r\n\r\n");
    match (lf, crlf) {
        (Some(a), Some(b)) if b < a => Some((&output[..b], &output[b + 4..])),
        (Some(a), _) => Some((&output[..a], &output[a + 2..])),
        (None, Some(b)) => Some((&output[..b], &output[b + 4..])),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response<HostBody>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn output_is_headers_then_body() {
        let response =
            parse_output(b"content-type: text/plain\nx-one: 1\n\nhello\n\nworld").unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert_eq!(response.headers()["x-one"], "1");
        assert_eq!(body(response).await, "hello\n\nworld");

        let response = parse_output(b"Status: 404 Not Found\r\n\r\ngone").unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(body(response).await, "gone");

        let response = parse_output(b"\nno headers").unwrap();
        assert_eq!(body(response).await, "no headers");
    }

    #[test]
    fn a_location_without_status_redirects() {
        let response = parse_output(b"location: /elsewhere\n\n").unwrap();
        assert_eq!(response.status(), 302);
        assert_eq!(response.headers()["location"], "/elsewhere");
        let response = parse_output(b"status: 301\nlocation: /moved\n\n").unwrap();
        assert_eq!(response.status(), 301);
    }

    #[test]
    fn broken_output_says_why() {
        let error = parse_output(b"content-type: text/plain\nno blank line").unwrap_err();
        assert!(error.to_string().contains("no blank line"), "{error}");
        let error = parse_output(b"status: lots\n\n").unwrap_err();
        assert!(error.to_string().contains("invalid status"), "{error}");
        let error = parse_output(b"status: 99\n\n").unwrap_err();
        assert!(error.to_string().contains("invalid status"), "{error}");
        let error = parse_output(b"just words\n\n").unwrap_err();
        assert!(error.to_string().contains("without a colon"), "{error}");
    }

    #[test]
    fn argv_fills_the_script_and_the_query() {
        let variables = vec![
            ("SCRIPT_NAME".to_owned(), "/wagi".to_owned()),
            ("QUERY_STRING".to_owned(), "a&b%20c&&d=1".to_owned()),
        ];
        assert_eq!(
            argv(crate::manifest::DEFAULT_WAGI_ARGV, &variables),
            ["/wagi", "a", "b c", "d=1"]
        );
        assert_eq!(argv("tool --x", &variables), ["tool", "--x"]);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
