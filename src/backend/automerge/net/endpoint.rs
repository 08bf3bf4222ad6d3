//! The node's Iroh endpoint (DESIGN.md §8): its identity is `identity.key`, it binds the
//! configured UDP address, and nothing phones home by default: no relays, no DNS/pkarr
//! address lookup, no port mapping, no relay probes. Relays and mDNS are opt-in.

use std::time::Duration;

use iroh::endpoint::{IdleTimeout, PortmapperConfig, QuicTransportConfig, presets};
use iroh::{Endpoint, NetReportConfig, RelayMap, RelayMode, RelayUrl, SecretKey};
use iroh_mdns_address_lookup::MdnsAddressLookup;

use super::wire::ACCEPTED;
use crate::sync::{Error, Result, TransportConfig};

/// The mDNS service name: peat nodes only find each other, not other Iroh apps.
const MDNS_SERVICE: &str = "peat-sync";

/// Keep-alives on a quiet connection. Cheap (a few dozen bytes a second), and what lets a
/// dead path be noticed within [`IDLE_TIMEOUT`] on a link that dropped without a word.
const KEEP_ALIVE: Duration = Duration::from_secs(1);
/// A connection that heard nothing for this long is dead: the dialers then redial, so a
/// link that comes back is used within a dial's backoff, not after QUIC's ever longer probe
/// timeouts of a connection kept alive across a long partition.
const IDLE_TIMEOUT: Duration = Duration::from_secs(8);
/// The same for each path of a connection (iroh keeps a relay path beside a direct one).
const PATH_IDLE_TIMEOUT: Duration = Duration::from_secs(6);

/// The QUIC settings for field links: see [`KEEP_ALIVE`] and [`IDLE_TIMEOUT`]. No path MTU
/// discovery: datagrams stay at QUIC's 1200 bytes, which every path carries (radios and
/// tunnels often have MTUs below Ethernet's). A probe for 1452 bytes cost 1.45 KB each way
/// on every connection, ahead of the first frames (0.2 s of a 64 kbit/s link before the
/// handshake could go on), for datagrams whose larger size saves under 1% of the bytes of a
/// transfer (their 40 bytes of headers and tag over 1,452 instead of 1,200). Congestion
/// control is BBR: loss-based controllers (Cubic, the default) halve their window at every
/// lost packet, so on a radio link with a few percent of random loss they use a fraction of
/// the link; BBR paces at the measured bandwidth and round trip instead.
fn quic_config() -> Result<QuicTransportConfig> {
    let idle = IdleTimeout::try_from(IDLE_TIMEOUT).map_err(|e| Error::context("idle timeout", e))?;
    Ok(QuicTransportConfig::builder()
        .congestion_controller_factory(std::sync::Arc::new(noq_proto::congestion::Bbr3Config::default()))
        .keep_alive_interval(KEEP_ALIVE)
        .max_idle_timeout(Some(idle))
        .default_path_keep_alive_interval(KEEP_ALIVE)
        .default_path_max_idle_timeout(PATH_IDLE_TIMEOUT)
        .mtu_discovery_config(None)
        .build())
}

/// The relays to use: the operator's own when configured, else the public ones when asked,
/// else none.
fn relay_mode(transport: &TransportConfig) -> Result<RelayMode> {
    if transport.relay_urls.is_empty() {
        return Ok(if transport.relays { RelayMode::Default } else { RelayMode::Disabled });
    }
    Ok(RelayMode::Custom(relay_urls(&transport.relay_urls)?.into_iter().collect::<RelayMap>()))
}

/// Network probes: none, unless the operator's own relays are configured; then HTTPS
/// latency probes to those relays (only they are in the relay map), which is how the endpoint
/// picks its home relay, the one peers reach it through.
fn net_report(transport: &TransportConfig) -> NetReportConfig {
    let mut config = NetReportConfig::minimal();
    config.https_probes = !transport.relay_urls.is_empty();
    config
}

/// Parses relay URLs (`http://HOST:PORT` or `https://...`).
pub(super) fn relay_urls(urls: &[String]) -> Result<Vec<RelayUrl>> {
    urls.iter()
        .map(|u| u.parse::<RelayUrl>().map_err(|e| Error::invalid(format!("relay URL '{u}': {e}"))))
        .collect()
}

/// Binds the endpoint. With `mdns`, also returns the lookup to subscribe to.
pub(super) async fn bind(
    secret: SecretKey,
    transport: &TransportConfig,
) -> Result<(Endpoint, Option<MdnsAddressLookup>)> {
    let builder = Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .alpns(ACCEPTED.map(<[u8]>::to_vec).into())
        .relay_mode(relay_mode(transport)?)
        .transport_config(quic_config()?)
        .portmapper_config(PortmapperConfig::Disabled)
        .net_report_config(net_report(transport))
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
