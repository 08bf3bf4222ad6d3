//! The node's Iroh endpoint (DESIGN.md §8): its identity is `identity.key`, it binds the
//! configured UDP address, and nothing phones home by default: no relays, no DNS/pkarr
//! address lookup, no port mapping, no relay probes. Relays and mDNS are opt-in.

use iroh::endpoint::{PortmapperConfig, presets};
use iroh::{Endpoint, NetReportConfig, RelayMode, SecretKey};
use iroh_mdns_address_lookup::MdnsAddressLookup;

use super::wire::ALPN;
use crate::sync::{Error, Result, TransportConfig};

/// The mDNS service name: peat nodes only find each other, not other Iroh apps.
const MDNS_SERVICE: &str = "peat-sync";

/// Binds the endpoint. With `mdns`, also returns the lookup to subscribe to.
pub(super) async fn bind(
    secret: SecretKey,
    transport: &TransportConfig,
) -> Result<(Endpoint, Option<MdnsAddressLookup>)> {
    let builder = Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .alpns(vec![ALPN.to_vec()])
        .relay_mode(if transport.relays { RelayMode::Default } else { RelayMode::Disabled })
        .portmapper_config(PortmapperConfig::Disabled)
        .net_report_config(NetReportConfig::minimal())
        .clear_address_lookup()
        .clear_ip_transports()
        .bind_addr(transport.listen)
        .map_err(|e| Error::invalid(format!("listen address {}: {e}", transport.listen)))?;
    let endpoint = builder
        .bind()
        .await
        .map_err(|e| Error::failed(format!("cannot bind the sync endpoint on {}: {e}", transport.listen)))?;
    let mdns = if transport.mdns {
        let mdns = MdnsAddressLookup::builder()
            .service_name(MDNS_SERVICE)
            .build(endpoint.id())
            .map_err(|e| Error::context("starting mDNS", e))?;
        endpoint.address_lookup().map_err(|e| Error::context("mDNS", e))?.add(mdns.clone());
        Some(mdns)
    } else {
        None
    };
    Ok((endpoint, mdns))
}

/// The addresses the endpoint is bound to, as peers on this host would dial them.
pub(super) fn listening(endpoint: &Endpoint) -> Vec<std::net::SocketAddr> {
    endpoint.bound_sockets()
}
