//! Messages for the operator, on the component's stderr (which Spin and `rotor up` log).

use std::fmt;

/// Writes one line to stderr, as `eprintln!` would, except that a failed write is ignored.
///
/// It writes to `wasi:cli/stderr` itself: `eprintln!` panics when the write fails, and the
/// text that describes why, like `std`'s locked `Stderr`, costs every component kilobytes.
#[cfg(target_arch = "wasm32")]
pub(crate) fn write_line(message: fmt::Arguments<'_>) {
    let line = format!("{message}\n");
    let stderr = crate::bindings::platform::wasi::cli::stderr::get_stderr();
    // `blocking-write-and-flush` takes at most 4096 bytes a call.
    for chunk in line.as_bytes().chunks(4096) {
        if stderr.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
}

/// The SDK's own tests run natively, where there is no `wasi:cli` to call.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn write_line(message: fmt::Arguments<'_>) {
    eprintln!("{message}");
}

/// `report!("...", args)`: [`write_line`] with `format!`'s syntax.
macro_rules! report {
    ($($arg:tt)*) => {
        $crate::diagnostics::write_line(format_args!($($arg)*))
    };
}
pub(crate) use report;
