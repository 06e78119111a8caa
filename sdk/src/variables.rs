//! Application variables and secrets, as the manifest declares them.
//!
//! A component reads only the variables of its own `[component.NAME.variables]` table. Their
//! values are usually templates over the application's `[variables]`, which the host fills
//! from its providers: the environment (`SPIN_VARIABLE_NAME`), HashiCorp Vault (through
//! `runtime-config.toml`), then the manifest's defaults.
//!
//! ```no_run
//! # fn main() -> Result<(), rotor_sdk::variables::Error> {
//! let api_key = rotor_sdk::variables::get("api_key")?;
//! let region = rotor_sdk::variables::get_or("region", "eu-west")?;
//! # let _ = (api_key, region);
//! # Ok(()) }
//! ```

use crate::bindings::platform::fermyon::spin2_0_0::variables;

/// Why a variable could not be read, as the WIT names it:
///
/// - `InvalidName(name)`: not a valid variable name (lowercase letters, digits and `_`,
///   starting with a letter);
/// - `Undefined(message)`: the component's manifest entry declares no such variable;
/// - `Provider(message)`: a provider (Vault, say) failed; the message never holds a secret;
/// - `Other(message)`: anything else.
#[doc(inline)]
pub use variables::Error;

/// Reads the component variable `name`.
///
/// ```no_run
/// use rotor_sdk::variables;
///
/// match variables::get("greeting") {
///     Ok(greeting) => println!("{greeting}"),
///     Err(variables::Error::Undefined(_)) => println!("no greeting configured"),
///     Err(other) => eprintln!("cannot read greeting: {other}"),
/// }
/// ```
pub fn get(name: &str) -> Result<String, Error> {
    variables::get(name)
}

/// Reads the component variable `name`, or `default` when the component declares none.
///
/// Other errors (a failing provider, an invalid name) are still errors: a fallback must not
/// hide a broken Vault.
///
/// ```no_run
/// let limit: usize = rotor_sdk::variables::get_or("page_size", "20")?.parse().unwrap_or(20);
/// # Ok::<(), rotor_sdk::variables::Error>(())
/// ```
pub fn get_or(name: &str, default: &str) -> Result<String, Error> {
    match variables::get(name) {
        Err(Error::Undefined(_)) => Ok(default.to_owned()),
        other => other,
    }
}
