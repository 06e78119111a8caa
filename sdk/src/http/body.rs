//! Request and response bodies.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;

use crate::bindings::platform::wasi::http::types as wasi_http;
use crate::bindings::platform::wasi::io::streams::{InputStream, OutputStream, StreamError};
use crate::executor::wait_for;

/// How many bytes one read from the host asks for.
const READ_CHUNK: u64 = 64 * 1024;

/// An error while reading or writing a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    message: String,
}

impl BodyError {
    /// An error with the given description.
    pub fn new(message: impl Into<String>) -> Self {
        BodyError {
            message: message.into(),
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BodyError {}

impl From<StreamError> for BodyError {
    fn from(error: StreamError) -> Self {
        match error {
            StreamError::Closed => BodyError::new("the stream is closed"),
            // The host's own description: formatting the error code here would put the
            // formatting of all of `wasi:http`'s error codes into every component.
            StreamError::LastOperationFailed(e) => BodyError::new(e.to_debug_string()),
        }
    }
}

/// The body of an incoming request, read chunk by chunk as it arrives.
///
/// Use it (through `http::Request<IncomingBody>`) for bodies too large to buffer; the
/// extractors `Bytes`, `String`, `Json<T>` and `http::Request<Bytes>` buffer it for you.
///
/// ```no_run
/// use rotor_sdk::http::{IncomingBody, Request};
///
/// async fn count_bytes(request: Request<IncomingBody>) -> String {
///     let mut body = request.into_body();
///     let mut total = 0;
///     while let Ok(Some(chunk)) = body.chunk().await {
///         total += chunk.len();
///     }
///     format!("{total} bytes")
/// }
/// ```
pub struct IncomingBody {
    source: Source,
}

enum Source {
    // Field order matters: the stream is a child of the body and must be dropped first.
    Host {
        stream: Option<InputStream>,
        _body: wasi_http::IncomingBody,
        // An outbound response's body is a child of the response, which must outlive it.
        _response: Option<wasi_http::IncomingResponse>,
    },
    Memory(Option<Bytes>),
}

impl IncomingBody {
    pub(crate) fn from_host(body: wasi_http::IncomingBody) -> Result<Self, BodyError> {
        let stream = body
            .stream()
            .map_err(|()| BodyError::new("the request body stream was already taken"))?;
        Ok(IncomingBody {
            source: Source::Host {
                stream: Some(stream),
                _body: body,
                _response: None,
            },
        })
    }

    pub(crate) fn from_response(
        body: wasi_http::IncomingBody,
        response: wasi_http::IncomingResponse,
    ) -> Result<Self, BodyError> {
        let mut incoming = IncomingBody::from_host(body)?;
        if let Source::Host { _response, .. } = &mut incoming.source {
            *_response = Some(response);
        }
        Ok(incoming)
    }

    /// A body that yields `bytes` as a single chunk; useful in tests.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        IncomingBody {
            source: Source::Memory((!bytes.is_empty()).then_some(bytes)),
        }
    }

    /// The next chunk, or `None` at the end of the body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        match &mut self.source {
            Source::Memory(rest) => Ok(rest.take()),
            Source::Host { stream, .. } => loop {
                let Some(input) = stream.as_ref() else {
                    return Ok(None);
                };
                match input.read(READ_CHUNK) {
                    Ok(data) if data.is_empty() => wait_for(input.subscribe()).await,
                    Ok(data) => return Ok(Some(Bytes::from(data))),
                    Err(StreamError::Closed) => {
                        *stream = None;
                        return Ok(None);
                    }
                    Err(error) => return Err(error.into()),
                }
            },
        }
    }

    /// Reads the rest of the body into memory.
    pub async fn bytes(mut self) -> Result<Bytes, BodyError> {
        let mut collected = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            if collected.is_empty() && self.is_finished() {
                return Ok(chunk);
            }
            collected.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(collected))
    }

    /// Reads the rest of the body as UTF-8 text.
    ///
    /// ```no_run
    /// # async fn example(body: rotor_sdk::http::IncomingBody) -> Result<(), rotor_sdk::http::BodyError> {
    /// let text = body.text().await?;
    /// # let _ = text; Ok(()) }
    /// ```
    pub async fn text(self) -> Result<String, BodyError> {
        let bytes = self.bytes().await?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| BodyError::new(format!("the body is not UTF-8: {e}")))
    }

    /// Reads the rest of the body and parses it as JSON into a `T`.
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct Item { id: u64 }
    ///
    /// # async fn example(body: rotor_sdk::http::IncomingBody) -> Result<(), rotor_sdk::http::BodyError> {
    /// let item: Item = body.json().await?;
    /// # let _ = item.id; Ok(()) }
    /// ```
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T, BodyError> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| BodyError::new(format!("the body is not the JSON expected: {e}")))
    }

    fn is_finished(&self) -> bool {
        match &self.source {
            Source::Memory(rest) => rest.is_none(),
            Source::Host { stream, .. } => stream.is_none(),
        }
    }
}

