//! Dialing: one dialer per peer this node dials, connecting whenever the peer is not
//! connected and backing off while it cannot be reached.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use iroh::endpoint::Connection;
use iroh::{Endpoint, EndpointAddr, EndpointId, TransportAddr};
use tokio::sync::watch;

use super::connection::{self, Ending, Outcome, failed};
use super::{Shared, wire};

/// First and longest pause between dials of an unreachable peer. The cap is short so that
/// a link that comes back after a partition is used within about two seconds; a failed
/// dial costs a few QUIC Initial packets.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long one dial may take to connect. Short, so that a dial sent into a dead link is
/// soon replaced by a fresh one rather than waiting out QUIC's growing retransmit timers.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// Pause between dials of a peer that refused us (a key change needs an operator anyway).
const REFUSED_BACKOFF: Duration = Duration::from_secs(30);
/// A session that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(10);

/// Dials the peer `id` whenever it is not connected, until the node stops or the peer is
/// removed (`removed` closes: the peer table dropped its end).
pub(super) async fn run(shared: Arc<Shared>, id: EndpointId, removed: watch::Receiver<()>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        if shared.is_stopping() || removed.has_changed().is_err() {
            return;
        }
        let (live, addrs, wake) = {
            let table = shared.table();
            let Some(peer) = table.peers.get(&id) else { return };
            (peer.live().map(|s| s.conn.clone()), peer.addrs.clone(), peer.wake.clone())
        };
        if let Some(conn) = live {
            tokio::select! {
                _ = conn.closed() => continue,
                _ = ending(&shared, removed.clone()) => return,
            }
        }
        // A ticket carries loopback last, for a peer on the same host; from another host the
        // same address is this node itself, and would only answer with the wrong identity.
        let bound = shared.endpoint.bound_sockets();
        let addrs: Vec<SocketAddr> = addrs.into_iter().filter(|a| !is_own(a, &bound)).collect();
        let tried = addrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let relays = shared.relay_urls.iter().cloned().map(TransportAddr::Relay);
        let addr = EndpointAddr::from_parts(id, addrs.into_iter().map(TransportAddr::Ip).chain(relays));
        let connecting = tokio::select! {
            r = tokio::time::timeout(CONNECT_TIMEOUT, connect(&shared.endpoint, addr)) => r,
            _ = ending(&shared, removed.clone()) => return,
        };
        let outcome = match connecting {
            Ok(Ok(conn)) => match conn.open_bi().await {
                Ok((send, recv)) => {
                    let ending = ending(&shared, removed.clone());
                    connection::run(&shared, conn, id, true, send, recv, ending).await
                }
                Err(e) => failed(&shared, &id, format!("cannot open a stream: {e}")),
            },
            Ok(Err(e)) => failed(&shared, &id, connect_error(&id, &tried, &e)),
            Err(_) => failed(&shared, &id, "cannot connect: timed out".into()),
        };
        let pause = match outcome {
            Outcome::Duplicate => continue,
            Outcome::Ended => return,
            Outcome::Ran(d) if d > STABLE => {
                backoff = MIN_BACKOFF;
                backoff
            }
            Outcome::Ran(_) | Outcome::Failed => {
                let b = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                b
            }
            Outcome::Refused => REFUSED_BACKOFF,
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            // A sign of the peer (an address, mDNS, exchange) or force_sync: try at once.
            () = wake.notified() => backoff = MIN_BACKOFF,
            _ = ending(&shared, removed.clone()) => return,
        }
    }
}

/// Whether dialing `addr` would reach this node's own endpoint, bound to `bound`.
fn is_own(addr: &SocketAddr, bound: &[SocketAddr]) -> bool {
    bound.iter().any(|b| {
        b.port() == addr.port()
            && (b.ip() == addr.ip()
                || (b.ip().is_unspecified() || b.ip().is_loopback()) && addr.ip().is_loopback())
    })
}

/// Connects with the sync protocol's ALPN.
async fn connect(endpoint: &Endpoint, addr: EndpointAddr) -> Result<Connection, String> {
    endpoint.connect(addr, wire::ALPN).await.map_err(|e| e.to_string())
}

/// Why a connect failed, in the operator's terms. A TLS identity mismatch means another
/// node answered at the address (a stale ticket, a reused port, or this host's own node).
fn connect_error(expected: &EndpointId, tried: &str, error: &str) -> String {
    if error.contains("UnknownIssuer") || error.contains("invalid peer certificate") {
        return format!(
            "cannot connect: a node other than the expected {expected} answered at {tried} \
             (a stale ticket or address, or a port reused by another node)"
        );
    }
    format!("cannot connect: {error}")
}

/// Resolves when the dialer must end, with the reason its connection closes.
fn ending(shared: &Shared, mut removed: watch::Receiver<()>) -> impl Future<Output = Ending> + use<> {
    let stopped = shared.stopped();
    async move {
        tokio::select! {
            () = stopped => Ending::Stopping,
            () = async { while removed.changed().await.is_ok() {} } => Ending::Removed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_addresses_are_the_bound_socket_and_its_loopback() {
        let bound: Vec<SocketAddr> = vec!["0.0.0.0:7890".parse().unwrap()];
        assert!(is_own(&"127.0.0.1:7890".parse().unwrap(), &bound));
        assert!(!is_own(&"127.0.0.1:7891".parse().unwrap(), &bound), "another node on this host");
        assert!(!is_own(&"10.0.0.2:7890".parse().unwrap(), &bound), "another host");
        let specific: Vec<SocketAddr> = vec!["127.0.0.1:5000".parse().unwrap()];
        assert!(is_own(&"127.0.0.1:5000".parse().unwrap(), &specific));
    }
}
