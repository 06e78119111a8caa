//! Spin's `spin.toml` (manifest version 2): the subset Rotor runs.
//!
//! Every error names the file, the line and the key, so a typo is found without guessing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub mod allowed_hosts;
pub mod runtime_config;
pub mod template;
pub mod toml_file;

use allowed_hosts::AllowedHost;
use template::Template;
use toml_file::{line_of, FileError};

/// A parsed and checked `spin.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Where the manifest was read from.
    pub path: PathBuf,
    /// The `[application]` table.
    pub application: Application,
    /// Every `[[trigger.http]]`, in file order.
    pub http_triggers: Vec<HttpTrigger>,
    /// Every `[[trigger.redis]]`, in file order.
    pub redis_triggers: Vec<RedisTrigger>,
    /// Every `[component.NAME]`, by name.
    pub components: BTreeMap<String, Component>,
    /// The application variables of `[variables]`, by name.
    pub variables: BTreeMap<String, VariableDecl>,
}

/// One application variable of `[variables]`: `name = { default = "..." }` or
/// `name = { required = true }`, optionally `secret = true`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    /// The value when no provider has one.
    #[serde(default)]
    pub default: Option<String>,
    /// Whether a provider must supply a value; `rotor up` refuses to start without one.
    #[serde(default)]
    pub required: bool,
    /// Whether the value is sensitive: never logged.
    #[serde(default)]
    pub secret: bool,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
}

/// The `[application]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The application's name.
    pub name: String,
    /// Its version, free-form.
    #[serde(default)]
    pub version: Option<String>,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// Who wrote it.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Application-wide trigger settings (`[application.trigger.redis]`, ...).
    #[serde(default)]
    pub trigger: Option<toml::Table>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// The route as written, for example `/hello/...`.
    pub route: String,
    /// The component that serves it.
    pub component: String,
    /// The line of the `route` key, for messages.
    pub line: usize,
    /// How the component runs: as a component, or as a WAGI module.
    pub executor: Executor,
}

/// One `[[trigger.redis]]` entry: a channel and the component that handles its messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTrigger {
    /// The server, a `redis://` URL: the entry's own `address`, else
    /// `[application.trigger.redis] address`. May hold `{{ variable }}` templates.
    pub address: String,
    /// The channel to subscribe to. May hold `{{ variable }}` templates (a Rotor extension).
    pub channel: String,
    /// The component that handles each message.
    pub component: String,
    /// The line of the `channel` key, for messages.
    pub line: usize,
}

/// How an HTTP route runs its component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executor {
    /// A component exporting `wasi:http/incoming-handler` (Spin's default).
    Component,
    /// A WASI preview 1 command module, run CGI-style.
    Wagi(WagiSettings),
}

/// `argv` of a WAGI route when the manifest gives none: the script, then the query's
/// `&`-separated parts.
pub const DEFAULT_WAGI_ARGV: &str = "${SCRIPT_NAME} ${ARGS}";

/// How a WAGI route runs its module (`executor = { type = "wagi", argv, entrypoint }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WagiSettings {
    /// The argument template; `${SCRIPT_NAME}` and `${ARGS}` are filled per request.
    pub argv: String,
    /// The exported function to call.
    pub entrypoint: String,
}

impl Default for WagiSettings {
    fn default() -> Self {
        WagiSettings {
            argv: DEFAULT_WAGI_ARGV.to_owned(),
            entrypoint: "_start".to_owned(),
        }
    }
}

/// One `[component.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The `.wasm` file, relative to the manifest's directory.
    pub source: String,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// Hosts the component may call, as `scheme://host:port` patterns, possibly with
    /// `{{ variable }}` templates; see [`allowed_hosts`].
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<Spanned<String>>,
    /// Key-value store labels it may open.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// SQLite database names it may open.
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// Component variables: templates over application variables, by name.
    #[serde(default)]
    pub variables: BTreeMap<String, Spanned<String>>,
    /// Environment variables visible to the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Files mounted into the guest (accepted, not yet served).
    #[serde(default)]
    pub files: Vec<toml::Value>,
    /// Files excluded from `files`.
    #[serde(default)]
    pub exclude_files: Vec<String>,
    /// Spin's AI models grant (accepted, not served by Rotor).
    #[serde(default)]
    pub ai_models: Vec<String>,
    /// How `rotor build` builds the component.
    #[serde(default)]
    pub build: Option<BuildSettings>,
}

