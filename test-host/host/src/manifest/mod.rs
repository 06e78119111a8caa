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
    /// What the manifest asks for that Rotor reads but does not act on, one sentence each,
    /// for `rotor up` to print.
    pub notices: Vec<String>,
}

/// One application variable of `[variables]`: `name = { default = "..." }` or
/// `name = { required = true }`, optionally `secret = true`.
#[derive(Clone, Default, Deserialize)]
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

impl std::fmt::Debug for VariableDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A secret's default is as secret as any other value of it.
        let hidden = self
            .default
            .as_ref()
            .map(|value| crate::secret::Secret::new(value.as_str()));
        let mut debug = f.debug_struct("VariableDecl");
        if self.secret {
            debug.field("default", &hidden);
        } else {
            debug.field("default", &self.default);
        }
        debug
            .field("required", &self.required)
            .field("secret", &self.secret)
            .field("description", &self.description)
            .finish()
    }
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
    /// The environments `spin build` checks the app against; a build-time check Rotor does
    /// not make (see [`Manifest::notices`]).
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    /// Settings of other tools (`[application.tool.NAME]`), kept for them and unused here.
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// Where the trigger is reached.
    pub route: Route,
    /// What answers it.
    pub handler: HttpHandler,
    /// The line of the `route` key, for messages.
    pub line: usize,
}

/// Where an HTTP trigger is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A path such as `/hello/...`, as written.
    Path(String),
    /// `route = { private = true }`: no path; only other components of the app reach it, at
    /// `http://COMPONENT.spin.internal`.
    Private,
}

impl HttpTrigger {
    /// The route's path; `None` for a private route.
    pub fn path(&self) -> Option<&str> {
        match &self.route {
            Route::Path(path) => Some(path),
            Route::Private => None,
        }
    }

    /// The component that answers, unless the answer is a static response.
    pub fn component(&self) -> Option<&str> {
        match &self.handler {
            HttpHandler::Component { name, .. } => Some(name),
            HttpHandler::Static(_) => None,
        }
    }
}

/// What answers an HTTP trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpHandler {
    /// A component, run by `executor`.
    Component {
        /// The `[component.NAME]` it names.
        name: String,
        /// How the component runs: as a component, or as a WAGI module.
        executor: Executor,
    },
    /// `static_response = { status_code, headers, body }`: the same answer every time.
    Static(StaticResponse),
}

/// A fixed answer, from a trigger's `static_response`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticResponse {
    /// The status; 200 when not given.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// The headers, by name.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body; empty when not given.
    #[serde(default)]
    pub body: Option<String>,
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

/// Where a component's code comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum ComponentSource {
    /// A `.wasm` file, relative to the manifest's directory.
    Local(String),
    /// `{ url, digest }`: downloaded once into the cache and checked against `digest`
    /// (`sha256:HEX`).
    Remote {
        /// Where to download it from.
        url: String,
        /// Its SHA-256 digest, `sha256:` and 64 hex digits.
        digest: String,
    },
    /// `{ registry, package, version }`: a package from an OCI registry, which Rotor does
    /// not fetch (the load stops with an error).
    Registry {
        /// The registry; Spin's default one when absent.
        #[serde(default)]
        registry: Option<String>,
        /// The package, `namespace:name`.
        package: String,
        /// The version.
        version: String,
    },
}

impl std::fmt::Display for ComponentSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComponentSource::Local(path) => write!(f, "{path}"),
            ComponentSource::Remote { url, .. } => write!(f, "{url}"),
            ComponentSource::Registry {
                package, version, ..
            } => write!(f, "{package}@{version}"),
        }
    }
}

