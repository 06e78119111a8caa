//! TLS to PostgreSQL: libpq's `sslmode` values, over rustls.
//!
//! | `sslmode` | here |
//! |---|---|
//! | `disable` | no TLS |
//! | `allow`, `prefer` (the default) | TLS when the server offers it, plain otherwise; the certificate is not checked (as in libpq without a root certificate file) |
//! | `require`, `verify-full` | TLS or no connection; the certificate must chain to a trusted root and name the host (stricter than libpq's `require`, which checks nothing, and what Spin does) |
//! | `verify-ca` | TLS or no connection; the certificate must chain to a trusted root, whatever name it carries |
//!
//! Trusted roots are the platform's, or what the runtime config's `[[client_tls]]` says for
//! the component and host.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::{InvalidDnsNameError, ServerName};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio_postgres::Socket;

use crate::capabilities::client_tls::Verification;

/// What an address's `sslmode` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS if the server offers it, unchecked.
    Prefer,
    /// TLS, checked this much.
    Require(Verification),
}

/// Splits `sslmode` off `address` (a URL or libpq's `key=value` form): tokio-postgres reads
/// only three of its six values, so it never sees the parameter.
pub fn take_ssl_mode(address: &str) -> Result<(String, SslMode), String> {
    let mut mode = None;
    let mut keep = |pair: &str| -> Result<bool, String> {
        let Some((key, value)) = pair.split_once('=') else {
            return Ok(true);
        };
        if key.trim() != "sslmode" {
            return Ok(true);
        }
        mode = Some(parse_mode(
            value.trim().trim_matches('\'').trim_matches('"'),
        )?);
        Ok(false)
    };
    let rest = if address.starts_with("postgres://") || address.starts_with("postgresql://") {
        match address.split_once('?') {
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&') {
                    if keep(pair)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => address.to_owned(),
        }
    } else {
        let mut kept = Vec::new();
        for pair in address.split_whitespace() {
            if keep(pair)? {
                kept.push(pair);
            }
        }
        kept.join(" ")
    };
    Ok((rest, mode.unwrap_or(SslMode::Prefer)))
}

fn parse_mode(value: &str) -> Result<SslMode, String> {
    Ok(match value {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        "require" | "verify-full" => SslMode::Require(Verification::Full),
        "verify-ca" => SslMode::Require(Verification::ChainOnly),
        other => {
            return Err(format!(
                "invalid sslmode {other:?}; expected disable, allow, prefer, require, verify-ca or verify-full"
            ))
        }
    })
}

impl SslMode {
    /// The mode tokio-postgres is told.
    pub fn driver_mode(self) -> tokio_postgres::config::SslMode {
        match self {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require(_) => tokio_postgres::config::SslMode::Require,
        }
    }

    /// How much of the certificate is checked, when TLS is tried at all.
    pub fn verification(self) -> Option<Verification> {
        match self {
            SslMode::Disable => None,
            SslMode::Prefer => Some(Verification::Unverified),
            SslMode::Require(verification) => Some(verification),
        }
    }
}

/// tokio-postgres's TLS hook, over rustls.
#[derive(Clone)]
pub struct RustlsConnect(pub Arc<ClientConfig>);

impl MakeTlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type TlsConnect = RustlsHandshake;
    type Error = InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsHandshake, InvalidDnsNameError> {
        Ok(RustlsHandshake {
            config: self.0.clone(),
            name: ServerName::try_from(domain.to_owned())?,
        })
    }
}

/// One connection's handshake, to the server `name`.
pub struct RustlsHandshake {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl TlsConnect<Socket> for RustlsHandshake {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await
                .map(|stream| RustlsStream(Box::new(stream)))
        })
    }
}

/// A connection to the server over TLS.
pub struct RustlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl AsyncRead for RustlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_shutdown(cx)
    }
}

impl tokio_postgres::tls::TlsStream for RustlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM without channel binding, which servers accept unless told to require it.
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_taken_off_urls_and_key_value_addresses() {
        let cases = [
            ("postgres://u@h/db", "postgres://u@h/db", SslMode::Prefer),
            (
                "postgres://u@h/db?sslmode=verify-ca",
                "postgres://u@h/db",
                SslMode::Require(Verification::ChainOnly),
            ),
            (
                "postgresql://u@h/db?connect_timeout=3&sslmode=require&application_name=x",
                "postgresql://u@h/db?connect_timeout=3&application_name=x",
                SslMode::Require(Verification::Full),
            ),
            (
                "host=h user=u sslmode=disable dbname=db",
                "host=h user=u dbname=db",
                SslMode::Disable,
            ),
            ("host=h sslmode='allow'", "host=h", SslMode::Prefer),
            (
                "postgres://h/db?sslmode=verify-full",
                "postgres://h/db",
                SslMode::Require(Verification::Full),
            ),
        ];
        for (address, rest, mode) in cases {
            assert_eq!(
                take_ssl_mode(address).unwrap(),
                (rest.to_owned(), mode),
                "{address}"
            );
        }
        let error = take_ssl_mode("postgres://h/db?sslmode=always").unwrap_err();
        assert!(
            error.contains("\"always\"") && error.contains("verify-full"),
            "{error}"
        );
    }
}