/// The `[component.NAME.build]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSettings {
    /// A shell command that builds `source`.
    pub command: String,
    /// Where it runs, relative to the manifest's directory.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Files whose change calls for a rebuild (used by `spin watch`; accepted here).
    #[serde(default)]
    pub watch: Vec<String>,
}

/// Why a manifest could not be used: the file, line and key, and what is wrong.
pub type ManifestError = FileError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: Spanned<toml::Value>,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, Spanned<VariableDecl>>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, Component>,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
    #[serde(default)]
    redis: Vec<RawRedisTrigger>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedisTrigger {
    #[serde(default)]
    id: Option<String>,
    channel: Spanned<String>,
    component: Spanned<toml::Value>,
    #[serde(default)]
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    #[serde(default)]
    id: Option<String>,
    route: Spanned<RawRoute>,
    component: Spanned<toml::Value>,
    #[serde(default)]
    executor: Option<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        Manifest::parse(path, &toml_file::read(path)?)
    }

    /// Parses and checks manifest `text`, reporting errors against `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        let source = Source { path, text };
        let raw: RawManifest = toml_file::parse(path, text)?;

        let version = raw.spin_manifest_version.get_ref();
        if version.as_integer() != Some(2) && version.as_str() != Some("2") {
            return Err(source.error(
                Some(raw.spin_manifest_version.span()),
                Some("spin_manifest_version".into()),
                format!("Rotor reads manifest version 2; this file says {version}"),
            ));
        }
        let app_redis_address = raw
            .application
            .trigger
            .as_ref()
            .and_then(|t| t.get("redis"))
            .and_then(|r| r.get("address"))
            .and_then(|a| a.as_str())
            .map(str::to_owned);
        let redis_triggers =
            source.redis_triggers(raw.trigger.redis, &raw.component, app_redis_address)?;
        let http_triggers = source.http_triggers(raw.trigger.http, &raw.component)?;
        let variables = source.variables(raw.variables)?;
        for (name, component) in &raw.component {
            source.check_component(name, component, &variables)?;
        }
        Ok(Manifest {
            path: path.to_owned(),
            application: raw.application,
            http_triggers,
            redis_triggers,
            components: raw.component,
            variables,
        })
    }

    /// The directory relative paths in the manifest start from.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// A component's `variables`, parsed (the manifest was checked when loaded).
    pub fn variable_templates(component: &Component) -> BTreeMap<String, Template> {
        component
            .variables
            .iter()
            .filter_map(|(name, value)| {
                Some((name.clone(), Template::parse(value.get_ref()).ok()?))
            })
            .collect()
    }

    /// The absolute path of a component's `source`.
    pub fn source_path(&self, component: &Component) -> PathBuf {
        self.dir().join(&component.source)
    }
}

