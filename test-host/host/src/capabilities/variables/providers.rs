//! Where application variables come from, as Spin's providers: values given on the command
//! line (`--variable`) or in the runtime config (`static`), environment variables with an
//! optional dotenv file (`env`), and Vault (`vault`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::vault::VaultProvider;
use crate::manifest::runtime_config::VariablesProviderConfig;

/// One source of application variables. `Debug` shows where values come from, never a
/// value.
pub enum Provider {
    /// Fixed values: `--variable NAME=VALUE`, or a `static` provider.
    Static(BTreeMap<String, String>),
    /// Environment variables `PREFIX_NAME`, then a dotenv file.
    Env(EnvProvider),
    /// A Vault.
    Vault(VaultProvider),
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provider::Static(values) => f
                .debug_tuple("Static")
                .field(&values.keys().collect::<Vec<_>>())
                .finish(),
            Provider::Env(env) => f
                .debug_struct("Env")
                .field("prefix", &env.prefix)
                .field("dotenv", &env.dotenv)
                .finish(),
            Provider::Vault(vault) => vault.fmt(f),
        }
    }
}

impl Provider {
    /// The provider a runtime-config entry describes; `env` providers read `environment`.
    pub fn from_config(
        config: &VariablesProviderConfig,
        environment: &Arc<BTreeMap<String, String>>,
    ) -> Provider {
        match config {
            VariablesProviderConfig::Vault(vault) => {
                Provider::Vault(VaultProvider::new(vault.clone()))
            }
            VariablesProviderConfig::Env {
                prefix,
                dotenv_path,
            } => Provider::Env(EnvProvider::new(
                prefix,
                environment.clone(),
                dotenv_path.clone(),
            )),
            VariablesProviderConfig::Static(values) => Provider::Static(values.clone()),
        }
    }

    /// The value of variable `name`: `Ok(None)` when this provider has none, `Err` (without
    /// any value in it) when it failed.
    pub async fn get(&self, name: &str) -> Result<Option<String>, String> {
        match self {
            Provider::Static(values) => Ok(values.get(name).cloned()),
            Provider::Env(env) => env.get(name),
            Provider::Vault(vault) => vault.get(name).await,
        }
    }

    /// How a person would give this provider a value for `name`, when it has none.
    pub fn hint(&self, name: &str) -> Option<String> {
        match self {
            Provider::Static(_) => None,
            Provider::Env(env) => Some(match &env.dotenv {
                Some(file) => format!("set {} or put it in {}", env.key(name), file.display()),
                None => format!("set {}", env.key(name)),
            }),
            Provider::Vault(vault) => {
                Some(format!("Vault at {} has no secret for it", vault.url()))
            }
        }
    }
}

/// Environment variables named `PREFIX_NAME` (the name in upper case), then the same keys in
/// a dotenv file, which is read once, on first use.
pub struct EnvProvider {
    prefix: String,
    environment: Arc<BTreeMap<String, String>>,
    dotenv: Option<PathBuf>,
    dotenv_values: OnceLock<Result<BTreeMap<String, String>, String>>,
}

impl EnvProvider {
    /// Variables under `prefix` in `environment`, then in the file `dotenv` if it exists.
    pub fn new(
        prefix: &str,
        environment: Arc<BTreeMap<String, String>>,
        dotenv: Option<PathBuf>,
    ) -> EnvProvider {
        EnvProvider {
            prefix: prefix.to_owned(),
            environment,
            dotenv,
            dotenv_values: OnceLock::new(),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}_{}", self.prefix, name.to_ascii_uppercase())
    }

    fn get(&self, name: &str) -> Result<Option<String>, String> {
        let key = self.key(name);
        if let Some(value) = self.environment.get(&key) {
            return Ok(Some(value.clone()));
        }
        let Some(file) = &self.dotenv else {
            return Ok(None);
        };
        let values = self.dotenv_values.get_or_init(|| read_dotenv(file));
        match values {
            Ok(values) => Ok(values.get(&key).cloned()),
            Err(error) => Err(error.clone()),
        }
    }
}

/// The `KEY=VALUE` lines of a dotenv file; a missing file has none.
fn read_dotenv(file: &std::path::Path) -> Result<BTreeMap<String, String>, String> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(format!("cannot read {}: {error}", file.display())),
    };
    Ok(parse_dotenv(&text))
}

/// Parses dotenv text: `KEY=VALUE` per line, `#` comments, an optional `export `, and values
/// optionally in single or double quotes.
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, value) = line.split_once('=')?;
            let value = value.trim();
            let unquoted = [('"', '"'), ('\'', '\'')]
                .iter()
                .find_map(|(open, close)| value.strip_prefix(*open)?.strip_suffix(*close))
                .unwrap_or(value);
            Some((key.trim().to_owned(), unquoted.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines() {
        let values = parse_dotenv(
            "# a comment\nSPIN_VARIABLE_A=1\nexport SPIN_VARIABLE_B = \"two words\"\nC='x=y'\n\nnot a line\n",
        );
        assert_eq!(values["SPIN_VARIABLE_A"], "1");
        assert_eq!(values["SPIN_VARIABLE_B"], "two words");
        assert_eq!(values["C"], "x=y");
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn debug_shows_no_value() {
        let values = BTreeMap::from([("token".to_owned(), "s3cr3t-static".to_owned())]);
        let environment = Arc::new(BTreeMap::from([(
            "SPIN_VARIABLE_TOKEN".to_owned(),
            "s3cr3t-env".to_owned(),
        )]));
        let shown = format!(
            "{:?} {:?}",
            Provider::Static(values),
            Provider::Env(EnvProvider::new("SPIN_VARIABLE", environment, None))
        );
        assert!(
            shown.contains("token") && shown.contains("SPIN_VARIABLE"),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn env_reads_the_environment_before_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, "APP_TOKEN=from-file\nAPP_OTHER=file-only\n").unwrap();
        let environment = Arc::new(BTreeMap::from([(
            "APP_TOKEN".to_owned(),
            "from-environment".to_owned(),
        )]));
        let env = EnvProvider::new("APP", environment, Some(file));
        assert_eq!(
            env.get("token").unwrap().as_deref(),
            Some("from-environment")
        );
        assert_eq!(env.get("other").unwrap().as_deref(), Some("file-only"));
        assert_eq!(env.get("missing").unwrap(), None);
    }
}
