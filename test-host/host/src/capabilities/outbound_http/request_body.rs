//! A guest's outbound request body, kept open for the guest after the host is done with it.
//!
//! hyper drops a request's body as soon as it has sent what the headers announced (at once,
//! for `content-length: 0`), and the peer may answer and hang up before reading it; a request
//! to `self` ends when the app has answered. Dropping the body closes the guest's
//! `outgoing-body` stream, so a guest that writes its body after handing the request over,
//! as Python's `spin-sdk` does, gets `closed` from `check-write` for a request that went well.
//! [`KeptOpen`] instead goes on reading (and discarding) what the guest writes, until the
//! guest finishes the body or drops it; the guest's instance, bounded by its request's
//! deadline, bounds that too.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::{Error, WasiBody};

/// Wraps `body` so that whoever drops it early leaves it open for the guest.
pub fn kept_open(body: WasiBody) -> WasiBody {
    KeptOpen {
        inner: Some(body),
        ended: false,
    }
    .boxed_unsync()
}

/// See the module documentation.
struct KeptOpen {
    /// `None` once handed to the task that drains it.
    inner: Option<WasiBody>,
    /// Whether the guest finished the body (or it failed), so there is nothing to drain.
    ended: bool,
}

impl Body for KeptOpen {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(context);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for KeptOpen {
    fn drop(&mut self) {
        let Some(mut body) = self.inner.take() else {
            return;
        };
        if self.ended || body.is_end_stream() {
            return;
        }
        // Outside a runtime (a host being torn down) there is no guest left to write.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { while let Some(Ok(_)) = body.frame().await {} });
        }
    }
}
