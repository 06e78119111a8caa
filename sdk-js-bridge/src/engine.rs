//! The small trait a JavaScript engine implements to run Rotor apps, so that the bridge does
//! not depend on one engine: boa ([`crate::boa`]) is the default.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

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
    /// and evaluates the app's entry module and the modules it imports.
    fn load(runtime: &str, app: Rc<AppModules>, host: HostCall) -> Result<Self, ScriptError>;

    /// Calls `__rotor_dispatch[function](defaultExport, argument)`, runs the job queue until
    /// the promise it returns settles, and returns the string it resolves to.
    fn dispatch(&mut self, function: &str, argument: &str) -> Result<String, ScriptError>;
}

/// One module of an app: its source and what each of its import specifiers names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AppModule {
    source: String,
    imports: HashMap<String, String>,
}

/// An app: its modules, gathered by `rotor js build` (relative files and packages from
/// `node_modules`), each with the module each of its import specifiers resolves to, so that
/// loading one reads nothing but this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppModules {
    entry: String,
    modules: HashMap<String, AppModule>,
}

impl AppModules {
    /// An app of one module, `name`, that imports nothing.
    pub fn single(name: &str, source: &str) -> AppModules {
        let module = AppModule {
            source: source.to_owned(),
            imports: HashMap::new(),
        };
        AppModules {
            entry: name.to_owned(),
            modules: HashMap::from([(name.to_owned(), module)]),
        }
    }

    /// Reads the app as `rotor js build` writes it:
    /// `{"entry": ID, "modules": {ID: {"source": TEXT, "imports": {SPECIFIER: ID}}}}`.
    pub fn from_json(text: &str) -> Result<AppModules, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let entry = value["entry"]
            .as_str()
            .ok_or("the app names no entry module")?
            .to_owned();
        let mut modules = HashMap::new();
        for (id, module) in value["modules"].as_object().into_iter().flatten() {
            let source = module["source"]
                .as_str()
                .ok_or_else(|| format!("module {id:?} has no source"))?
                .to_owned();
            let imports = module["imports"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(specifier, target)| {
                    Some((specifier.clone(), target.as_str()?.to_owned()))
                })
                .collect();
            modules.insert(id.clone(), AppModule { source, imports });
        }
        if !modules.contains_key(&entry) {
            return Err(format!("the entry module {entry:?} is missing"));
        }
        Ok(AppModules { entry, modules })
    }

    /// The entry module's id: its file name, for messages.
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// The source of module `id`.
    pub fn source(&self, id: &str) -> Option<&str> {
        self.modules.get(id).map(|module| module.source.as_str())
    }

    /// The id of the module `specifier` names when module `from` imports it.
    pub fn resolve(&self, from: &str, specifier: &str) -> Option<&str> {
        self.modules
            .get(from)?
            .imports
            .get(specifier)
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_reads_as_rotor_js_build_writes_it() {
        let app = AppModules::from_json(
            r#"{"entry": "app.js", "modules": {
                "app.js": {"source": "import './lib.js';", "imports": {"./lib.js": "lib.js"}},
                "lib.js": {"source": "export {};", "imports": {}}}}"#,
        )
        .unwrap();
        assert_eq!(app.entry(), "app.js");
        assert_eq!(app.source("lib.js"), Some("export {};"));
        assert_eq!(app.resolve("app.js", "./lib.js"), Some("lib.js"));
        assert_eq!(app.resolve("lib.js", "./lib.js"), None);
        assert_eq!(app.resolve("nowhere.js", "./lib.js"), None);
        assert!(AppModules::from_json(r#"{"entry": "app.js", "modules": {}}"#).is_err());
    }
}