/// The text of a manifest and where it came from, for errors that name file, line and key.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: Option<String>,
        message: String,
    ) -> ManifestError {
        FileError::at(self.path, self.text, span, key, message)
    }

    /// The `[[trigger.redis]]` entries, each checked against the components.
    fn redis_triggers(
        &self,
        raw: Vec<RawRedisTrigger>,
        components: &BTreeMap<String, Component>,
        app_redis_address: Option<String>,
    ) -> Result<Vec<RedisTrigger>, ManifestError> {
        let mut redis_triggers = Vec::new();
        for (index, trigger) in raw.into_iter().enumerate() {
            let key = |field: &str| Some(format!("trigger.redis[{index}].{field}"));
            let Some(component) = trigger.component.get_ref().as_str() else {
                return Err(self.error(
                    Some(trigger.component.span()),
                    key("component"),
                    "expected the name of a `[component.NAME]` table".into(),
                ));
            };
            if !components.contains_key(component) {
                return Err(self.error(
                    Some(trigger.component.span()),
                    key("component"),
                    format!("no `[component.{component}]` table in this manifest"),
                ));
            }
            let Some(address) = trigger.address.or_else(|| app_redis_address.clone()) else {
                return Err(self.error(
                    Some(trigger.channel.span()),
                    key("address"),
                    "no Redis address: set `address` here or in `[application.trigger.redis]`"
                        .into(),
                ));
            };
            if trigger.channel.get_ref().is_empty() {
                return Err(self.error(
                    Some(trigger.channel.span()),
                    key("channel"),
                    "the channel is empty".into(),
                ));
            }
            let _ = trigger.id;
            redis_triggers.push(RedisTrigger {
                address,
                line: line_of(self.text, trigger.channel.span().start),
                channel: trigger.channel.into_inner(),
                component: component.to_owned(),
            });
        }

        Ok(redis_triggers)
    }

    /// The `[[trigger.http]]` entries, each checked against the components; private routes
    /// are left out.
    fn http_triggers(
        &self,
        raw: Vec<RawHttpTrigger>,
        components: &BTreeMap<String, Component>,
    ) -> Result<Vec<HttpTrigger>, ManifestError> {
        let mut http_triggers = Vec::new();
        for (index, trigger) in raw.into_iter().enumerate() {
            let key = |field: &str| Some(format!("trigger.http[{index}].{field}"));
            let line = line_of(self.text, trigger.route.span().start);
            let route = match trigger.route.get_ref() {
                RawRoute::Path(route) => route.clone(),
                RawRoute::Private { private: true } => continue,
                RawRoute::Private { private: false } => {
                    return Err(self.error(
                        Some(trigger.route.span()),
                        key("route"),
                        "a route is a path such as \"/hello/...\", or { private = true }".into(),
                    ))
                }
            };
            if !route.starts_with('/') {
                return Err(self.error(
                    Some(trigger.route.span()),
                    key("route"),
                    format!("route {route:?} must start with '/'"),
                ));
            }
            let executor = self.executor(trigger.executor.as_ref(), &key)?;
            let Some(component) = trigger.component.get_ref().as_str() else {
                return Err(self.error(
                    Some(trigger.component.span()),
                    key("component"),
                    "expected the name of a `[component.NAME]` table; inline components are not supported".into(),
                ));
            };
            if !components.contains_key(component) {
                return Err(self.error(
                    Some(trigger.component.span()),
                    key("component"),
                    format!("no `[component.{component}]` table in this manifest"),
                ));
            }
            let _ = trigger.id;
            http_triggers.push(HttpTrigger {
                route,
                component: component.to_owned(),
                line,
                executor,
            });
        }

        Ok(http_triggers)
    }

    /// A route's `executor`: a component (the default), or a WAGI module.
    fn executor(
        &self,
        executor: Option<&Spanned<toml::Table>>,
        key: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Executor, ManifestError> {
        let Some(executor) = executor else {
            return Ok(Executor::Component);
        };
        let table = executor.get_ref();
        let kind = table.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let text = |field: &str| -> Result<Option<String>, ManifestError> {
            match table.get(field) {
                None => Ok(None),
                Some(toml::Value::String(value)) => Ok(Some(value.clone())),
                Some(_) => Err(self.error(
                    Some(executor.span()),
                    key(&format!("executor.{field}")),
                    format!("`{field}` must be a string"),
                )),
            }
        };
        match kind {
            "spin" | "http" => Ok(Executor::Component),
            "wagi" => {
                if let Some(unknown) = table
                    .keys()
                    .find(|k| !["type", "argv", "entrypoint"].contains(&k.as_str()))
                {
                    return Err(self.error(
                        Some(executor.span()),
                        key(&format!("executor.{unknown}")),
                        "the wagi executor takes `argv` and `entrypoint`".into(),
                    ));
                }
                let defaults = WagiSettings::default();
                Ok(Executor::Wagi(WagiSettings {
                    argv: text("argv")?.unwrap_or(defaults.argv),
                    entrypoint: text("entrypoint")?.unwrap_or(defaults.entrypoint),
                }))
            }
            other => Err(self.error(
                Some(executor.span()),
                key("executor"),
                format!(
                    "executor type {other:?} is unknown; use \"spin\" (the default) or \"wagi\""
                ),
            )),
        }
    }

    /// `[variables]`: each has a valid name, and a `default` or `required = true`.
    fn variables(
        &self,
        raw: BTreeMap<String, Spanned<VariableDecl>>,
    ) -> Result<BTreeMap<String, VariableDecl>, ManifestError> {
        let mut variables = BTreeMap::new();
        for (name, declared) in raw {
            let key = Some(format!("variables.{name}"));
            let span = Some(declared.span());
            if let Err(e) = template::check_name(&name) {
                return Err(self.error(span, key, e.0));
            }
            let declared = declared.into_inner();
            match (&declared.default, declared.required) {
                (Some(_), true) => {
                    return Err(self.error(
                        span,
                        key,
                        "a variable has a `default` or is `required`, not both".into(),
                    ))
                }
                (None, false) => {
                    return Err(self.error(
                        span,
                        key,
                        "a variable needs a `default` or `required = true`".into(),
                    ))
                }
                _ => {}
            }
            variables.insert(name, declared);
        }

        Ok(variables)
    }

    /// A component's `variables` and `allowed_outbound_hosts`: valid, and naming only
    /// declared variables.
    fn check_component(
        &self,
        name: &str,
        component: &Component,
        variables: &BTreeMap<String, VariableDecl>,
    ) -> Result<(), ManifestError> {
        for (variable, value) in &component.variables {
            let key = Some(format!("component.{name}.variables.{variable}"));
            if let Err(e) = template::check_name(variable) {
                return Err(self.error(Some(value.span()), key, e.0));
            }
            let parsed = Template::parse(value.get_ref())
                .map_err(|e| self.error(Some(value.span()), key.clone(), e.0))?;
            let missing = parsed
                .variables()
                .find(|v| !variables.contains_key(*v))
                .map(str::to_owned);
            if let Some(missing) = missing {
                return Err(self.error(
                    Some(value.span()),
                    key,
                    format!("`{{{{ {missing} }}}}` names no variable of `[variables]`"),
                ));
            }
        }
        for (index, entry) in component.allowed_outbound_hosts.iter().enumerate() {
            let key = Some(format!("component.{name}.allowed_outbound_hosts[{index}]"));
            let parsed = Template::parse(entry.get_ref())
                .map_err(|e| self.error(Some(entry.span()), key.clone(), e.0))?;
            if parsed.variables().next().is_none() {
                AllowedHost::parse(entry.get_ref())
                    .map_err(|e| self.error(Some(entry.span()), key.clone(), e))?;
            }
            let missing = parsed
                .variables()
                .find(|v| !variables.contains_key(*v) && !component.variables.contains_key(*v))
                .map(str::to_owned);
            if let Some(missing) = missing {
                return Err(self.error(
                    Some(entry.span()),
                    key,
                    format!("`{{{{ {missing} }}}}` names no variable of `[variables]` or of the component"),
                ));
            }
        }
        Ok(())
    }
}

