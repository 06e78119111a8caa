//! What reading typed values out of result rows can fail with, shared by [`crate::sqlite`],
//! [`crate::pg`] and [`crate::mysql`].

use std::fmt;

/// A value that could not be read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub(crate) column: Option<String>,
    pub(crate) message: String,
}

impl RowError {
    /// The column concerned, when the error is about one.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column {column:?}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RowError {}
