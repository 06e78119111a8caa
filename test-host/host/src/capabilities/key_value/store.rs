//! The trait every key-value backend implements.

use futures_util::future::BoxFuture;

/// Where one store's data lives. An error is a message for the guest (`other` in the
/// interface's error); it never carries a value.
pub trait Store: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, String>>;
    /// Writes `value` under `key`.
    fn set(&self, key: String, value: Vec<u8>) -> BoxFuture<'_, Result<(), String>>;
    /// Removes `key`.
    fn delete(&self, key: String) -> BoxFuture<'_, Result<(), String>>;
    /// Whether `key` holds a value.
    fn exists(&self, key: String) -> BoxFuture<'_, Result<bool, String>>;
    /// Every key in the store, sorted.
    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, String>>;
}
