//! Reading TOML files (`spin.toml`, `runtime-config.toml`) with errors that name the file,
//! the line and the key.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a configuration file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line the problem is on, when known.
    pub line: Option<usize>,
    /// The dotted key the problem is at, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl FileError {
    /// An error at `span` of `text` (the file's contents), under `key`.
    pub fn at(
        file: &Path,
        text: &str,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        FileError {
            file: file.to_owned(),
            line: span.map(|s| line_of(text, s.start)),
            key,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": at `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for FileError {}

/// Reads the file at `path`.
pub fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path)
        .map_err(|e| FileError::at(path, "", None, None, format!("cannot read the file: {e}")))
}

/// Deserializes `text`, the contents of `path`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        // Spanned values show up in the path under toml's private marker name.
        let key = e
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "");
        let inner = e.into_inner();
        FileError::at(
            path,
            text,
            inner.span(),
            (key != ".").then_some(key),
            inner.message().trim(),
        )
    })
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