impl From<Bytes> for IncomingBody {
    fn from(bytes: Bytes) -> Self {
        IncomingBody::from_bytes(bytes)
    }
}

impl std::io::Read for IncomingBody {
    /// Blocking read, for code written against `std::io`.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.source {
            Source::Memory(rest) => {
                let Some(bytes) = rest.as_mut() else {
                    return Ok(0);
                };
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes.split_to(n));
                if bytes.is_empty() {
                    *rest = None;
                }
                Ok(n)
            }
            Source::Host { stream, .. } => {
                let Some(input) = stream.as_ref() else {
                    return Ok(0);
                };
                match input.blocking_read(buf.len().min(READ_CHUNK as usize) as u64) {
                    Ok(data) => {
                        buf[..data.len()].copy_from_slice(&data);
                        Ok(data.len())
                    }
                    Err(StreamError::Closed) => {
                        *stream = None;
                        Ok(0)
                    }
                    Err(error) => Err(std::io::Error::other(BodyError::from(error))),
                }
            }
        }
    }
}

impl fmt::Debug for IncomingBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingBody").finish_non_exhaustive()
    }
}

type StreamProducer =
    Box<dyn FnOnce(BodyWriter) -> Pin<Box<dyn Future<Output = Result<(), String>>>>>;

/// The body of an outgoing response: bytes held in memory, or a stream produced while the
/// response is being sent.
///
/// ```no_run
/// use rotor_sdk::http::Body;
///
/// let whole = Body::from("hello");
/// let streamed = Body::stream(|mut writer| async move {
///     for line in 0..1000 {
///         writer.write(format!("line {line}\n").as_bytes()).await?;
///     }
///     Ok::<_, rotor_sdk::http::BodyError>(())
/// });
/// ```
pub struct Body {
    kind: BodyKind,
}

