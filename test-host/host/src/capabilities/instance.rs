//! What the host keeps for one instance, and the linker that offers every capability to it.

use std::sync::{Arc, Weak};

use anyhow::Context as _;
use wasmtime::component::{InstancePre, Linker, ResourceTable};
use wasmtime::{Store, StoreLimits};
use wasmtime_wasi::sockets::WasiSocketsView as _;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::outbound_http::{OutboundHttp, SelfDepth, SelfRequests};
use super::sockets::GrantedLookup;
use super::{Capabilities, ComponentCapabilities, Grants, HasGrants};
use crate::engine::{source_context, Engine, Limited};
use crate::manifest::Manifest;

/// The data of one `Store`: one instance, one request.
pub struct InstanceState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    limits: StoreLimits,
    outbound: OutboundHttp,
    component: Arc<ComponentCapabilities>,
    deadline: std::time::Instant,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

impl HasGrants for InstanceState {
    fn grants(&mut self) -> (&Grants, &mut ResourceTable, std::time::Instant) {
        (&self.component.grants, &mut self.table, self.deadline)
    }
}

impl Limited for InstanceState {
    fn limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }
}

fn granted_lookup(state: &mut InstanceState) -> GrantedLookup<'_> {
    let allowed = state.component.outbound.filled();
    GrantedLookup {
        sockets: state.sockets(),
        allowed,
    }
}

/// The engine with a linker that holds WASI, `wasi:http` and every capability.
pub struct HostLinker {
    engine: Arc<Engine>,
    linker: Linker<InstanceState>,
}

impl HostLinker {
    /// A linker over `engine` with every interface the host offers.
    pub fn new(engine: Arc<Engine>) -> anyhow::Result<HostLinker> {
        let mut linker = Linker::new(engine.wasmtime());
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        super::sockets::replace_name_lookup(&mut linker, granted_lookup)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        Capabilities::add_to_linker(&mut linker)?;
        Ok(HostLinker { engine, linker })
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Compiles (or takes from the cache) and links the component `name` of `manifest`, for
    /// any trigger. Errors name the manifest, the component and its source.
    pub fn link(
        &self,
        manifest: &Manifest,
        name: &str,
    ) -> anyhow::Result<InstancePre<InstanceState>> {
        let compiled = self.engine.load_source(manifest, name)?;
        self.linker
            .instantiate_pre(&compiled)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "{}: it needs imports the host does not provide",
                    source_context(manifest, name)
                )
            })
    }

    /// A fresh store for one request to `component`, with its environment, grants, output
    /// forwarding, memory cap and deadline; its outbound HTTP follows the grants, and its
    /// requests to `self` go to `self_requests` (nothing, for components without HTTP
    /// routes), one level deeper than `depth`.
    pub async fn new_store(
        &self,
        component: &Arc<ComponentCapabilities>,
        self_requests: Option<Weak<dyn SelfRequests>>,
        depth: SelfDepth,
    ) -> Store<InstanceState> {
        if component.outbound.may_connect_out() {
            // Name lookups are checked where nothing can wait for `{{ variable }}`s to be
            // filled, so fill them now; after the first request this costs nothing. On
            // failure lookups are denied, and the failure shows on the guest's first
            // connection.
            let _ = component.outbound.allowed_hosts().await;
        }
        let outbound = OutboundHttp::new(
            component.name.clone(),
            component.outbound.clone(),
            self_requests,
            depth,
        );
        // In a unit test nothing leaves the process: raw sockets have no stand-in, so they
        // are refused.
        let sockets = component.outbound.virtual_services().is_none();
        let mut wasi = WasiCtx::builder();
        wasi.stdout(component.output.stdout.clone())
            .stderr(component.output.stderr.clone())
            .envs(&component.environment)
            .allow_tcp(sockets)
            .allow_udp(sockets)
            .allow_ip_name_lookup(sockets && component.outbound.may_connect_out())
            .socket_addr_check(super::sockets::address_check(component.outbound.clone()));
        if let Some(files) = &component.files {
            // The directory was staged when the app loaded; failing to open it now means it
            // was removed under us, which the guest sees as having no files.
            if let Err(error) = files.mount(&mut wasi) {
                tracing::warn!(component = %component.name, "{error:#}");
            }
        }
        self.engine.new_store(InstanceState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            limits: self.engine.store_limits(),
            outbound,
            component: component.clone(),
            deadline: std::time::Instant::now() + self.engine.config().request_deadline,
        })
    }
}
