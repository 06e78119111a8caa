//! Where the examples' unit tests find their apps; the tests are in `tests/`, one file per
//! example.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;

/// The directory of example `name` (`http-hello`, ...), which holds its `spin.toml`.
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}
