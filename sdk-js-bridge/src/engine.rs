//! The small trait a JavaScript engine implements to run Rotor apps, so that the bridge does
//! not depend on one engine: boa ([`crate::boa`]) is the default.

use std::fmt;

/// Answers `__rotor_call(op, argumentsJson)` from the runtime with a reply in JSON.
pub type HostCall = fn(op: &str, arguments: &str) -> String;

/// A script failed: it did not parse, it threw, or its promise never settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// What went wrong, with the engine's stack trace when it has one.
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScriptError {}

/// A JavaScript engine holding Rotor's runtime and one app.
pub trait Engine: Sized {
    /// Makes `host` the runtime's `__rotor_call`, evaluates the runtime script, then loads
    /// and evaluates the app as an ES module named `app_name` (for messages).
    fn load(runtime: &str, app: &str, app_name: &str, host: HostCall) -> Result<Self, ScriptError>;

    /// Calls `__rotor_dispatch[function](defaultExport, argument)`, runs the job queue until
    /// the promise it returns settles, and returns the string it resolves to.
    fn dispatch(&mut self, function: &str, argument: &str) -> Result<String, ScriptError>;
}