/// One `[component.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Where the component's code comes from.
    pub source: ComponentSource,
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
    /// Files mounted read-only into the guest, as Spin mounts them.
    #[serde(default)]
    pub files: Vec<Spanned<FilesMount>>,
    /// Glob patterns, relative to the manifest's directory, of files `files` leaves out.
    #[serde(default)]
    pub exclude_files: Vec<String>,
    /// The models `fermyon:spin/llm` may use.
    #[serde(default)]
    pub ai_models: Vec<String>,
    /// How `rotor build` builds the component.
    #[serde(default)]
    pub build: Option<BuildSettings>,
    /// The hosts of Spin 1's `allowed_http_hosts`, which Spin still reads, as
    /// `allowed_outbound_hosts` entries.
    #[serde(default)]
    pub allowed_http_hosts: Vec<Spanned<String>>,
    /// The environments `spin build` checks this component against (see
    /// [`Manifest::notices`]).
    #[serde(default)]
    pub targets: Option<Vec<toml::Value>>,
    /// Settings of other tools (`[component.NAME.tool.TOOL]`), kept for them and unused here.
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
    /// Components this one imports; Rotor does not compose them, so a component with any
    /// stops the load.
    #[serde(default)]
    pub dependencies: Option<Spanned<toml::Table>>,
    /// Whether the dependencies share this component's configuration.
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
}

/// One entry of a component's `files`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum FilesMount {
    /// A file, a directory or a glob pattern, relative to the manifest's directory; what it
    /// names appears at the same relative path under the guest's `/`.
    Pattern(String),
    /// A file or directory of the app (`source`) placed at `destination`, an absolute guest
    /// path.
    Placement {
        /// The file or directory, relative to the manifest's directory.
        source: String,
        /// Where the guest finds it, starting with `/`.
        destination: String,
    },
}

/// The `[component.NAME.build]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSettings {
    /// The shell command, or commands run in order, that build `source`.
    pub command: BuildCommands,
    /// Where it runs, relative to the manifest's directory.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Files whose change calls for a rebuild (used by `spin watch`; accepted here).
    #[serde(default)]
    pub watch: Vec<String>,
}

/// `build.command`: one shell command, or several run in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum BuildCommands {
    /// `command = "..."`.
    One(String),
    /// `command = ["...", "..."]`.
    Several(Vec<String>),
}

impl std::fmt::Display for BuildCommands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let commands: Vec<&str> = self.iter().collect();
        write!(f, "{}", commands.join(" && "))
    }
}

