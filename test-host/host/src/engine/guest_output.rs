//! Guest stdout and stderr, forwarded to the host's own, each line prefixed with the
//! component's name so that interleaved output from many components stays readable; and,
//! with a log directory, appended to one file per component and stream, as Spin lays them
//! out (`DIR/COMPONENT_stdout.txt`, `DIR/COMPONENT_stderr.txt`).
//!
//! A line is held until its newline, but never beyond [`MAX_LINE`] bytes: a longer one is
//! forwarded in pieces of that size, so a guest that writes without newlines cannot make the
//! host hold its output.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// The most of one line the host holds; a longer line is forwarded in pieces this long.
pub const MAX_LINE: usize = 16 * 1024;

/// Which of the host's streams a guest stream goes to.
#[derive(Debug, Clone)]
pub enum Target {
    /// The host's stdout.
    Stdout,
    /// The host's stderr.
    Stderr,
    /// A buffer, for tests.
    #[cfg(test)]
    Buffer(Arc<std::sync::Mutex<Vec<u8>>>),
}

/// Where components' output goes besides the terminal, and whether it goes there at all.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    /// A directory for one file per component and stream; none when `None`.
    pub log_dir: Option<PathBuf>,
    /// Empty the files when the app starts, instead of appending to them.
    pub truncate_logs: bool,
    /// Keep components' output off the terminal (it still goes to the files).
    pub quiet: bool,
}

/// One component's stdout and stderr, as [`OutputOptions`] say.
#[derive(Debug, Clone)]
pub struct ComponentOutput {
    /// Where the guest's stdout goes.
    pub stdout: PrefixedOutput,
    /// Where the guest's stderr goes.
    pub stderr: PrefixedOutput,
}

impl ComponentOutput {
    /// Opens (creates) `component`'s log files, when there is a log directory.
    pub fn open(component: &str, options: &OutputOptions) -> std::io::Result<Self> {
        let stream = |target: Target, name: &str| -> std::io::Result<PrefixedOutput> {
            let mut output = PrefixedOutput::new(component, target);
            output.terminal = !options.quiet;
            if let Some(dir) = &options.log_dir {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{component}_{name}.txt"));
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(!options.truncate_logs)
                    .write(true)
                    .truncate(options.truncate_logs)
                    .open(&path)
                    .map_err(|e| {
                        std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                    })?;
                output.file = Some(Arc::new(Mutex::new(file)));
            }
            Ok(output)
        };
        Ok(ComponentOutput {
            stdout: stream(Target::Stdout, "stdout")?,
            stderr: stream(Target::Stderr, "stderr")?,
        })
    }
}

/// A guest output stream that writes `[component] line` to the host, and the bare line to
/// the component's log file when it has one.
#[derive(Debug, Clone)]
pub struct PrefixedOutput {
    prefix: Arc<str>,
    target: Target,
    /// Whether lines go to `target` (not with `--quiet`).
    terminal: bool,
    file: Option<Arc<Mutex<File>>>,
}

impl PrefixedOutput {
    /// Output for `component`, sent to `target`.
    pub fn new(component: &str, target: Target) -> Self {
        PrefixedOutput {
            prefix: Arc::from(format!("[{component}] ")),
            target,
            terminal: true,
            file: None,
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
        if let Some(file) = &self.output.file {
            // A full disk loses log lines, not requests; the terminal still has them.
            if let Ok(mut file) = file.lock() {
                let _ = file.write_all(line).and_then(|()| file.write_all(b"\n"));
            }
        }
        if !self.output.terminal {
            return;
        }
        let mut text = Vec::with_capacity(self.output.prefix.len() + line.len() + 1);
        text.extend_from_slice(self.output.prefix.as_bytes());
        text.extend_from_slice(line);
        text.push(b'\n');
        // A host whose own stdout is gone has nowhere to report that, so the line is dropped.
        let _ = match &self.output.target {
            Target::Stdout => std::io::stdout().lock().write_all(&text),
            Target::Stderr => std::io::stderr().lock().write_all(&text),
            #[cfg(test)]
            Target::Buffer(buffer) => {
                buffer.lock().unwrap().extend_from_slice(&text);
                Ok(())
            }
        };
    }

    fn emit_complete_lines(&mut self) {
        loop {
            let newline = self.pending.iter().position(|&b| b == b'\n');
            let line: Vec<u8> = match newline {
                Some(end) if end <= MAX_LINE => {
                    let line: Vec<u8> = self.pending.drain(..=end).collect();
                    line[..end].to_vec()
                }
                _ if self.pending.len() > MAX_LINE => self.pending.drain(..MAX_LINE).collect(),
                _ => return,
            };
            self.emit(&line);
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
        // In slices, so that one huge write is not held whole either.
        for piece in buf.chunks(MAX_LINE) {
            self.pending.extend_from_slice(piece);
            self.emit_complete_lines();
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    #[tokio::test]
    async fn long_lines_are_forwarded_in_pieces_and_nothing_is_lost() {
        let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let output = PrefixedOutput::new("c", Target::Buffer(buffer.clone()));
        let mut stream = Box::into_pin(output.async_stream());
        stream.write_all(b"short\n").await.unwrap();
        let long = vec![b'x'; 5 * MAX_LINE + 7];
        stream.write_all(&long).await.unwrap();
        stream.write_all(b"\nlast").await.unwrap();
        stream.shutdown().await.unwrap();

        let written = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines[0], "[c] short");
        assert_eq!(
            lines.len(),
            1 + 6 + 1,
            "{:?}",
            lines.iter().map(|l| l.len()).collect::<Vec<_>>()
        );
        assert!(lines[1..6].iter().all(|l| l.len() == 4 + MAX_LINE));
        assert_eq!(lines[6], "[c] xxxxxxx");
        assert_eq!(lines[7], "[c] last");
        let xs: usize = lines.iter().map(|l| l.matches('x').count()).sum();
        assert_eq!(xs, long.len());
    }

    #[tokio::test]
    async fn a_log_dir_gets_the_bare_lines_and_quiet_keeps_the_terminal_clear() {
        let dir = tempfile::tempdir().unwrap();
        let options = OutputOptions {
            log_dir: Some(dir.path().join("logs")),
            truncate_logs: false,
            quiet: true,
        };
        let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut output = ComponentOutput::open("hello", &options).unwrap();
        output.stdout.target = Target::Buffer(buffer.clone());
        let mut stream = Box::into_pin(output.stdout.async_stream());
        stream.write_all(b"one\ntwo").await.unwrap();
        stream.shutdown().await.unwrap();
        drop(stream);
        let logged = std::fs::read_to_string(dir.path().join("logs/hello_stdout.txt")).unwrap();
        assert_eq!(logged, "one\ntwo\n");
        assert!(
            buffer.lock().unwrap().is_empty(),
            "quiet output reached the terminal"
        );
        assert!(dir.path().join("logs/hello_stderr.txt").exists());

        // A second start appends, unless told to truncate.
        let again = ComponentOutput::open("hello", &options).unwrap();
        let mut stream = Box::into_pin(again.stdout.async_stream());
        stream.write_all(b"three\n").await.unwrap();
        drop(stream);
        let logged = std::fs::read_to_string(dir.path().join("logs/hello_stdout.txt")).unwrap();
        assert_eq!(logged, "one\ntwo\nthree\n");
        let truncating = OutputOptions {
            truncate_logs: true,
            ..options
        };
        ComponentOutput::open("hello", &truncating).unwrap();
        let logged = std::fs::read_to_string(dir.path().join("logs/hello_stdout.txt")).unwrap();
        assert_eq!(logged, "");
    }
}
