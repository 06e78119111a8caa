//! The HashiCorp Vault variables provider: reads `value` from a KV version 2 secret.
//!
//! `runtime-config.toml`:
//!
//! ```toml
//! [[config_provider]]
//! type = "vault"
//! url = "http://127.0.0.1:8200"
//! token = "root"
//! mount = "secret"
//! prefix = "my-app"        # optional
//! ```
//!
//! Variable `api_key` is then `GET {url}/v1/secret/data/my-app/api_key` with the token in
//! `X-Vault-Token`, and its value the secret's `value` field. Neither the token nor a value
//! ever appears in an error message.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::engine::http_client::send_and_read;
use crate::manifest::runtime_config::VaultConfig;

/// How long one read from Vault may take, connection included.
pub const VAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A configured Vault.
#[derive(Debug, Clone)]
pub struct VaultProvider {
    config: VaultConfig,
    timeout: Duration,
}

impl VaultProvider {
    /// A provider reading what `config` names.
    pub fn new(config: VaultConfig) -> Self {
        VaultProvider {
            config,
            timeout: VAULT_TIMEOUT,
        }
    }

    /// The server's address, for messages.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// Reads variable `name`: `Ok(None)` when Vault has no such secret.
    pub async fn get(&self, name: &str) -> Result<Option<String>, String> {
        match tokio::time::timeout(self.timeout, self.read(name)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "Vault at {} did not answer within {:?} (reading variable `{name}`)",
                self.config.url, self.timeout
            )),
        }
    }

    async fn read(&self, name: &str) -> Result<Option<String>, String> {
        let path = match &self.config.prefix {
            Some(prefix) => format!("{prefix}/{name}"),
            None => name.to_owned(),
        };
        let uri = format!("{}/v1/{}/data/{path}", self.config.url, self.config.mount);
        let request = http::Request::get(&uri)
            .header("x-vault-token", self.config.token.expose())
            .body(Bytes::new())
            .map_err(|_| format!("Vault url {:?} is not a valid URL", self.config.url))?;
        let response = send_and_read(request, None, usize::MAX)
            .await
            .map_err(|e| {
                format!(
                    "cannot reach Vault at {} (reading variable `{name}`): {e}",
                    self.config.url
                )
            })?;
        let status = response.status();
        let body = response.into_body();
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => {
                return Err(format!(
                    "Vault at {} refused the token ({status}) reading variable `{name}`",
                    self.config.url
                ))
            }
            other => {
                return Err(format!(
                    "Vault at {} answered {other} reading variable `{name}`",
                    self.config.url
                ))
            }
        }
        let document: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
            format!(
                "Vault at {} sent a body that is not JSON for variable `{name}`",
                self.config.url
            )
        })?;
        match document.pointer("/data/data/value") {
            Some(serde_json::Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(format!(
                "the Vault secret for variable `{name}` has a `value` that is not a string"
            )),
            None => Err(format!(
                "the Vault secret for variable `{name}` has no `value` field"
            )),
        }
    }
}