impl BuildCommands {
    /// The commands, in the order they run.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let commands: &[String] = match self {
            BuildCommands::One(command) => std::slice::from_ref(command),
            BuildCommands::Several(commands) => commands,
        };
        commands.iter().map(String::as_str)
    }
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
#[serde(deny_unknown_fields)]
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
    #[serde(default)]
    component: Option<Spanned<toml::Value>>,
    #[serde(default)]
    static_response: Option<Spanned<StaticResponse>>,
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
        let mut raw: RawManifest = toml_file::parse(path, text).map_err(explain_trigger_type)?;
        let mut notices = Vec::new();

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
        source.http_base(&raw.application, &mut notices)?;
        let variables = source.variables(raw.variables)?;
        for (name, component) in &mut raw.component {
            source.convert_allowed_http_hosts(name, component, &mut notices)?;
            source.check_component(name, component, &variables)?;
        }
        if !raw.application.targets.is_empty()
            || raw.component.values().any(|c| c.targets.is_some())
        {
            notices.push(
                "`targets` is checked by `spin build` against deployment environments; Rotor does not check it".into(),
            );
        }
        Ok(Manifest {
            path: path.to_owned(),
            application: raw.application,
            http_triggers,
            redis_triggers,
            components: raw.component,
            variables,
            notices,
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

    /// The absolute path of a component's local `source`; `None` for one that is downloaded.
    pub fn source_path(&self, component: &Component) -> Option<PathBuf> {
        match &component.source {
            ComponentSource::Local(path) => Some(self.dir().join(path)),
            _ => None,
        }
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
            let component = self.component_reference(&trigger.component, components, &key)?;
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
                component,
            });
        }

        Ok(redis_triggers)
    }

    /// The `[[trigger.http]]` entries, each checked against the components.
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
                RawRoute::Path(route) => Route::Path(route.clone()),
                RawRoute::Private { private: true } => Route::Private,
                RawRoute::Private { private: false } => {
                    return Err(self.error(
                        Some(trigger.route.span()),
                        key("route"),
                        "a route is a path such as \"/hello/...\", or { private = true }".into(),
                    ))
                }
            };
            if let Route::Path(path) = &route {
                if !path.starts_with('/') {
                    return Err(self.error(
                        Some(trigger.route.span()),
                        key("route"),
                        format!("route {path:?} must start with '/'"),
                    ));
                }
            }
            let handler = match (trigger.component, trigger.static_response) {
                (Some(component), None) => {
                    let executor = self.executor(trigger.executor.as_ref(), &key)?;
                    let name = self.component_reference(&component, components, &key)?;
                    HttpHandler::Component { name, executor }
                }
                (None, Some(response)) => {
                    if route == Route::Private {
                        return Err(self.error(
                            Some(response.span()),
                            key("static_response"),
                            "a private route is reached only through a component's name, so it needs a `component`".into(),
                        ));
                    }
                    HttpHandler::Static(self.static_response(response, &key)?)
                }
                (Some(component), Some(_)) => {
                    return Err(self.error(
                        Some(component.span()),
                        key("component"),
                        "a trigger has a `component` or a `static_response`, not both".into(),
                    ))
                }
                (None, None) => {
                    return Err(self.error(
                        Some(trigger.route.span()),
                        key("component"),
                        "a trigger needs a `component` (or a `static_response`)".into(),
                    ))
                }
            };
            let _ = trigger.id;
            http_triggers.push(HttpTrigger {
                route,
                handler,
                line,
            });
        }

        Ok(http_triggers)
    }

    /// The name a trigger's `component` gives, which must be a `[component.NAME]` table.
    fn component_reference(
        &self,
        component: &Spanned<toml::Value>,
        components: &BTreeMap<String, Component>,
        key: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, ManifestError> {
        let Some(name) = component.get_ref().as_str() else {
            return Err(self.error(
                Some(component.span()),
                key("component"),
                "Rotor reads components from `[component.NAME]` tables: move this inline table into one and write `component = \"NAME\"` here".into(),
            ));
        };
        if !components.contains_key(name) {
            return Err(self.error(
                Some(component.span()),
                key("component"),
                format!("no `[component.{name}]` table in this manifest"),
            ));
        }
        Ok(name.to_owned())
    }

    /// A `static_response`, whose status and headers must be valid HTTP.
    fn static_response(
        &self,
        response: Spanned<StaticResponse>,
        key: &dyn Fn(&str) -> Option<String>,
    ) -> Result<StaticResponse, ManifestError> {
        let span = response.span();
        let response = response.into_inner();
        if let Some(status) = response.status_code {
            if !(100..=999).contains(&status) {
                return Err(self.error(
                    Some(span),
                    key("static_response.status_code"),
                    format!("{status} is not an HTTP status code"),
                ));
            }
        }
        for (name, value) in &response.headers {
            let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && http::HeaderValue::from_str(value).is_ok();
            if !valid {
                return Err(self.error(
                    Some(span.clone()),
                    key(&format!("static_response.headers.{name}")),
                    "a header is a valid name with a string value".into(),
                ));
            }
        }
        Ok(response)
    }

    /// `[application.trigger.http] base`, which Spin 3 reads only as `"/"`.
    fn http_base(
        &self,
        application: &Application,
        notices: &mut Vec<String>,
    ) -> Result<(), ManifestError> {
        let Some(http) = application.trigger.as_ref().and_then(|t| t.get("http")) else {
            return Ok(());
        };
        let key = |field: &str| Some(format!("application.trigger.http.{field}"));
        let Some(table) = http.as_table() else {
            return Err(self.error(None, key(""), "expected a table".into()));
        };
        for (field, value) in table {
            match (field.as_str(), value.as_str()) {
                ("base", Some("/")) => notices.push(
                    "`[application.trigger.http] base` is deprecated; \"/\" is what every route starts from anyway".into(),
                ),
                ("base", _) => {
                    return Err(self.error(
                        None,
                        key("base"),
                        format!("`base = {value}` is no longer read (as in Spin 3): write the base at the start of each [[trigger.http]] route instead"),
                    ))
                }
                _ => {
                    return Err(self.error(
                        None,
                        key(field),
                        "the HTTP trigger has no app-wide setting of this name".into(),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Spin 1's `allowed_http_hosts`, turned into the `allowed_outbound_hosts` entries Spin
    /// turns it into.
    fn convert_allowed_http_hosts(
        &self,
        name: &str,
        component: &mut Component,
        notices: &mut Vec<String>,
    ) -> Result<(), ManifestError> {
        if component.allowed_http_hosts.is_empty() {
            return Ok(());
        }
        let mut converted = Vec::new();
        for (index, entry) in component.allowed_http_hosts.iter().enumerate() {
            let hosts = allowed_hosts::from_allowed_http_host(entry.get_ref()).map_err(|e| {
                self.error(
                    Some(entry.span()),
                    Some(format!("component.{name}.allowed_http_hosts[{index}]")),
                    e,
                )
            })?;
            converted.extend(
                hosts
                    .into_iter()
                    .map(|host| Spanned::new(entry.span(), host)),
            );
        }
        let list: Vec<&str> = converted.iter().map(|h| h.get_ref().as_str()).collect();
        notices.push(format!(
            "component `{name}`: `allowed_http_hosts` is deprecated; write `allowed_outbound_hosts = {list:?}` instead"
        ));
        component.allowed_outbound_hosts.extend(converted);
        Ok(())
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
        if let Some(dependencies) = component
            .dependencies
            .as_ref()
            .filter(|d| !d.get_ref().is_empty())
        {
            return Err(self.error(
                Some(dependencies.span()),
                Some(format!("component.{name}.dependencies")),
                "Rotor does not compose component dependencies: compose them ahead of time (for example with `wac plug`) and make the composed component the `source`".into(),
            ));
        }
        if let ComponentSource::Registry { package, .. } = &component.source {
            return Err(self.error(
                None,
                Some(format!("component.{name}.source")),
                format!("Rotor does not fetch registry packages such as {package:?}: download the component (`wkg get`), and give its path, or `{{ url, digest }}`, as `source`"),
            ));
        }
        if let ComponentSource::Remote { digest, .. } = &component.source {
            if !is_sha256_digest(digest) {
                return Err(self.error(
                    None,
                    Some(format!("component.{name}.source.digest")),
                    format!("digest {digest:?} is not `sha256:` followed by 64 hex digits"),
                ));
            }
        }
        for (index, entry) in component.files.iter().enumerate() {
            let key = Some(format!("component.{name}.files[{index}]"));
            check_mount(entry.get_ref()).map_err(|e| self.error(Some(entry.span()), key, e))?;
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

/// A `sha256:HEX` digest, as `source = { url, digest }` takes.
fn is_sha256_digest(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Names an unknown trigger type for what it is, instead of serde's "unknown field".
fn explain_trigger_type(mut error: ManifestError) -> ManifestError {
    let at_trigger_table = error.key.as_deref().is_some_and(|key| {
        key == "trigger"
            || key
                .strip_prefix("trigger.")
                .is_some_and(|kind| !kind.contains(['.', '[']))
    });
    if at_trigger_table && error.message.starts_with("unknown field") {
        let kind = error.message.split('`').nth(1).unwrap_or("?").to_owned();
        error.key = Some(format!("trigger.{kind}"));
        error.message = format!(
            "trigger type `{kind}` is not one Rotor runs: it runs `http` and `redis` triggers (`{kind}` needs Spin with its trigger plugin)"
        );
    }
    error
}

/// A `files` entry stays inside the app directory, and a placement's destination is an
/// absolute guest path; symbolic links are checked when the files are staged.
fn check_mount(mount: &FilesMount) -> Result<(), String> {
    let leaves_the_app = |path: &str| {
        let path = Path::new(path);
        path.is_absolute()
            || path
                .components()
                .any(|part| matches!(part, std::path::Component::ParentDir))
    };
    let source = match mount {
        FilesMount::Pattern(pattern) if pattern == "." || pattern.ends_with("/.") => {
            return Err(format!(
                "{pattern:?} names a whole directory by `.`; write {{ source = \"DIR\", destination = \"/\" }} or a pattern ending in \"**/*\""
            ))
        }
        FilesMount::Pattern(pattern) => pattern,
        FilesMount::Placement {
            source,
            destination,
        } => {
            if !destination.starts_with('/') || leaves_the_app(&destination[1..]) {
                return Err(format!(
                    "destination {destination:?} must be an absolute guest path such as \"/static\", without \"..\""
                ));
            }
            source
        }
    };
    if source.is_empty() || leaves_the_app(source) {
        return Err(format!(
            "{source:?} is outside the application directory; `files` takes paths and patterns relative to the directory of spin.toml"
        ));
    }
    Ok(())
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
        assert_eq!(manifest.http_triggers[0].path(), Some("/hello/..."));
        assert_eq!(manifest.http_triggers[0].line, 7);
        let hello = &manifest.components["hello"];
        assert_eq!(hello.source, ComponentSource::Local("hello.wasm".into()));
        assert_eq!(
            hello
                .build
                .as_ref()
                .unwrap()
                .command
                .iter()
                .collect::<Vec<_>>(),
            ["cargo build"]
        );
        assert_eq!(
            manifest.source_path(hello).unwrap(),
            Path::new("app/hello.wasm")
        );
        assert!(manifest.notices.is_empty(), "{:?}", manifest.notices);
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
        let secret_default = VariableDecl {
            default: Some("hunter2".into()),
            secret: true,
            ..VariableDecl::default()
        };
        let shown = format!("{secret_default:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("<redacted>"),
            "{shown}"
        );
        let plain = VariableDecl {
            default: Some("example.com".into()),
            ..VariableDecl::default()
        };
        assert!(format!("{plain:?}").contains("example.com"));
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
            manifest.http_triggers[0].handler,
            HttpHandler::Component {
                name: "hello".into(),
                executor: Executor::Wagi(WagiSettings {
                    argv: "x ${ARGS}".into(),
                    entrypoint: "_start".into()
                })
            }
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
    fn unknown_trigger_types_are_named() {
        let text = format!(
            "{GOOD}\n[[trigger.cron]]\ncron_expression = \"* * * * *\"\ncomponent = \"hello\"\n"
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("trigger.cron"), "{error}");
        assert!(error.message.contains("trigger type `cron`"), "{error}");
        assert!(error.line.is_some(), "{error}");
    }

    #[test]
    fn spin_3_fields_are_read() {
        let text = GOOD
            .replace(
                "name = \"demo\"",
                "name = \"demo\"\ntargets = [\"spin-up:3.3\"]\n[application.tool.spin-test]\nsource = \"tests\"\n[application.trigger.http]\nbase = \"/\"",
            )
            .replace(
                "command = \"cargo build\"",
                "command = [\"npm install\", \"npm run build\"]\nworkdir = \"web\"\nwatch = [\"src/**/*\"]\n[component.hello.tool.spin-test]\nsource = \"x\"",
            );
        let manifest = parse(&text).unwrap();
        let build = manifest.components["hello"].build.as_ref().unwrap();
        assert_eq!(
            build.command.iter().collect::<Vec<_>>(),
            ["npm install", "npm run build"]
        );
        assert_eq!(build.workdir.as_deref(), Some("web"));
        assert!(manifest.application.tool.contains_key("spin-test"));
        assert!(manifest.components["hello"].tool.contains_key("spin-test"));
        assert_eq!(manifest.notices.len(), 2, "{:?}", manifest.notices);

        let based = GOOD.replace(
            "name = \"demo\"",
            "name = \"demo\"\n[application.trigger.http]\nbase = \"/api\"",
        );
        let error = parse(&based).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("application.trigger.http.base"));
        assert!(
            error.message.contains("each [[trigger.http]] route"),
            "{error}"
        );
    }

    #[test]
    fn private_routes_and_static_responses_are_kept() {
        let text = GOOD.replace(
            "route = \"/hello/...\"",
            "route = { private = true }",
        ) + "\n[[trigger.http]]\nroute = \"/health\"\nstatic_response = { status_code = 204, headers = { x-health = \"ok\" } }\n";
        let manifest = parse(&text).unwrap();
        assert_eq!(manifest.http_triggers[0].route, Route::Private);
        assert_eq!(manifest.http_triggers[0].component(), Some("hello"));
        let HttpHandler::Static(response) = &manifest.http_triggers[1].handler else {
            panic!("{:?}", manifest.http_triggers[1]);
        };
        assert_eq!(response.status_code, Some(204));
        assert_eq!(response.headers["x-health"], "ok");

        let both = text.replace(
            "static_response = {",
            "component = \"hello\"\nstatic_response = {",
        );
        let error = parse(&both).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("trigger.http[1].component"),
            "{error}"
        );
    }

    #[test]
    fn sources_other_than_files_are_read_or_refused() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let remote = GOOD.replace(
            "source = \"hello.wasm\"",
            &format!(
                "source = {{ url = \"https://example.com/hello.wasm\", digest = \"{digest}\" }}"
            ),
        );
        let manifest = parse(&remote).unwrap();
        assert_eq!(
            manifest.components["hello"].source,
            ComponentSource::Remote {
                url: "https://example.com/hello.wasm".into(),
                digest
            }
        );
        assert_eq!(manifest.source_path(&manifest.components["hello"]), None);

        let bad_digest = remote.replace("sha256:abab", "md5:abab");
        let error = parse(&bad_digest).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("component.hello.source.digest"),
            "{error}"
        );

        let registry = GOOD.replace(
            "source = \"hello.wasm\"",
            "source = { package = \"acme:hello\", version = \"1.0.0\" }",
        );
        let error = parse(&registry).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("component.hello.source"),
            "{error}"
        );
        assert!(error.message.contains("acme:hello"), "{error}");
    }

    #[test]
    fn dependencies_are_refused_with_what_to_do() {
        let text = GOOD.replace(
            "[component.hello.build]",
            "[component.hello.dependencies]\n\"acme:math/adder\" = { path = \"adder.wasm\" }\n\n[component.hello.build]",
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("component.hello.dependencies"),
            "{error}"
        );
        assert!(error.message.contains("wac plug"), "{error}");
        assert!(error.line.is_some(), "{error}");
    }

    #[test]
    fn allowed_http_hosts_become_outbound_hosts() {
        let text = GOOD.replace(
            "allowed_outbound_hosts = [\"https://example.com\"]",
            "allowed_http_hosts = [\"api.example.com:8080\"]",
        );
        let manifest = parse(&text).unwrap();
        let hosts: Vec<&str> = manifest.components["hello"]
            .allowed_outbound_hosts
            .iter()
            .map(|h| h.get_ref().as_str())
            .collect();
        assert_eq!(
            hosts,
            [
                "http://api.example.com:8080",
                "https://api.example.com:8080"
            ]
        );
        assert!(
            manifest.notices[0].contains("allowed_http_hosts"),
            "{:?}",
            manifest.notices
        );
    }

    #[test]
    fn files_outside_the_app_are_named() {
        for entry in [
            "\"../secrets/*\"",
            "\"/etc/passwd\"",
            "{ source = \"../up\", destination = \"/up\" }",
            "{ source = \"assets\", destination = \"relative\" }",
            "\".\"",
        ] {
            let text = GOOD.replace(
                "allowed_outbound_hosts",
                &format!("files = [\"ok.txt\", {entry}]\nallowed_outbound_hosts"),
            );
            let error = parse(&text).unwrap_err();
            assert_eq!(
                error.key.as_deref(),
                Some("component.hello.files[1]"),
                "{entry}: {error}"
            );
            assert_eq!(error.line, Some(12), "{entry}: {error}");
        }
    }

    /// The shapes `spin new` writes from Spin 3.6's templates (filled in), which must load
    /// as they are.
    #[test]
    fn spin_template_shapes_load() {
        let header = "spin_manifest_version = 2\n\n[application]\nname = \"my-app\"\nversion = \"0.1.0\"\nauthors = [\"Ada <ada@example.com>\"]\ndescription = \"\"\n";
        let digest = format!("sha256:{}", "5e".repeat(32));
        let shapes = [
            // Rust, built as a core module.
            "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"my-app\"\n\n[component.my-app]\nsource = \"target/wasm32-wasip1/release/my_app.wasm\"\nallowed_outbound_hosts = []\n[component.my-app.build]\ncommand = \"cargo build --target wasm32-wasip1 --release\"\nwatch = [\"src/**/*.rs\", \"Cargo.toml\"]\n".to_owned(),
            // TinyGo.
            "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"my-app\"\n\n[component.my-app]\nsource = \"main.wasm\"\nallowed_outbound_hosts = []\n[component.my-app.build]\ncommand = \"tinygo build -target=wasip1 -buildmode=c-shared -no-debug -o main.wasm .\"\nwatch = [\"**/*.go\", \"go.mod\"]\n".to_owned(),
            // Redis, with the address app-wide.
            "[application.trigger.redis]\naddress = \"redis://localhost:6379\"\n\n[[trigger.redis]]\nchannel = \"messages\"\ncomponent = \"my-app\"\n\n[component.my-app]\nsource = \"target/wasm32-wasip1/release/my_app.wasm\"\nallowed_outbound_hosts = []\n".to_owned(),
            // A file server downloaded by digest, serving a placed directory.
            format!("[[trigger.http]]\nroute = \"/static/...\"\ncomponent = \"my-app\"\n\n[component.my-app]\nsource = {{ url = \"https://example.com/fileserver.wasm\", digest = \"{digest}\" }}\nfiles = [{{ source = \"assets\", destination = \"/\" }}]\n"),
            // A redirect, configured through the environment.
            format!("[[trigger.http]]\nroute = \"/old\"\ncomponent = \"my-app\"\n\n[component.my-app]\nsource = {{ url = \"https://example.com/redirect.wasm\", digest = \"{digest}\" }}\nenvironment = {{ DESTINATION = \"/new\" }}\n"),
            // C or Zig through WAGI.
            "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"my-app\"\nexecutor = { type = \"wagi\" }\n\n[component.my-app]\nsource = \"main.wasm\"\nallowed_outbound_hosts = []\n[component.my-app.build]\ncommand = \"zig build-exe -O ReleaseSmall -target wasm32-wasi main.c -lc\"\nwatch = [\"**/*.c\"]\n".to_owned(),
        ];
        for shape in shapes {
            let text = format!("#:schema https://schemas.spinframework.dev/spin/manifest-v2/latest.json\n\n{header}\n{shape}");
            let manifest = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert!(manifest.components.contains_key("my-app"), "{text}");
            assert!(manifest.notices.is_empty(), "{:?}", manifest.notices);
        }
    }

    #[test]
    fn other_manifest_versions_are_refused() {
        let text = GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        let error = parse(&text).unwrap_err();
        assert_eq!(error.line, Some(1));
        assert_eq!(error.key.as_deref(), Some("spin_manifest_version"));
    }
}
