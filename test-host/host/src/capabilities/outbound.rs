//! A component's `allowed_outbound_hosts`, shared by every capability that leaves the host:
//! outbound HTTP, sockets, PostgreSQL, MySQL, Redis and MQTT. The grammar of an entry is in
//! [`crate::manifest::allowed_hosts`].

use std::sync::Arc;

use super::client_tls::{ClientTls, Trust};
use super::variables::resolve::ComponentVariables;
use super::virtual_services::{VirtualConnection, VirtualServices};
use crate::manifest::allowed_hosts::AllowedHosts;
use crate::manifest::template::Template;
use crate::manifest::Component;

/// What one component may reach of a capability that connects out (PostgreSQL, MySQL,
/// Redis): the app's shared clients (pools, connections), at the addresses its
/// `allowed_outbound_hosts` grants.
pub struct OutboundClients<C> {
    /// The app's clients, shared by every component.
    pub clients: Arc<C>,
    /// The component's `allowed_outbound_hosts`.
    pub outbound: Arc<OutboundGrant>,
}

impl<C> OutboundClients<C> {
    /// `clients`, as far as `outbound` allows.
    pub fn new(clients: &Arc<C>, outbound: &Arc<OutboundGrant>) -> Self {
        OutboundClients {
            clients: clients.clone(),
            outbound: outbound.clone(),
        }
    }
}

/// The `allowed_outbound_hosts` of one component, its `{{ variable }}` templates filled on
/// first use and kept from then on.
pub struct OutboundGrant {
    component: Arc<str>,
    tls: Arc<ClientTls>,
    templates: Vec<Template>,
    variables: Arc<ComponentVariables>,
    resolved: tokio::sync::OnceCell<Arc<AllowedHosts>>,
    virtual_services: Option<Arc<dyn VirtualServices>>,
}

impl OutboundGrant {
    /// The entries of component `name`, whose templates read `variables`; its TLS
    /// connections trust what `tls` says.
    pub fn new(
        name: &str,
        component: &Component,
        variables: Arc<ComponentVariables>,
        tls: Arc<ClientTls>,
    ) -> OutboundGrant {
        OutboundGrant {
            component: name.into(),
            tls,
            templates: component
                .allowed_outbound_hosts
                .iter()
                .filter_map(|entry| Template::parse(entry.get_ref()).ok())
                .collect(),
            variables,
            resolved: tokio::sync::OnceCell::new(),
            virtual_services: None,
        }
    }

    /// The same grant, whose calls go to `services` instead of real servers when given.
    pub fn with_virtual_services(mut self, services: Option<Arc<dyn VirtualServices>>) -> Self {
        self.virtual_services = services;
        self
    }

    /// The stand-ins that answer this component's outbound calls in a unit test.
    pub fn virtual_services(&self) -> Option<&Arc<dyn VirtualServices>> {
        self.virtual_services.as_ref()
    }

    /// In a unit test, the stand-in for a connection this component opens to `address`.
    pub fn virtual_connection(&self, address: &str) -> Option<VirtualConnection> {
        self.virtual_services
            .as_ref()
            .map(|services| VirtualConnection {
                services: services.clone(),
                component: self.component.to_string(),
                address: address.to_owned(),
            })
    }

    /// The component's name.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// Whom the component trusts when it reaches `host` over TLS.
    pub fn tls_trust(&self, host: &str) -> Arc<Trust> {
        self.tls.trust(&self.component, host)
    }

    /// Whom the component trusts at `host`, when a `[[client_tls]]` entry says so.
    pub fn configured_tls_trust(&self, host: &str) -> Option<Arc<Trust>> {
        self.tls.configured(&self.component, host)
    }

    /// Whether `allowed_outbound_hosts` has any entry at all.
    pub fn may_connect_out(&self) -> bool {
        !self.templates.is_empty()
    }

    /// The entries if [`OutboundGrant::allowed_hosts`] has filled them already, for checks
    /// that cannot wait.
    pub fn filled(&self) -> Option<Arc<AllowedHosts>> {
        self.resolved.get().cloned()
    }

    /// The entries, filled and parsed.
    pub async fn allowed_hosts(&self) -> Result<Arc<AllowedHosts>, String> {
        self.resolved
            .get_or_try_init(|| async {
                let mut entries = Vec::new();
                for template in &self.templates {
                    let entry = template
                        .render_async(|name| async move {
                            self.variables.resolve_for_outbound(&name).await
                        })
                        .await?;
                    // A filled entry may hold a secret variable's value: a bad one is named
                    // by its template, never by what it became.
                    if template.variables().next().is_some()
                        && AllowedHosts::parse([entry.as_str()]).is_err()
                    {
                        return Err(format!(
                            "allowed_outbound_hosts entry \"{template}\" is not a valid entry once its variables are filled in"
                        ));
                    }
                    entries.push(entry);
                }
                AllowedHosts::parse(entries.iter().map(String::as_str)).map(Arc::new)
            })
            .await
            .cloned()
    }
}
