//! Key-value storage: byte values under string keys, in stores the manifest grants.
//!
//! A component may open only the stores listed in its `key_value_stores`; every app has a
//! store labelled `default`. Any other label is `Error::AccessDenied` (not granted) or
//! `Error::NoSuchStore` (granted but not configured).
//!
//! ```no_run
//! use rotor_sdk::key_value::Store;
//!
//! # fn main() -> Result<(), rotor_sdk::key_value::Error> {
//! let store = Store::open_default()?;
//! store.set("greeting", b"hello")?;
//! assert_eq!(store.get("greeting")?, Some(b"hello".to_vec()));
//! store.delete("greeting")?;
//! # Ok(()) }
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::platform::fermyon::spin2_0_0::key_value;

/// An open key-value store.
///
/// `open(label)`, `get(key)`, `set(key, value)`, `delete(key)`, `exists(key)` and
/// `get_keys()` come straight from `fermyon:spin/key-value@2.0.0`; the methods below add the
/// default store and JSON values.
#[doc(inline)]
pub use key_value::Store;

/// Why a key-value operation failed, as the WIT names it: `StoreTableFull`, `NoSuchStore`,
/// `AccessDenied` or `Other(message)`.
#[doc(inline)]
pub use key_value::Error;

impl Store {
    /// Opens the store labelled `default`.
    ///
    /// ```no_run
    /// let store = rotor_sdk::key_value::Store::open_default()?;
    /// # Ok::<(), rotor_sdk::key_value::Error>(())
    /// ```
    pub fn open_default() -> Result<Store, Error> {
        Store::open("default")
    }

    /// Reads `key` and parses its value as JSON into a `T`.
    ///
    /// A value that is not valid JSON for `T` is `Error::Other`, naming the key.
    ///
    /// ```no_run
    /// #[derive(serde::Deserialize)]
    /// struct Settings { theme: String }
    ///
    /// let store = rotor_sdk::key_value::Store::open_default()?;
    /// let settings: Option<Settings> = store.get_json("settings")?;
    /// # Ok::<(), rotor_sdk::key_value::Error>(())
    /// ```
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let Some(bytes) = self.get(key)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::Other(format!(
                "the value under key {key:?} is not valid JSON for {}: {e}",
                std::any::type_name::<T>()
            ))
        })
    }

    /// Serializes `value` as JSON and writes it under `key`.
    ///
    /// ```no_run
    /// #[derive(serde::Serialize)]
    /// struct Settings { theme: String }
    ///
    /// let store = rotor_sdk::key_value::Store::open_default()?;
    /// store.set_json("settings", &Settings { theme: "dark".into() })?;
    /// # Ok::<(), rotor_sdk::key_value::Error>(())
    /// ```
    pub fn set_json<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), Error> {
        let bytes = serde_json::to_vec(value).map_err(|e| {
            Error::Other(format!(
                "the value for key {key:?} cannot be serialized as JSON: {e}"
            ))
        })?;
        self.set(key, &bytes)
    }
}