/// Finds `spin.toml` from what the user typed: a manifest file or a directory holding one.
pub fn locate(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("spin.toml")
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("app/spin.toml"), text)
    }

    const GOOD: &str = r#"spin_manifest_version = 2

[application]
name = "demo"

[[trigger.http]]
route = "/hello/..."
component = "hello"

[component.hello]
source = "hello.wasm"
allowed_outbound_hosts = ["https://example.com"]

[component.hello.build]
command = "cargo build"
"#;

    #[test]
    fn reads_a_good_manifest() {
        let manifest = parse(GOOD).unwrap();
        assert_eq!(manifest.application.name, "demo");
        assert_eq!(manifest.http_triggers.len(), 1);
        assert_eq!(manifest.http_triggers[0].route, "/hello/...");
        assert_eq!(manifest.http_triggers[0].line, 7);
        let hello = &manifest.components["hello"];
        assert_eq!(hello.source, "hello.wasm");
        assert_eq!(hello.build.as_ref().unwrap().command, "cargo build");
        assert_eq!(manifest.source_path(hello), Path::new("app/hello.wasm"));
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let text = GOOD.replace("source = \"hello.wasm\"", "source = 42");
        let error = parse(&text).unwrap_err();
        assert_eq!(error.line, Some(11), "{error}");
        assert_eq!(error.key.as_deref(), Some("component.hello.source"));
        assert!(
            error
                .to_string()
                .starts_with("app/spin.toml:11: at `component.hello.source`"),
            "{error}"
        );
    }

    #[test]
    fn syntax_error_names_the_line() {
        let text = GOOD.replace("name = \"demo\"", "name = \"demo");
        let error = parse(&text).unwrap_err();
        assert_eq!(error.line, Some(4), "{error}");
    }

    #[test]
    fn unknown_key_is_named() {
        let text = GOOD.replace(
            "source = \"hello.wasm\"",
            "source = \"hello.wasm\"\nsorce = \"x\"",
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(error.line, Some(12), "{error}");
        assert_eq!(error.key.as_deref(), Some("component.hello.sorce"));
    }

    #[test]
    fn missing_component_is_named() {
        let text = GOOD.replace("component = \"hello\"", "component = \"goodbye\"");
        let error = parse(&text).unwrap_err();
        assert_eq!(error.line, Some(8));
        assert_eq!(error.key.as_deref(), Some("trigger.http[0].component"));
        assert!(error.message.contains("component.goodbye"), "{error}");
    }

    #[test]
    fn variables_are_read_and_checked() {
        let text = GOOD.replace(
            "[[trigger.http]]",
            "[variables]\napi_host = { default = \"example.com\" }\ntoken = { required = true, secret = true }\n\n[[trigger.http]]",
        ).replace(
            "allowed_outbound_hosts = [\"https://example.com\"]",
            "allowed_outbound_hosts = [\"https://{{ api_host }}\"]\nvariables = { auth = \"Bearer {{ token }}\" }",
        );
        let manifest = parse(&text).unwrap();
        assert_eq!(
            manifest.variables["api_host"].default.as_deref(),
            Some("example.com")
        );
        assert!(manifest.variables["token"].required && manifest.variables["token"].secret);
        let templates = Manifest::variable_templates(&manifest.components["hello"]);
        assert_eq!(templates["auth"].variables().collect::<Vec<_>>(), ["token"]);

        let both = text.replace(
            "required = true, secret",
            "default = \"x\", required = true, secret",
        );
        let error = parse(&both).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("variables.token"), "{error}");
        assert_eq!(error.line, Some(8), "{error}");

        let undeclared = text.replace("Bearer {{ token }}", "Bearer {{ tokn }}");
        let error = parse(&undeclared).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("component.hello.variables.auth"),
            "{error}"
        );
        assert!(error.message.contains("tokn"), "{error}");
    }

    #[test]
    fn bad_outbound_hosts_are_named() {
        let text = GOOD.replace("https://example.com", "example.com");
        let error = parse(&text).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("component.hello.allowed_outbound_hosts[0]")
        );
        assert_eq!(error.line, Some(12), "{error}");
        assert!(error.message.contains("no scheme"), "{error}");
    }

    #[test]
    fn redis_triggers_are_read() {
        let text = format!(
            "{}\n[[trigger.redis]]\nchannel = \"orders\"\ncomponent = \"hello\"\n\n[[trigger.redis]]\nchannel = \"other\"\ncomponent = \"hello\"\naddress = \"redis://elsewhere:6379\"\n",
            GOOD.replace(
                "name = \"demo\"",
                "name = \"demo\"\n[application.trigger.redis]\naddress = \"redis://127.0.0.1:6379\"",
            )
        );
        let manifest = parse(&text).unwrap();
        assert_eq!(manifest.redis_triggers.len(), 2);
        assert_eq!(manifest.redis_triggers[0].address, "redis://127.0.0.1:6379");
        assert_eq!(manifest.redis_triggers[0].channel, "orders");
        assert_eq!(manifest.redis_triggers[1].address, "redis://elsewhere:6379");

        let without_address =
            format!("{GOOD}\n[[trigger.redis]]\nchannel = \"orders\"\ncomponent = \"hello\"\n");
        let error = parse(&without_address).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("trigger.redis[0].address"),
            "{error}"
        );
        assert!(error.line.is_some(), "{error}");
    }

    #[test]
    fn wagi_routes_are_read() {
        let text = GOOD.replace(
            "component = \"hello\"",
            "component = \"hello\"\nexecutor = { type = \"wagi\", argv = \"x ${ARGS}\" }",
        );
        let manifest = parse(&text).unwrap();
        assert_eq!(
            manifest.http_triggers[0].executor,
            Executor::Wagi(WagiSettings {
                argv: "x ${ARGS}".into(),
                entrypoint: "_start".into()
            })
        );
        let text = GOOD.replace(
            "component = \"hello\"",
            "component = \"hello\"\nexecutor = { type = \"wagi\", argz = \"x\" }",
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("trigger.http[0].executor.argz"),
            "{error}"
        );
        let text = GOOD.replace(
            "component = \"hello\"",
            "component = \"hello\"\nexecutor = { type = \"cgi\" }",
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(error.line, Some(9), "{error}");
    }

    #[test]
    fn other_manifest_versions_are_refused() {
        let text = GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        let error = parse(&text).unwrap_err();
        assert_eq!(error.line, Some(1));
        assert_eq!(error.key.as_deref(), Some("spin_manifest_version"));
    }
}
