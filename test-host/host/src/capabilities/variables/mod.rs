//! `fermyon:spin/variables@2.0.0`: a guest reads the variables of its own
//! `[component.NAME.variables]` table, each a template over application variables filled when
//! the guest asks ([`resolve`]), from Spin's providers ([`providers`], [`vault`]).

pub mod providers;
pub mod resolve;
pub mod vault;

use std::sync::Arc;

use wasmtime::component::Linker;

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use bindings::fermyon::spin2_0_0::variables::{self, Error};
use resolve::{AppVariables, ComponentVariables, VariableError};

/// Host bindings of `fermyon:spin/variables@2.0.0`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/variables-host",
        imports: { default: async },
    });
}

/// The variables capability.
pub struct Variables;

impl Capability for Variables {
    type App = Arc<AppVariables>;
    type Grant = Arc<ComponentVariables>;

    fn load(app: &AppContext<'_>) -> anyhow::Result<Self::App> {
        Ok(app.variables.clone())
    }

    fn grant(_: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<Self::Grant> {
        Ok(component.variables.clone())
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, Self::Grant>,
    ) -> wasmtime::Result<()> {
        variables::add_to_linker::<_, HasView<Self::Grant>>(linker, view)
    }
}

impl variables::Host for View<'_, Arc<ComponentVariables>> {
    async fn get(&mut self, name: String) -> Result<String, Error> {
        let result = self.grant.get(&name).await.map_err(|error| match error {
            VariableError::InvalidName(message) => Error::InvalidName(message),
            VariableError::Undefined(message) => Error::Undefined(message),
            VariableError::Provider(message) => {
                tracing::warn!(variable = %name, "{message}");
                Error::Provider(resolve::PROVIDER_FAILED.into())
            }
        });
        if let Err(error) = &result {
            tracing::debug!(variable = %name, "variable lookup failed: {error:?}");
        }
        result
    }
}
