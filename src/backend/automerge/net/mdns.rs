//! Peers that mDNS finds on the local network are dialed like configured ones, but not
//! remembered in config.toml: they are found again on the next start.

use std::sync::Arc;

use iroh_mdns_address_lookup::{DiscoveryEvent, MdnsAddressLookup};
use tokio_stream::StreamExt;

use super::Shared;
use crate::sync::PeerSource;

/// Dials each newly found peer, until the node stops.
pub(super) async fn run(shared: Arc<Shared>, mdns: MdnsAddressLookup) {
    let found = async {
        let mut events = mdns.subscribe().await;
        while let Some(event) = events.next().await {
            if let DiscoveryEvent::Discovered { endpoint_info, .. } = event {
                let id = endpoint_info.endpoint_id;
                if id == shared.endpoint.id() {
                    continue;
                }
                let addrs: Vec<_> = endpoint_info.data.ip_addrs().copied().collect();
                let known = shared.table().peers.get(&id).is_some_and(|p| p.dialed);
                if !known {
                    tracing::info!("mDNS found peer {id} at {addrs:?}");
                    shared.ensure_peer(id, addrs, PeerSource::Mdns);
                }
            }
        }
    };
    tokio::select! {
        () = found => {}
        () = shared.stopped() => {}
    }
}