enum BodyKind {
    Full(Bytes),
    Stream(StreamProducer),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body::from(Bytes::new())
    }

    /// A body written by `produce` after the status and headers have been sent.
    ///
    /// If `produce` fails, the error is logged to stderr and the response is cut short, so the
    /// client sees a broken transfer rather than a body that looks complete.
    pub fn stream<F, Fut, E>(produce: F) -> Self
    where
        F: FnOnce(BodyWriter) -> Fut + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
        E: fmt::Display + 'static,
    {
        Body {
            kind: BodyKind::Stream(Box::new(move |writer| {
                let future = produce(writer);
                Box::pin(async move { future.await.map_err(|e| e.to_string()) })
            })),
        }
    }

    /// The bytes of a body held in memory; `None` for a streamed body.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            BodyKind::Full(bytes) => Some(bytes),
            BodyKind::Stream(_) => None,
        }
    }

    /// Collects the whole body, running the producer of a streamed body into memory.
    pub async fn collect(self) -> Result<Bytes, BodyError> {
        if let BodyKind::Full(bytes) = self.kind {
            return Ok(bytes);
        }
        let buffer = Rc::new(RefCell::new(Vec::new()));
        self.write_to(BodyWriter {
            sink: Sink::Memory(buffer.clone()),
        })
        .await?;
        let collected = std::mem::take(&mut *buffer.borrow_mut());
        Ok(Bytes::from(collected))
    }

    async fn write_to(self, mut writer: BodyWriter) -> Result<(), BodyError> {
        match self.kind {
            BodyKind::Full(bytes) => writer.write(&bytes).await,
            BodyKind::Stream(produce) => produce(writer).await.map_err(BodyError::new),
        }
    }

    /// Writes the body to the host and finishes it.
    pub(crate) async fn send(self, body: wasi_http::OutgoingBody) -> Result<(), BodyError> {
        if matches!(&self.kind, BodyKind::Full(bytes) if bytes.is_empty()) {
            return wasi_http::OutgoingBody::finish(body, None).map_err(|e| finish_failed(&e));
        }
        let stream = Rc::new(
            body.write()
                .map_err(|()| BodyError::new("the response body stream was already taken"))?,
        );
        self.write_to(BodyWriter {
            sink: Sink::Host(stream.clone()),
        })
        .await?;
        let stream = Rc::try_unwrap(stream)
            .map_err(|_| BodyError::new("a BodyWriter was kept after its producer finished"))?;
        flush(&stream).await?;
        // The stream is a child of the body: it must be gone before the body is finished.
        drop(stream);
        wasi_http::OutgoingBody::finish(body, None).map_err(|e| finish_failed(&e))
    }
}

/// Why the host would not finish a body, in a few words (see `From<StreamError>` for why not
/// all of them).
fn finish_failed(code: &wasi_http::ErrorCode) -> BodyError {
    use wasi_http::ErrorCode;
    let reason = match code {
        ErrorCode::HttpRequestBodySize(_) | ErrorCode::HttpResponseBodySize(_) => {
            "its length is not the one its content-length header gave"
        }
        ErrorCode::InternalError(Some(detail)) => detail.as_str(),
        _ => "the host refused it",
    };
    BodyError::new(format!("finishing the body failed: {reason}"))
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Full(bytes) => f.debug_tuple("Body").field(bytes).finish(),
            BodyKind::Stream(_) => f.write_str("Body(<stream>)"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body {
            kind: BodyKind::Full(bytes),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from(Bytes::from(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(bytes))
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Body::empty()
    }
}

/// Writes a streamed response body; handed to the producer given to [`Body::stream`].
pub struct BodyWriter {
    sink: Sink,
}

enum Sink {
    Host(Rc<OutputStream>),
    Memory(Rc<RefCell<Vec<u8>>>),
}

impl BodyWriter {
    /// Writes all of `data`, waiting whenever the host's buffer is full.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), BodyError> {
        match &self.sink {
            Sink::Host(stream) => write_all(stream, data).await,
            Sink::Memory(buffer) => {
                buffer.borrow_mut().extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// Flushes what was written so far towards the client.
    pub async fn flush(&mut self) -> Result<(), BodyError> {
        match &self.sink {
            Sink::Host(stream) => flush(stream).await,
            Sink::Memory(_) => Ok(()),
        }
    }
}

async fn write_all(stream: &OutputStream, mut data: &[u8]) -> Result<(), BodyError> {
    while !data.is_empty() {
        let permitted = stream.check_write()?;
        if permitted == 0 {
            wait_for(stream.subscribe()).await;
            continue;
        }
        let n = data.len().min(permitted as usize);
        stream.write(&data[..n])?;
        data = &data[n..];
    }
    Ok(())
}

async fn flush(stream: &OutputStream) -> Result<(), BodyError> {
    stream.flush()?;
    loop {
        // `check-write` fails while a flush is still in progress only by returning 0.
        if stream.check_write()? > 0 {
            return Ok(());
        }
        wait_for(stream.subscribe()).await;
    }
}
