//! Spin's `runtime-config.toml`: where each key-value store and SQLite database lives.
//!
//! ```toml
//! [key_value_store.cache]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//! # prefix = "cache:"        # the default: the label and a colon; "" for Spin's bare keys
//!
//! [key_value_store.archive]
//! type = "spin"              # a SQLite file
//! path = "data/archive.db"   # relative to this file
//!
//! [sqlite_database.default]
//! type = "spin"
//! path = "data/app.db"
//!
//! [[variables_provider]]     # application variables from HashiCorp Vault
//!                            # (`config_provider` is the older name of the same list)
//! type = "vault"
//! url = "http://127.0.0.1:8200"
//! token = "root"
//! mount = "secret"
//! prefix = "my-app"          # optional
//!
//! [llm_compute]              # where `fermyon:spin/llm` runs models
//! type = "remote_http"
//! url = "https://llm.example.com"
//! auth_token = "..."
//!
//! [[client_tls]]             # whom to trust when these components reach these hosts over
//!                            # TLS (PostgreSQL, MySQL, rediss://, mqtts://)
//! component_ids = ["api"]
//! hosts = ["db.internal.example"]
//! ca_roots_file = "certs/internal-ca.pem"   # instead of the platform's roots, unless
//! # ca_use_platform_roots = true            # these say otherwise
//! # ca_use_webpki_roots = true              # (Mozilla's roots, built in)
//! # client_cert_file = "certs/client.pem"   # mutual TLS: both or neither
//! # client_private_key_file = "certs/client.key"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::toml_file::{self, FileError};
use crate::secret::{redact_url, Secret};

/// The parsed file, with paths made absolute.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfigFile {
    /// Key-value stores by label.
    pub key_value_stores: BTreeMap<String, KeyValueStoreConfig>,
    /// SQLite databases by name.
    pub sqlite_databases: BTreeMap<String, SqliteDatabaseConfig>,
    /// The Vault variables providers, in file order (asked in that order).
    /// The variables providers, in file order (asked in that order, after `--variable` and
    /// before the environment).
    pub variables_providers: Vec<VariablesProviderConfig>,
    /// `[llm_compute]`, when the file has one.
    pub llm_compute: Option<LlmComputeConfig>,
    /// The `[[client_tls]]` entries, in file order (the first that names a component and a
    /// host decides).
    pub client_tls: Vec<ClientTlsConfig>,
}

/// One `[[client_tls]]` entry, Spin's shape: how the components it names verify the hosts it
/// names when they connect to them over TLS, and the certificate they show, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTlsConfig {
    /// `component_ids`: the components this applies to.
    pub component_ids: Vec<String>,
    /// `hosts`: host names or IP addresses, without port.
    pub hosts: Vec<String>,
    /// Trust the platform's root certificates (`ca_use_platform_roots`; by default only when
    /// no `ca_roots_file` is given and `ca_use_webpki_roots` is not set, as in Spin).
    pub use_platform_roots: bool,
    /// Trust Mozilla's root certificates, built into Rotor (`ca_use_webpki_roots`).
    pub use_webpki_roots: bool,
    /// `ca_roots_file`: a PEM file of further root certificates.
    pub ca_roots_file: Option<PathBuf>,
    /// `client_cert_file` and `client_private_key_file`: a PEM certificate chain and its key,
    /// shown to servers that ask for one.
    pub client_cert: Option<ClientCertFiles>,
}

/// A client certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertFiles {
    /// The certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub private_key_file: PathBuf,
}

/// Where `fermyon:spin/llm` runs its models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmComputeConfig {
    /// `type = "spin"`: models on this machine, which Rotor does not run (calls fail with a
    /// runtime error, as in a Spin built without local models).
    Local,
    /// `type = "remote_http"`: a model server over HTTP, with a bearer token.
    RemoteHttp {
        /// The server, without a trailing `/`.
        url: String,
        /// The bearer token.
        auth_token: Secret<String>,
        /// The protocol it speaks (`api_type`).
        api: LlmApi,
    },
}

/// The protocol of a `remote_http` model server (`api_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmApi {
    /// `"default"`: Spin's own (`POST /infer`, `POST /embed`).
    Spin,
    /// `"open_ai"`: OpenAI's (`POST /v1/chat/completions`, `POST /v1/embeddings`).
    OpenAi,
}

