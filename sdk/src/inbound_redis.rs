//! Redis-triggered components: `#[redis_component]` exports a function as Spin's
//! `fermyon:spin/inbound-redis` handler, called once per message on the channel the
//! manifest's `[[trigger.redis]]` subscribes to.
//!
//! ```no_run
//! #[rotor_sdk::redis_component]
//! fn on_message(payload: String) -> Result<(), String> {
//!     if payload.is_empty() {
//!         return Err("an empty message".into());
//!     }
//!     println!("received: {payload}");
//!     Ok(())
//! }
//! ```

use std::fmt::Display;
use std::future::Future;

use bytes::Bytes;

use crate::bindings::redis_trigger::fermyon::spin::redis_types::Error;
use crate::executor::block_on;

/// A handler argument built from a message's bytes.
///
/// Implemented for `Vec<u8>`, `Bytes` and `String` (a message that is not UTF-8 is logged
/// and skipped). Implement it to decode your own message format.
pub trait FromPayload: Sized {
    /// Builds the argument; `Err(message)` skips the message, logging why.
    fn from_payload(payload: Vec<u8>) -> Result<Self, String>;
}

impl FromPayload for Vec<u8> {
    fn from_payload(payload: Vec<u8>) -> Result<Self, String> {
        Ok(payload)
    }
}

impl FromPayload for Bytes {
    fn from_payload(payload: Vec<u8>) -> Result<Self, String> {
        Ok(Bytes::from(payload))
    }
}

impl FromPayload for String {
    fn from_payload(payload: Vec<u8>) -> Result<Self, String> {
        String::from_utf8(payload).map_err(|e| format!("the message is not UTF-8: {e}"))
    }
}

/// What a Redis handler may return: `()` or a `Result<(), E>` with a displayable error.
pub trait HandlerOutcome {
    /// `Err` with the error's description for a failed message.
    fn into_outcome(self) -> Result<(), String>;
}

impl HandlerOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> HandlerOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// Runs one message's handler to completion and reports the outcome to the host.
///
/// Used by the code `#[redis_component]` generates; not meant to be called directly.
#[doc(hidden)]
pub fn run(handler: impl Future<Output = Result<(), String>>) -> Result<(), Error> {
    match block_on(handler) {
        Ok(()) => Ok(()),
        Err(reason) => {
            crate::diagnostics::report!("the message was not handled: {reason}");
            Err(Error::Error)
        }
    }
}
