//! What a build shows while it runs: on a terminal, one line redrawn in place (a spinner, what
//! is being built, the time so far and the latest line of the build's own output); elsewhere
//! (a pipe, a CI log, `TERM=dumb`) plain lines only, as logs want them.

use std::io::{BufRead as _, IsTerminal as _, Read, Write as _};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// How often the line is redrawn.
const FRAME: Duration = Duration::from_millis(100);

/// Whether builds draw their progress line: stderr is a terminal that can take it, and no CI
/// is reading.
pub fn on_terminal() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var("TERM").map_or(true, |term| term != "dumb")
        && std::env::var_os("CI").is_none_or(|ci| ci.is_empty() || ci == "false")
}

/// A command's captured output.
#[derive(Debug)]
pub struct Captured {
    /// How it ended.
    pub status: ExitStatus,
    /// What it wrote to stdout.
    pub stdout: String,
    /// What it wrote to stderr.
    pub stderr: String,
}

/// Which of a command's outputs the progress line shows the latest line of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Both (a build command, which may write either).
    Both,
    /// Stderr only (cargo with `--message-format json`, whose stdout is for machines).
    Stderr,
}

/// Runs `command` with its output captured; on a terminal, draws the progress line for
/// `label` until it ends, then clears it.
pub fn run_captured(command: &mut Command, label: &str, shown: Shown) -> std::io::Result<Captured> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let latest = Arc::new(Mutex::new(String::new()));
    let stdout = read_lines(
        child.stdout.take(),
        (shown == Shown::Both).then(|| latest.clone()),
    );
    let stderr = read_lines(child.stderr.take(), Some(latest.clone()));
    let drawing = on_terminal();
    let started = Instant::now();
    let width = terminal_width();
    let mut frame = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if drawing {
            let latest = latest.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let line = status_line(frame, label, started.elapsed(), &latest, width);
            let mut terminal = std::io::stderr().lock();
            let _ = write!(terminal, "\r\x1b[2K{line}");
            let _ = terminal.flush();
            frame += 1;
        }
        std::thread::sleep(FRAME);
    };
    if drawing {
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
    }
    Ok(Captured {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Reads `pipe` to its end on a thread of its own, keeping each line in `latest`, if given.
fn read_lines(
    pipe: Option<impl Read + Send + 'static>,
    latest: Option<Arc<Mutex<String>>>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut all = String::new();
        let Some(pipe) = pipe else { return all };
        let mut reader = std::io::BufReader::new(pipe);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            all.push_str(&text);
            let shown = text.trim();
            if let Some(latest) = latest.as_ref().filter(|_| !shown.is_empty()) {
                *latest.lock().unwrap_or_else(|e| e.into_inner()) = shown.to_owned();
            }
            line.clear();
        }
        all
    })
}

/// The terminal's width as the shell says it (`COLUMNS`), or 80.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.parse().ok())
        .filter(|&columns: &usize| columns >= 20)
        .unwrap_or(80)
}

/// `text` without terminal escape sequences (cargo colours its output on a terminal) or
/// other control characters.
fn without_escapes(text: &str) -> String {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // `ESC [ ... final byte`: the final byte is in `@`..=`~`.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else if !c.is_control() {
            plain.push(c);
        }
    }
    plain
}

/// One frame of the progress line, at most `width` characters: a spinner, the label, the
/// seconds so far and as much of the latest output line as fits.
pub fn status_line(
    frame: usize,
    label: &str,
    elapsed: Duration,
    latest: &str,
    width: usize,
) -> String {
    let latest = without_escapes(latest);
    let latest = latest.trim();
    let mut line = format!(
        "{} {label} ({:.1} s)",
        SPINNER[frame % SPINNER.len()],
        elapsed.as_secs_f64()
    );
    if !latest.is_empty() {
        line.push_str(" · ");
        line.push_str(latest);
    }
    // Wider than the terminal, the line would wrap and `\r` would no longer redraw it.
    let max = width.saturating_sub(1);
    if line.chars().count() > max {
        line = line.chars().take(max.saturating_sub(1)).collect();
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_fits_the_terminal() {
        let line = status_line(
            2,
            "Building component `api`",
            Duration::from_millis(4250),
            "   Compiling serde v1.0.219",
            80,
        );
        assert_eq!(
            line,
            "⠹ Building component `api` (4.2 s) · Compiling serde v1.0.219"
        );
        let long = status_line(0, "Building", Duration::ZERO, &"x".repeat(200), 40);
        assert_eq!(long.chars().count(), 39);
        assert!(long.ends_with('…'));
        // The build's own escape sequences would break the redraw.
        let escaped = status_line(0, "b", Duration::ZERO, "\x1b[1;32mbold\x1b[0m\t", 80);
        assert_eq!(escaped, "⠋ b (0.0 s) · bold");
    }

    #[test]
    fn output_is_captured_whole() {
        let captured = run_captured(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            "testing",
            Shown::Both,
        )
        .unwrap();
        assert_eq!(captured.status.code(), Some(3));
        assert_eq!(captured.stdout, "out\n");
        assert_eq!(captured.stderr, "err\n");
    }
}