/// Where one key-value store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyValueStoreConfig {
    /// A SQLite file; `None` means the app's default key-value file.
    Sqlite(Option<PathBuf>),
    /// A Redis server.
    Redis {
        /// `redis://host:port[/db]`.
        url: String,
        /// What the store's keys start with on the server; `None` means the label and a
        /// colon, `Some("")` none at all (Spin's layout).
        prefix: Option<String>,
    },
}

impl std::fmt::Debug for KeyValueStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyValueStoreConfig::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            // The URL may carry a password.
            KeyValueStoreConfig::Redis { url, prefix } => f
                .debug_struct("Redis")
                .field("url", &redact_url(url))
                .field("prefix", prefix)
                .finish(),
        }
    }
}

/// One `[[variables_provider]]` entry.
#[derive(Clone, PartialEq, Eq)]
pub enum VariablesProviderConfig {
    /// `type = "vault"`: HashiCorp Vault (or OpenBao).
    Vault(VaultConfig),
    /// `type = "env"`: environment variables `PREFIX_NAME`, then a dotenv file.
    Env {
        /// The prefix, `SPIN_VARIABLE` unless given.
        prefix: String,
        /// A dotenv file read when the environment lacks a variable, relative to the
        /// runtime config file.
        dotenv_path: Option<PathBuf>,
    },
    /// `type = "static"`: the values written in the file.
    Static(BTreeMap<String, String>),
}

impl std::fmt::Debug for VariablesProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VariablesProviderConfig::Vault(vault) => vault.fmt(f),
            VariablesProviderConfig::Env {
                prefix,
                dotenv_path,
            } => f
                .debug_struct("Env")
                .field("prefix", prefix)
                .field("dotenv_path", dotenv_path)
                .finish(),
            // The values may be secrets: only their names are shown.
            VariablesProviderConfig::Static(values) => f
                .debug_tuple("Static")
                .field(&values.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// The prefix of the environment variables that provide application variables, unless an
/// `env` provider names another.
pub const DEFAULT_ENV_PREFIX: &str = "SPIN_VARIABLE";

/// A HashiCorp Vault that provides application variables (`[[variables_provider]] type = "vault"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultConfig {
    /// The server, without a trailing `/`.
    pub url: String,
    /// The token sent as `X-Vault-Token`.
    pub token: Secret<String>,
    /// The KV version 2 mount, without surrounding `/`.
    pub mount: String,
    /// The path under the mount that holds the app's secrets, if any.
    pub prefix: Option<String>,
}

impl VaultConfig {
    /// The settings as given in the file, normalised.
    pub fn new(url: &str, token: &str, mount: &str, prefix: Option<&str>) -> VaultConfig {
        VaultConfig {
            url: url.trim_end_matches('/').to_owned(),
            token: Secret::from(token),
            mount: mount.trim_matches('/').to_owned(),
            prefix: prefix
                .map(|p| p.trim_matches('/').to_owned())
                .filter(|p| !p.is_empty()),
        }
    }
}

