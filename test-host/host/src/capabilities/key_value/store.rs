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
    /// Adds `delta` to the integer under `key` (0 when there is none) and returns the sum,
    /// in one step no other writer can come between.
    fn increment(&self, key: String, delta: i64) -> BoxFuture<'_, Result<i64, String>>;
    /// Writes `value` under `key` if `key` still holds `expected` (no value, for `None`), in
    /// one step; whether it wrote.
    fn swap_if(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> BoxFuture<'_, Result<bool, String>>;
}
