//! `wasi:config/store@0.2.0-draft-2024-09-27`: a component's variables under WASI's name for
//! them, as Spin 3 offers them (the Python and JavaScript Spin SDKs import it).
//!
//! `get` answers the value of a variable of the component's `variables` table, and `none`
//! for a key the table does not declare; `get-all` answers every one. A provider that fails
//! (Vault unreachable) is `upstream`, with a message that never carries a value.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use super::variables::resolve::{ComponentVariables, VariableError, PROVIDER_FAILED};
use bindings::wasi::config::store::{self, Error};

/// Host bindings of `wasi:config/store@0.2.0-draft-2024-09-27`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/config-host",
        imports: { default: async },
    });
}

/// The `wasi:config` capability.
pub struct Config;

impl Capability for Config {
    type App = ();
    type Grant = Arc<ComponentVariables>;

    fn load(_: &AppContext<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn grant(_: &(), component: &ComponentContext<'_>) -> anyhow::Result<Self::Grant> {
        Ok(component.variables.clone())
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, Self::Grant>,
    ) -> wasmtime::Result<()> {
        store::add_to_linker::<_, HasView<Self::Grant>>(linker, view)
    }
}

/// The value of `key`, `None` when the component declares no such variable.
async fn value(variables: &ComponentVariables, key: &str) -> Result<Option<String>, Error> {
    match variables.get(key).await {
        Ok(value) => Ok(Some(value)),
        Err(VariableError::InvalidName(_)) => Ok(None),
        Err(VariableError::Undefined(_)) if !variables.declares(key) => Ok(None),
        Err(VariableError::Undefined(message)) => Err(Error::Upstream(message)),
        Err(VariableError::Provider(message)) => {
            tracing::warn!(variable = %key, "{message}");
            Err(Error::Upstream(PROVIDER_FAILED.into()))
        }
    }
}

impl store::Host for View<'_, Arc<ComponentVariables>> {
    async fn get(&mut self, key: String) -> Result<Option<String>, Error> {
        value(self.grant, &key).await
    }

    async fn get_all(&mut self) -> Result<Vec<(String, String)>, Error> {
        let mut all = Vec::new();
        for key in self.grant.names() {
            if let Some(value) = value(self.grant, key).await? {
                all.push((key.to_owned(), value));
            }
        }
        Ok(all)
    }
}