/// Where one SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteDatabaseConfig {
    /// A file; `None` means the app's state directory.
    File(Option<PathBuf>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, RawStore>,
    #[serde(default)]
    variables_provider: Option<Vec<RawProvider>>,
    #[serde(default)]
    config_provider: Option<Vec<RawProvider>>,
    #[serde(default)]
    llm_compute: Option<RawLlmCompute>,
    #[serde(default)]
    client_tls: Vec<RawClientTls>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClientTls {
    #[serde(default)]
    component_ids: Vec<String>,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    ca_use_platform_roots: Option<bool>,
    #[serde(default)]
    ca_use_webpki_roots: Option<bool>,
    #[serde(default)]
    ca_roots_file: Option<String>,
    #[serde(default)]
    client_cert_file: Option<String>,
    #[serde(default)]
    client_private_key_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLlmCompute {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    auth_token: Option<String>,
    #[serde(default)]
    api_type: Option<String>,
}

/// Every field any provider type takes; which ones a type allows is checked in code, so
/// that an error can name the key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    mount: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    dotenv_path: Option<String>,
    #[serde(default)]
    values: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
}

impl RuntimeConfigFile {
    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<RuntimeConfigFile, FileError> {
        let text = toml_file::read(path)?;
        Self::parse(path, &text)
    }

    /// Reads `text`, the contents of the file at `path` (relative paths in it are relative
    /// to that file's directory; errors name it).
    pub fn parse(path: &Path, text: &str) -> Result<RuntimeConfigFile, FileError> {
        let raw: Raw = toml_file::parse(path, text)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let error =
            |key: String, message: String| FileError::at(path, text, None, Some(key), message);
        let mut config = RuntimeConfigFile::default();
        for (label, store) in raw.key_value_store {
            let key = format!("key_value_store.{label}");
            if store.prefix.is_some() && store.kind != "redis" {
                return Err(error(
                    format!("{key}.prefix"),
                    "`prefix` goes with type \"redis\"".into(),
                ));
            }
            let parsed = match (store.kind.as_str(), store.path, store.url) {
                ("spin", path, None) => KeyValueStoreConfig::Sqlite(path.map(|p| dir.join(p))),
                ("redis", None, Some(url)) => KeyValueStoreConfig::Redis {
                    url,
                    prefix: store.prefix,
                },
                ("redis", _, None) => return Err(error(key, "a redis store needs `url`".into())),
                ("spin", _, Some(_)) | ("redis", Some(_), _) => {
                    return Err(error(
                        key,
                        "`path` goes with type \"spin\", `url` with type \"redis\"".into(),
                    ))
                }
                (other, _, _) => {
                    return Err(error(
                        format!("{key}.type"),
                        format!("unknown store type {other:?}; expected \"spin\" or \"redis\""),
                    ))
                }
            };
            config.key_value_stores.insert(label, parsed);
        }
        for (name, database) in raw.sqlite_database {
            let key = format!("sqlite_database.{name}");
            if database.kind != "spin" {
                return Err(error(
                    format!("{key}.type"),
                    format!(
                        "unknown database type {:?}; expected \"spin\"",
                        database.kind
                    ),
                ));
            }
            if database.url.is_some() {
                return Err(error(
                    key,
                    "a \"spin\" database takes `path`, not `url`".into(),
                ));
            }
            config.sqlite_databases.insert(
                name,
                SqliteDatabaseConfig::File(database.path.map(|p| dir.join(p))),
            );
        }
        let (section, providers) = match (raw.variables_provider, raw.config_provider) {
            (Some(_), Some(_)) => {
                return Err(error(
                    "config_provider".into(),
                    "give the providers as `[[variables_provider]]` or as `[[config_provider]]`, not both".into(),
                ))
            }
            (Some(providers), None) => ("variables_provider", providers),
            (None, Some(providers)) => ("config_provider", providers),
            (None, None) => ("variables_provider", Vec::new()),
        };
        for (index, provider) in providers.into_iter().enumerate() {
            let key = |field: &str| format!("{section}[{index}].{field}");
            let allowed: &[&str] = match provider.kind.as_str() {
                "vault" | "open_bao" => &["url", "token", "mount", "prefix"],
                "env" => &["prefix", "dotenv_path"],
                "static" => &["values"],
                other => {
                    return Err(error(
                        key("type"),
                        format!("unknown variables provider {other:?}; Rotor reads \"vault\", \"env\" and \"static\""),
                    ))
                }
            };
            let given = [
                ("url", provider.url.is_some()),
                ("token", provider.token.is_some()),
                ("mount", provider.mount.is_some()),
                ("prefix", provider.prefix.is_some()),
                ("dotenv_path", provider.dotenv_path.is_some()),
                ("values", provider.values.is_some()),
            ];
            if let Some((field, _)) = given
                .iter()
                .find(|(field, present)| *present && !allowed.contains(field))
            {
                return Err(error(
                    key(field),
                    format!(
                        "a {:?} provider takes {}",
                        provider.kind,
                        allowed
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            let parsed = match provider.kind.as_str() {
                "env" => VariablesProviderConfig::Env {
                    prefix: provider
                        .prefix
                        .unwrap_or_else(|| DEFAULT_ENV_PREFIX.to_owned()),
                    dotenv_path: provider.dotenv_path.map(|p| dir.join(p)),
                },
                "static" => VariablesProviderConfig::Static(provider.values.unwrap_or_default()),
                _ => {
                    let (Some(url), Some(token), Some(mount)) =
                        (provider.url, provider.token, provider.mount)
                    else {
                        return Err(error(
                            key("type"),
                            "a vault provider needs `url`, `token` and `mount`".into(),
                        ));
                    };
                    if url.parse::<http::Uri>().is_err()
                        || !(url.starts_with("http://") || url.starts_with("https://"))
                    {
                        return Err(error(
                            key("url"),
                            format!("{url:?} is not an http:// or https:// URL"),
                        ));
                    }
                    VariablesProviderConfig::Vault(VaultConfig::new(
                        &url,
                        &token,
                        &mount,
                        provider.prefix.as_deref(),
                    ))
                }
            };
            config.variables_providers.push(parsed);
        }
        if let Some(llm) = raw.llm_compute {
            config.llm_compute = Some(match (llm.kind.as_str(), llm.url, llm.auth_token) {
                ("spin", None, None) => LlmComputeConfig::Local,
                ("remote_http", Some(url), Some(auth_token)) => {
                    if url.parse::<http::Uri>().is_err()
                        || !(url.starts_with("http://") || url.starts_with("https://"))
                    {
                        return Err(error(
                            "llm_compute.url".into(),
                            format!("{url:?} is not an http:// or https:// URL"),
                        ));
                    }
                    let api = match llm.api_type.as_deref() {
                        None | Some("default") => LlmApi::Spin,
                        Some("open_ai") => LlmApi::OpenAi,
                        Some(other) => {
                            return Err(error(
                                "llm_compute.api_type".into(),
                                format!(
                                "unknown api_type {other:?}; expected \"default\" or \"open_ai\""
                            ),
                            ))
                        }
                    };
                    LlmComputeConfig::RemoteHttp {
                        url: url.trim_end_matches('/').to_owned(),
                        auth_token: Secret::new(auth_token),
                        api,
                    }
                }
                ("remote_http", _, _) => {
                    return Err(error(
                        "llm_compute".into(),
                        "type \"remote_http\" needs `url` and `auth_token`".into(),
                    ))
                }
                ("spin", _, _) => {
                    return Err(error(
                        "llm_compute".into(),
                        "type \"spin\" takes no `url` or `auth_token`".into(),
                    ))
                }
                (other, _, _) => {
                    return Err(error(
                        "llm_compute.type".into(),
                        format!(
                        "unknown LLM compute type {other:?}; expected \"remote_http\" or \"spin\""
                    ),
                    ))
                }
            });
        }
        for (index, entry) in raw.client_tls.into_iter().enumerate() {
            let key = |field: &str| format!("client_tls[{index}].{field}");
            if entry.component_ids.is_empty() {
                return Err(error(
                    key("component_ids"),
                    "name at least one component".into(),
                ));
            }
            if entry.hosts.is_empty() {
                return Err(error(key("hosts"), "name at least one host".into()));
            }
            if let Some(host) = entry.hosts.iter().find(|host| !is_bare_host(host)) {
                return Err(error(
                    key("hosts"),
                    format!(
                        "{host:?} is not a host name or IP address (give no scheme, port or path)"
                    ),
                ));
            }
            let client_cert = match (entry.client_cert_file, entry.client_private_key_file) {
                (Some(cert), Some(private_key)) => Some(ClientCertFiles {
                    cert_file: dir.join(cert),
                    private_key_file: dir.join(private_key),
                }),
                (None, None) => None,
                (Some(_), None) => {
                    return Err(error(
                        key("client_private_key_file"),
                        "`client_cert_file` needs its `client_private_key_file`".into(),
                    ))
                }
                (None, Some(_)) => {
                    return Err(error(
                        key("client_cert_file"),
                        "`client_private_key_file` needs its `client_cert_file`".into(),
                    ))
                }
            };
            let (use_platform_roots, use_webpki_roots) =
                match (entry.ca_use_platform_roots, entry.ca_use_webpki_roots) {
                    (Some(platform), Some(webpki)) => (platform, webpki),
                    (Some(platform), None) => (platform, false),
                    (None, Some(webpki)) => (false, webpki),
                    (None, None) => (entry.ca_roots_file.is_none(), false),
                };
            if !use_platform_roots && !use_webpki_roots && entry.ca_roots_file.is_none() {
                return Err(error(
                    key("ca_roots_file"),
                    "with neither the platform's nor the built-in roots, give `ca_roots_file`, or nothing could be trusted".into(),
                ));
            }
            config.client_tls.push(ClientTlsConfig {
                component_ids: entry.component_ids,
                hosts: entry
                    .hosts
                    .into_iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
                use_platform_roots,
                use_webpki_roots,
                ca_roots_file: entry.ca_roots_file.map(|p| dir.join(p)),
                client_cert,
            });
        }
        Ok(config)
    }
}

/// Whether `host` is a host name or an IP address alone: what a `[[client_tls]]` entry's
/// `hosts` holds (a port is not part of a TLS identity).
fn is_bare_host(host: &str) -> bool {
    !host.is_empty()
        && (host.parse::<std::net::IpAddr>().is_ok()
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llm_compute_is_read_and_checked() {
        let config = load(
            "[llm_compute]\ntype = \"remote_http\"\nurl = \"https://llm.example.com/\"\nauth_token = \"secret-token\"\napi_type = \"open_ai\"\n",
        )
        .unwrap();
        let llm = config.llm_compute.unwrap();
        assert_eq!(
            llm,
            LlmComputeConfig::RemoteHttp {
                url: "https://llm.example.com".into(),
                auth_token: Secret::from("secret-token"),
                api: LlmApi::OpenAi,
            }
        );
        assert!(!format!("{llm:?}").contains("secret-token"));
        let local = load("[llm_compute]\ntype = \"spin\"\n").unwrap();
        assert_eq!(local.llm_compute, Some(LlmComputeConfig::Local));
        for (text, key) in [
            ("[llm_compute]\ntype = \"remote_http\"\nurl = \"https://x\"\n", "llm_compute"),
            ("[llm_compute]\ntype = \"gpu\"\n", "llm_compute.type"),
            ("[llm_compute]\ntype = \"remote_http\"\nurl = \"https://x\"\nauth_token = \"t\"\napi_type = \"claude\"\n", "llm_compute.api_type"),
            ("[llm_compute]\ntype = \"remote_http\"\nurl = \"ftp://x\"\nauth_token = \"t\"\n", "llm_compute.url"),
        ] {
            let error = load(text).unwrap_err();
            assert_eq!(error.key.as_deref(), Some(key), "{text}: {error}");
        }
    }

    fn load(text: &str) -> Result<RuntimeConfigFile, FileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runtime-config.toml");
        std::fs::write(&path, text).unwrap();
        RuntimeConfigFile::load(&path).map(|mut c| {
            // Make paths comparable across temp dirs.
            for store in c.key_value_stores.values_mut() {
                if let KeyValueStoreConfig::Sqlite(Some(p)) = store {
                    *p = p.strip_prefix(dir.path()).unwrap().to_owned();
                }
            }
            c
        })
    }

    #[test]
    fn reads_stores_and_databases() {
        let config = load(
            "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n\n[key_value_store.archive]\ntype = \"spin\"\npath = \"archive.db\"\n\n[sqlite_database.default]\ntype = \"spin\"\n",
        )
        .unwrap();
        assert_eq!(
            config.key_value_stores["cache"],
            KeyValueStoreConfig::Redis {
                url: "redis://127.0.0.1:6379".into(),
                prefix: None,
            }
        );
        assert_eq!(
            config.key_value_stores["archive"],
            KeyValueStoreConfig::Sqlite(Some("archive.db".into()))
        );
        assert_eq!(
            config.sqlite_databases["default"],
            SqliteDatabaseConfig::File(None)
        );
    }

    #[test]
    fn reads_vault_providers_without_showing_the_token() {
        let config = load(
            "[[config_provider]]\ntype = \"vault\"\nurl = \"http://127.0.0.1:8200/\"\ntoken = \"s3cr3t-token\"\nmount = \"secret\"\nprefix = \"app\"\n",
        )
        .unwrap();
        assert_eq!(config.variables_providers.len(), 1);
        let VariablesProviderConfig::Vault(vault) = &config.variables_providers[0] else {
            panic!("not a vault: {config:?}");
        };
        assert_eq!(vault.url, "http://127.0.0.1:8200");
        assert!(!format!("{config:?}").contains("s3cr3t-token"));

        let error = load("[[config_provider]]\ntype = \"azure_key_vault\"\nurl = \"http://x\"\ntoken = \"t\"\nmount = \"m\"\n").unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("config_provider[0].type"),
            "{error}"
        );
        let error = load("[[config_provider]]\ntype = \"vault\"\nurl = \"localhost:8200\"\ntoken = \"t\"\nmount = \"m\"\n").unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("config_provider[0].url"),
            "{error}"
        );
    }

    #[test]
    fn reads_env_and_static_providers_in_file_order() {
        let config = load(
            "[[variables_provider]]\ntype = \"static\"\nvalues = { token = \"s3cr3t-static\" }\n\n[[variables_provider]]\ntype = \"env\"\nprefix = \"MYAPP\"\ndotenv_path = \"app.env\"\n\n[[variables_provider]]\ntype = \"env\"\n",
        )
        .unwrap();
        let providers = &config.variables_providers;
        assert_eq!(
            providers[0],
            VariablesProviderConfig::Static(
                [("token".to_owned(), "s3cr3t-static".to_owned())].into()
            )
        );
        let VariablesProviderConfig::Env {
            prefix,
            dotenv_path,
        } = &providers[1]
        else {
            panic!("not env: {providers:?}");
        };
        assert_eq!(prefix, "MYAPP");
        assert!(dotenv_path.as_ref().unwrap().ends_with("app.env"));
        assert_eq!(
            providers[2],
            VariablesProviderConfig::Env {
                prefix: "SPIN_VARIABLE".to_owned(),
                dotenv_path: None
            }
        );
        assert!(!format!("{config:?}").contains("s3cr3t-static"));

        let error =
            load("[[variables_provider]]\ntype = \"static\"\nprefix = \"X\"\n").unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("variables_provider[0].prefix"),
            "{error}"
        );
        let error =
            load("[[variables_provider]]\ntype = \"env\"\n\n[[config_provider]]\ntype = \"env\"\n")
                .unwrap_err();
        assert!(error.message.contains("not both"), "{error}");
        let error =
            load("[[variables_provider]]\ntype = \"vault\"\nurl = \"http://x\"\n").unwrap_err();
        assert!(
            error.message.contains("needs `url`, `token` and `mount`"),
            "{error}"
        );
    }

    #[test]
    fn errors_name_the_key() {
        let error = load("[key_value_store.cache]\ntype = \"memcached\"\n").unwrap_err();
        assert_eq!(error.key.as_deref(), Some("key_value_store.cache.type"));
        let config =
            load("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://h\"\nprefix = \"\"\n")
                .unwrap();
        assert_eq!(
            config.key_value_stores["cache"],
            KeyValueStoreConfig::Redis {
                url: "redis://h".into(),
                prefix: Some(String::new()),
            }
        );
        let error = load("[key_value_store.cache]\ntype = \"spin\"\nprefix = \"x\"\n").unwrap_err();
        assert!(
            error.to_string().contains("key_value_store.cache.prefix"),
            "{error}"
        );
        let error = load("[key_value_store.cache]\ntype = \"redis\"\n").unwrap_err();
        assert!(error.message.contains("needs `url`"), "{error}");
        let error = load("[key_value_store.cache]\ntype = \"redis\"\nurl = 5\n").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert_eq!(
            error.key.as_deref(),
            Some("key_value_store.cache.url"),
            "{error}"
        );
    }

    #[test]
    fn client_tls_entries_follow_spins_defaults() {
        let config = load(
            "[[client_tls]]\ncomponent_ids = [\"api\"]\nhosts = [\"DB.example\", \"127.0.0.1\"]\nca_roots_file = \"ca.pem\"\n\n[[client_tls]]\ncomponent_ids = [\"api\", \"worker\"]\nhosts = [\"cache.example\"]\nca_use_webpki_roots = true\nclient_cert_file = \"c.pem\"\nclient_private_key_file = \"c.key\"\n",
        )
        .unwrap();
        let [own_ca, webpki] = &config.client_tls[..] else {
            panic!("two entries expected: {:?}", config.client_tls)
        };
        assert_eq!(own_ca.hosts, ["db.example", "127.0.0.1"]);
        assert!(!own_ca.use_platform_roots && !own_ca.use_webpki_roots);
        assert!(own_ca.ca_roots_file.as_ref().unwrap().ends_with("ca.pem"));
        assert!(own_ca.ca_roots_file.as_ref().unwrap().is_absolute());
        assert!(!webpki.use_platform_roots && webpki.use_webpki_roots);
        let cert = webpki.client_cert.as_ref().unwrap();
        assert!(cert.cert_file.ends_with("c.pem") && cert.private_key_file.ends_with("c.key"));
        // Neither roots nor a file: the platform's roots.
        let config = load("[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"h\"]\n").unwrap();
        assert!(config.client_tls[0].use_platform_roots);
    }

    #[test]
    fn client_tls_mistakes_name_their_key() {
        for (text, key) in [
            ("[[client_tls]]\nhosts = [\"h\"]\n", "client_tls[0].component_ids"),
            ("[[client_tls]]\ncomponent_ids = [\"a\"]\n", "client_tls[0].hosts"),
            ("[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"h:5432\"]\n", "client_tls[0].hosts"),
            ("[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"h\"]\nclient_cert_file = \"c.pem\"\n", "client_tls[0].client_private_key_file"),
            ("[[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"h\"]\nca_use_platform_roots = false\n", "client_tls[0].ca_roots_file"),
        ] {
            let error = load(text).unwrap_err();
            assert_eq!(error.key.as_deref(), Some(key), "{text}: {error}");
        }
    }
}
