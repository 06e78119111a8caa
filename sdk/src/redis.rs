//! Outbound Redis over `fermyon:spin/redis@2.0.0`: commands and publishing.
//!
//! The host connects only to servers the manifest grants in `allowed_outbound_hosts`
//! (`redis://host:port`); anything else fails and no connection is made.
//!
//! ```no_run
//! use rotor_sdk::redis::Connection;
//!
//! # fn main() -> Result<(), rotor_sdk::redis::Error> {
//! let redis = Connection::open("redis://127.0.0.1:6379")?;
//! redis.set("greeting", b"hello")?;
//! let visits = redis.incr("visits")?;
//! redis.publish("events", format!("visit {visits}").as_bytes())?;
//! # Ok(()) }
//! ```

use crate::bindings::platform::fermyon::spin2_0_0::redis;

/// A connection to one Redis server: `open(address)`, `publish(channel, payload)`,
/// `get(key)`, `set(key, value)`, `incr(key)`, `del(keys)`, `sadd(key, members)`,
/// `smembers(key)`, `srem(key, members)` and `execute(command, arguments)`, straight from
/// the WIT.
#[doc(inline)]
pub use redis::Connection;

/// Why a Redis operation failed: `InvalidAddress`, `TooManyConnections`, `TypeError` (the
/// key holds another kind of value) or `Other(message)` (a refused grant, a server error).
#[doc(inline)]
pub use redis::Error;

/// An argument of [`Connection::execute`]: `Int64(i64)` or `Binary(bytes)`. Converts from
/// integers, strings and bytes.
#[doc(inline)]
pub use redis::RedisParameter;

/// One value of an [`Connection::execute`] reply: `Nil`, `Status(text)`, `Int64(i64)` or
/// `Binary(bytes)`.
#[doc(inline)]
pub use redis::RedisResult;

impl From<i64> for RedisParameter {
    fn from(value: i64) -> Self {
        RedisParameter::Int64(value)
    }
}

impl From<i32> for RedisParameter {
    fn from(value: i32) -> Self {
        RedisParameter::Int64(value.into())
    }
}

impl From<u32> for RedisParameter {
    fn from(value: u32) -> Self {
        RedisParameter::Int64(value.into())
    }
}

impl From<&str> for RedisParameter {
    fn from(value: &str) -> Self {
        RedisParameter::Binary(value.as_bytes().to_vec())
    }
}

impl From<String> for RedisParameter {
    fn from(value: String) -> Self {
        RedisParameter::Binary(value.into_bytes())
    }
}

impl From<&[u8]> for RedisParameter {
    fn from(value: &[u8]) -> Self {
        RedisParameter::Binary(value.to_vec())
    }
}

impl From<Vec<u8>> for RedisParameter {
    fn from(value: Vec<u8>) -> Self {
        RedisParameter::Binary(value)
    }
}

impl RedisResult {
    /// The value as text, for `Status` and UTF-8 `Binary` replies.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RedisResult::Status(text) => Some(text),
            RedisResult::Binary(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    /// The value as an integer, for `Int64` replies and `Binary` ones that hold a number.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            RedisResult::Int64(n) => Some(*n),
            RedisResult::Binary(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// Whether the reply is `Nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, RedisResult::Nil)
    }
}

impl Connection {
    /// Reads `key` as UTF-8 text; `None` when it does not exist.
    ///
    /// ```no_run
    /// let redis = rotor_sdk::redis::Connection::open("redis://127.0.0.1:6379")?;
    /// let name: Option<String> = redis.get_string("user:1:name")?;
    /// # Ok::<(), rotor_sdk::redis::Error>(())
    /// ```
    pub fn get_string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.get(key)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Error::Other(format!("the value of {key:?} is not UTF-8"))),
        }
    }
}

/// Builds the argument list of [`Connection::execute`]: `args!["EX", 60]`.
#[macro_export]
macro_rules! redis_args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::redis::RedisParameter::from($value)),*][..]
    };
}

#[doc(inline)]
pub use crate::redis_args as args;
