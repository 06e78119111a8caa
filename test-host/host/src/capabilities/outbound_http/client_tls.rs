//! A guest's `https://` request to a host that a `[[client_tls]]` entry of the runtime config
//! names for its component, sent with that entry's roots and client certificate, as Spin does.
//! (Without an entry, wasmtime-wasi-http's own sender sends it, trusting Mozilla's roots.)

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// How long connecting and each wait for the other side may take when the guest does not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Sends `request` (an `https://` one) over TLS configured by `config`: the response, and the
/// connection's own future, which carries the rest of the exchange (the body) and must be
/// driven until the response's body is read.
pub async fn send<B>(
    mut request: http::Request<B>,
    options: Option<RequestOptions>,
    config: Arc<rustls::ClientConfig>,
) -> Result<
    (
        http::Response<WasiBody>,
        impl Future<Output = Result<(), Error>> + Send,
    ),
    Error,
>
where
    B: hyper::body::Body<Data = Bytes, Error = Error> + Send + 'static,
{
    let uri = request.uri();
    let host = uri.host().ok_or(Error::HttpRequestUriInvalid)?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(443);
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let name = ServerName::try_from(host.clone()).map_err(Error::InvalidDnsNameError)?;
    let connecting = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(Error::Connect)?;
        let _ = stream.set_nodelay(true);
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(Error::Tls)?;
        hyper::client::conn::http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(Error::from)
    };
    let (mut sender, connection) = tokio::time::timeout(connect_timeout, connecting)
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    // The request line carries the path only, as to any server that is not a proxy.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    *request.uri_mut() = path.parse().map_err(|_| Error::HttpRequestUriInvalid)?;
    let mut connection = Box::pin(connection);
    let sending = sender.send_request(request);
    tokio::pin!(sending);
    // The connection carries the request while the response is awaited.
    let (response, connection_ended) = tokio::time::timeout(first_byte_timeout, async {
        tokio::select! {
            response = &mut sending => Ok((response.map_err(Error::from)?, false)),
            ended = &mut connection => {
                ended.map_err(Error::from)?;
                Ok::<_, Error>((sending.await.map_err(Error::from)?, true))
            }
        }
    })
    .await
    .map_err(|_| Error::ConnectionReadTimeout)??;
    let response = response.map(|body| body.map_err(Error::from).boxed_unsync());
    let rest = async move {
        if connection_ended {
            Ok(())
        } else {
            connection.await.map_err(Error::from)
        }
    };
    Ok((response, rest))
}
