//! Application variables from the manifest, resolved through Spin's providers in Spin's
//! order: `--variable` values, then the runtime config's providers in file order, then the
//! environment (`SPIN_VARIABLE_NAME`, and `.env` in the app's directory), then the manifest's
//! `default`; and a component's own variables, templates over those.
//!
//! Values marked `secret = true` are never logged, and no error message carries a value.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::providers::{EnvProvider, Provider};
use crate::manifest::runtime_config::{VariablesProviderConfig, DEFAULT_ENV_PREFIX};
use crate::manifest::template::{self, Template};
use crate::manifest::{Manifest, VariableDecl};

/// How the default environment provider names application variable `name` (upper-cased):
/// this prefix, then the name.
pub const ENVIRONMENT_PREFIX: &str = "SPIN_VARIABLE_";

/// What a guest is told when a provider fails: which provider and why (its address, say)
/// is for the host's log, not for the guest.
pub const PROVIDER_FAILED: &str =
    "a variables provider failed; the host's log says which one and why";

/// Why an application variable has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Not declared, or declared without a default and no provider has it.
    Undefined(String),
    /// A provider failed; the message names the provider and the variable, never a value.
    Provider(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Undefined(message) | ResolveError::Provider(message) => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for ResolveError {}

/// An app's `[variables]` and the providers that fill them.
#[derive(Debug)]
pub struct AppVariables {
    declared: BTreeMap<String, VariableDecl>,
    providers: Vec<Provider>,
}

impl AppVariables {
    /// The variables `manifest` declares, with their providers in Spin's order: `cli` (the
    /// `--variable` values), the runtime config's `providers`, then `environment`'s
    /// `SPIN_VARIABLE_*` entries and the app directory's `.env`.
    pub fn new(
        manifest: &Manifest,
        cli: &BTreeMap<String, String>,
        environment: impl IntoIterator<Item = (String, String)>,
        providers: &[VariablesProviderConfig],
    ) -> AppVariables {
        let environment = Arc::new(environment.into_iter().collect());
        let mut all = Vec::new();
        if !cli.is_empty() {
            all.push(Provider::Static(cli.clone()));
        }
        all.extend(
            providers
                .iter()
                .map(|config| Provider::from_config(config, &environment)),
        );
        all.push(Provider::Env(EnvProvider::new(
            DEFAULT_ENV_PREFIX,
            environment,
            Some(manifest.dir().join(".env")),
        )));
        AppVariables {
            declared: manifest.variables.clone(),
            providers: all,
        }
    }

    /// The value of application variable `name`.
    pub async fn resolve(&self, name: &str) -> Result<String, ResolveError> {
        let Some(declared) = self.declared.get(name) else {
            return Err(ResolveError::Undefined(format!(
                "the manifest declares no application variable `{name}`"
            )));
        };
        for provider in &self.providers {
            if let Some(value) = provider.get(name).await.map_err(ResolveError::Provider)? {
                return Ok(value);
            }
        }
        declared.default.clone().ok_or_else(|| {
            let hints: Vec<String> = std::iter::once(format!("pass --variable {name}=VALUE"))
                .chain(self.providers.iter().filter_map(|p| p.hint(name)))
                .collect();
            ResolveError::Undefined(format!(
                "application variable `{name}` is required, and no provider has a value for it ({})",
                hints.join("; ")
            ))
        })
    }

    /// Checks that every `required` variable has a value, before the app serves; the error
    /// names the variable and the manifest.
    pub async fn check_required(&self, manifest: &Path) -> anyhow::Result<()> {
        for (name, declared) in &self.declared {
            if !declared.required {
                continue;
            }
            match self.resolve(name).await {
                Ok(_) => {}
                Err(ResolveError::Undefined(message)) => anyhow::bail!(
                    "{}: variable `{name}` is required but has no value: {message}",
                    manifest.display(),
                ),
                Err(ResolveError::Provider(message)) => anyhow::bail!(
                    "{}: variable `{name}` is required, and its provider failed: {message}",
                    manifest.display()
                ),
            }
        }
        Ok(())
    }
}

/// Why a component variable has no value for the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableError {
    /// The name is not a valid variable name.
    InvalidName(String),
    /// The component declares no such variable, or it has no value.
    Undefined(String),
    /// A provider failed; the message never carries a value.
    Provider(String),
}

impl std::fmt::Display for VariableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VariableError::InvalidName(message)
            | VariableError::Undefined(message)
            | VariableError::Provider(message) => f.write_str(message),
        }
    }
}

/// The variables one component may read: its own templates over the app's variables.
#[derive(Debug)]
pub struct ComponentVariables {
    app: Arc<AppVariables>,
    templates: BTreeMap<String, Template>,
}

impl ComponentVariables {
    /// `templates` as the manifest checked them, over `app`.
    pub fn new(app: Arc<AppVariables>, templates: BTreeMap<String, Template>) -> Self {
        ComponentVariables { app, templates }
    }

    /// The value of component variable `name`, as the guest sees it.
    pub async fn get(&self, name: &str) -> Result<String, VariableError> {
        if template::check_name(name).is_err() {
            return Err(VariableError::InvalidName(format!(
                "{name:?} is not a valid variable name"
            )));
        }
        let Some(template) = self.templates.get(name) else {
            return Err(VariableError::Undefined(format!(
                "the component declares no variable `{name}` in its `variables` table"
            )));
        };
        template
            .render_async(|app_variable| async move { self.app.resolve(&app_variable).await })
            .await
            .map_err(|error| match error {
                ResolveError::Undefined(message) => VariableError::Undefined(message),
                ResolveError::Provider(message) => VariableError::Provider(message),
            })
    }

    /// Whether the component's `variables` table declares `name`.
    pub fn declares(&self, name: &str) -> bool {
        self.templates.contains_key(name)
    }

    /// The names the component's `variables` table declares, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }

    /// The value of `name` read as an application variable first, then as a component
    /// variable: what a `{{ name }}` in `allowed_outbound_hosts` means.
    pub async fn resolve_for_outbound(&self, name: &str) -> Result<String, String> {
        if self.templates.contains_key(name) {
            return self.get(name).await.map_err(|e| format!("{e:?}"));
        }
        self.app.resolve(name).await.map_err(|e| e.to_string())
    }
}
