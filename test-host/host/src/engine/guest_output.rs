//! Guest stdout and stderr, forwarded to the host's own, each line prefixed with the
//! component's name so that interleaved output from many components stays readable.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Which of the host's streams a guest stream goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The host's stdout.
    Stdout,
    /// The host's stderr.
    Stderr,
}

/// A guest output stream that writes `[component] line` to the host.
#[derive(Debug, Clone)]
pub struct PrefixedOutput {
    prefix: Arc<str>,
    target: Target,
}

impl PrefixedOutput {
    /// Output for `component`, sent to `target`.
    pub fn new(component: &str, target: Target) -> Self {
        PrefixedOutput {
            prefix: Arc::from(format!("[{component}] ")),
            target,
        }
    }
}

impl IsTerminal for PrefixedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PrefixedOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            output: self.clone(),
            pending: Vec::new(),
        })
    }
}

struct LineWriter {
    output: PrefixedOutput,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit(&self, line: &[u8]) {
        let mut text = Vec::with_capacity(self.output.prefix.len() + line.len() + 1);
        text.extend_from_slice(self.output.prefix.as_bytes());
        text.extend_from_slice(line);
        text.push(b'\n');
        // A host whose own stdout is gone has nowhere to report that, so the line is dropped.
        let _ = match self.output.target {
            Target::Stdout => std::io::stdout().lock().write_all(&text),
            Target::Stderr => std::io::stderr().lock().write_all(&text),
        };
    }

    fn emit_complete_lines(&mut self) {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(line.strip_suffix(b"\n").unwrap_or(&line));
        }
    }

    fn emit_rest(&mut self) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        self.emit_complete_lines();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit_rest();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit_rest();
    }
}
