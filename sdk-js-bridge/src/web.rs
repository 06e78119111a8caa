//! The host side of the runtime's web platform pieces: `crypto` (random bytes, digests, HMAC)
//! and the clock its timers sleep on.

use rotor_sdk::wasi::clocks::monotonic_clock;
use rotor_sdk::wasi::random::random;
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::ops::{bytes, encode, Failure, OpResult};

/// The most `crypto.getRandomValues` fills at once, as the Web Crypto API allows.
const MAX_RANDOM_BYTES: u64 = 65_536;

/// The longest a timer may sleep or a fetch's time limit may be, in milliseconds: past it,
/// the request's deadline has long gone (and a larger one would overflow a `Duration`).
pub(crate) const MAX_WAIT_MS: f64 = 24.0 * 60.0 * 60.0 * 1000.0;

/// `crypto.<action>`.
pub(crate) fn crypto_op(action: &str, args: &Value) -> OpResult {
    match action {
        "random" => {
            let length = args["length"].as_u64().unwrap_or(0);
            if length > MAX_RANDOM_BYTES {
                return Err(Failure::new(
                    "quota-exceeded",
                    format!("getRandomValues fills at most {MAX_RANDOM_BYTES} bytes, not {length}"),
                ));
            }
            Ok(encode(&random::get_random_bytes(length)))
        }
        "digest" => {
            let algorithm = Algorithm::named(&args["algorithm"])?;
            Ok(encode(&algorithm.digest(&bytes(args, "data")?)))
        }
        "hmac" => {
            let algorithm = Algorithm::named(&args["hash"])?;
            let mac = hmac(algorithm, &bytes(args, "key")?, &bytes(args, "data")?);
            Ok(encode(&mac))
        }
        "hmacVerify" => {
            let algorithm = Algorithm::named(&args["hash"])?;
            let mac = hmac(algorithm, &bytes(args, "key")?, &bytes(args, "data")?);
            Ok(json!(same_bytes(&mac, &bytes(args, "signature")?)))
        }
        _ => Err(Failure::new(
            "unknown-operation",
            format!("no operation crypto.{action}"),
        )),
    }
}

/// `timers.<action>`: `now` (milliseconds on the monotonic clock) and `sleep` (`ms`).
pub(crate) fn timers_op(action: &str, args: &Value) -> OpResult {
    match action {
        "now" => Ok(json!(monotonic_clock::now() as f64 / 1e6)),
        "sleep" => {
            let ms = args["ms"].as_f64().unwrap_or(0.0).clamp(0.0, MAX_WAIT_MS);
            monotonic_clock::subscribe_duration((ms * 1e6) as u64).block();
            Ok(Value::Null)
        }
        _ => Err(Failure::new(
            "unknown-operation",
            format!("no operation timers.{action}"),
        )),
    }
}

/// The digests `crypto.subtle` offers, by their Web Crypto names.
#[derive(Clone, Copy)]
enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn named(name: &Value) -> Result<Algorithm, Failure> {
        let name = name.as_str().unwrap_or("");
        match name.to_ascii_uppercase().as_str() {
            "SHA-1" => Ok(Algorithm::Sha1),
            "SHA-256" => Ok(Algorithm::Sha256),
            "SHA-384" => Ok(Algorithm::Sha384),
            "SHA-512" => Ok(Algorithm::Sha512),
            _ => Err(Failure::new(
                "not-supported",
                format!("unsupported digest {name:?}: use SHA-1, SHA-256, SHA-384 or SHA-512"),
            )),
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha1 => Sha1::digest(data).to_vec(),
            Algorithm::Sha256 => Sha256::digest(data).to_vec(),
            Algorithm::Sha384 => Sha384::digest(data).to_vec(),
            Algorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The hash's block size in bytes, which HMAC pads its key to.
    fn block_size(self) -> usize {
        match self {
            Algorithm::Sha1 | Algorithm::Sha256 => 64,
            Algorithm::Sha384 | Algorithm::Sha512 => 128,
        }
    }
}

/// HMAC (RFC 2104) over `algorithm`.
fn hmac(algorithm: Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut block = if key.len() > algorithm.block_size() {
        algorithm.digest(key)
    } else {
        key.to_vec()
    };
    block.resize(algorithm.block_size(), 0);
    let padded = |pad: u8| block.iter().map(|byte| byte ^ pad).collect::<Vec<u8>>();
    let mut inner = padded(0x36);
    inner.extend_from_slice(data);
    let mut outer = padded(0x5c);
    outer.extend_from_slice(&algorithm.digest(&inner));
    algorithm.digest(&outer)
}

/// Compares two MACs in time that depends only on their lengths, so that a caller probing
/// signatures learns nothing from how long a refusal takes.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // Expected values: RFC 2202 (HMAC-SHA-1) and RFC 4231 (HMAC-SHA-2), test case 2.
    #[test]
    fn hmac_matches_the_rfc_test_vectors() {
        let (key, data) = (b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&hmac(Algorithm::Sha1, key, data)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            hex(&hmac(Algorithm::Sha256, key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hex(&hmac(
                Algorithm::Sha256,
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn comparison_needs_equal_length_and_bytes() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
    }
}
