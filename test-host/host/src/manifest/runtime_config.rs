//! Spin's `runtime-config.toml`: where each key-value store and SQLite database lives.
//!
//! ```toml
//! [key_value_store.cache]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//!
//! [key_value_store.archive]
//! type = "spin"              # a SQLite file
//! path = "data/archive.db"   # relative to this file
//!
//! [sqlite_database.default]
//! type = "spin"
//! path = "data/app.db"
//!
//! [[config_provider]]        # application variables from HashiCorp Vault
//! type = "vault"
//! url = "http://127.0.0.1:8200"
//! token = "root"
//! mount = "secret"
//! prefix = "my-app"          # optional
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::toml_file::{self, FileError};

/// The parsed file, with paths made absolute.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfigFile {
    /// Key-value stores by label.
    pub key_value_stores: BTreeMap<String, KeyValueStoreConfig>,
    /// SQLite databases by name.
    pub sqlite_databases: BTreeMap<String, SqliteDatabaseConfig>,
    /// The Vault variables providers, in file order (asked in that order).
    pub vaults: Vec<VaultConfig>,
}

/// Where one key-value store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValueStoreConfig {
    /// A SQLite file; `None` means the app's default key-value file.
    Sqlite(Option<PathBuf>),
    /// A Redis server.
    Redis {
        /// `redis://host:port[/db]`.
        url: String,
    },
}

/// A HashiCorp Vault that provides application variables (`[[config_provider]] type = "vault"`).
#[derive(Clone, PartialEq, Eq)]
pub struct VaultConfig {
    /// The server, without a trailing `/`.
    pub url: String,
    /// The token sent as `X-Vault-Token`; never shown by `Debug`.
    pub token: String,
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
            token: token.to_owned(),
            mount: mount.trim_matches('/').to_owned(),
            prefix: prefix
                .map(|p| p.trim_matches('/').to_owned())
                .filter(|p| !p.is_empty()),
        }
    }
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultConfig")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("mount", &self.mount)
            .field("prefix", &self.prefix)
            .finish()
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
    config_provider: Vec<RawProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    #[serde(rename = "type")]
    kind: String,
    url: String,
    token: String,
    mount: String,
    #[serde(default)]
    prefix: Option<String>,
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
}

impl RuntimeConfigFile {
    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<RuntimeConfigFile, FileError> {
        let text = toml_file::read(path)?;
        let raw: Raw = toml_file::parse(path, &text)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let error =
            |key: String, message: String| FileError::at(path, &text, None, Some(key), message);
        let mut config = RuntimeConfigFile::default();
        for (label, store) in raw.key_value_store {
            let key = format!("key_value_store.{label}");
            let parsed = match (store.kind.as_str(), store.path, store.url) {
                ("spin", path, None) => KeyValueStoreConfig::Sqlite(path.map(|p| dir.join(p))),
                ("redis", None, Some(url)) => KeyValueStoreConfig::Redis { url },
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
        for (index, provider) in raw.config_provider.iter().enumerate() {
            if provider.kind != "vault" {
                return Err(error(
                    format!("config_provider[{index}].type"),
                    format!(
                        "unknown config provider {:?}; Rotor reads \"vault\"",
                        provider.kind
                    ),
                ));
            }
            if provider.url.parse::<http::Uri>().is_err()
                || !(provider.url.starts_with("http://") || provider.url.starts_with("https://"))
            {
                return Err(error(
                    format!("config_provider[{index}].url"),
                    format!("{:?} is not an http:// or https:// URL", provider.url),
                ));
            }
            config.vaults.push(VaultConfig::new(
                &provider.url,
                &provider.token,
                &provider.mount,
                provider.prefix.as_deref(),
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                url: "redis://127.0.0.1:6379".into()
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
        assert_eq!(config.vaults.len(), 1);
        assert_eq!(config.vaults[0].url, "http://127.0.0.1:8200");
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
    fn errors_name_the_key() {
        let error = load("[key_value_store.cache]\ntype = \"memcached\"\n").unwrap_err();
        assert_eq!(error.key.as_deref(), Some("key_value_store.cache.type"));
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
}
