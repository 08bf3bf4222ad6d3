//! Join tickets: one string that carries what a new node needs to join a formation (app id,
//! formation key) and to reach its first peer (id and addresses). It holds the formation
//! secret, so treat it like a password.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use serde::{Deserialize, Serialize};

use super::NodeDir;
use crate::sync::{Error, Result};

const PREFIX: &str = "peat1";

/// The contents of a join ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub app_id: String,
    /// Hex of the 32-byte formation key.
    pub formation: String,
    /// The node id to dial.
    pub node: String,
    pub addrs: Vec<SocketAddr>,
}

impl Ticket {
    pub fn new(app_id: &str, formation: &[u8; 32], node: &str, addrs: Vec<SocketAddr>) -> Self {
        Self { app_id: app_id.into(), formation: hex(formation), node: node.into(), addrs }
    }

    /// The ticket of the node in `dir` whose endpoint is bound to `bound`, with the
    /// addresses a peer can dial ([`dialable`]).
    pub fn for_node(dir: &NodeDir, bound: &[SocketAddr]) -> Result<Self> {
        let config = dir.config()?;
        let node = dir.identity()?.public().to_string();
        let addrs = dialable(bound, &config.advertise)?;
        Ok(Self::new(&config.app_id, &dir.formation_key()?, &node, addrs))
    }

    /// The formation key it carries.
    pub fn formation_key(&self) -> Result<[u8; 32]> {
        unhex(&self.formation)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::invalid("ticket: bad formation key"))
    }

    /// The peer addresses in `ID@HOST:PORT` form.
    pub fn peer_addrs(&self) -> Vec<String> {
        self.addrs.iter().map(|a| format!("{}@{a}", self.node)).collect()
    }

    /// `peat1` followed by the hex of the ticket in a compact binary form (about 160
    /// characters for one address), short enough to read out or paste over a slow link.
    pub fn encode(&self) -> Result<String> {
        let key = |name: &str, hex_key: &str| -> Result<[u8; 32]> {
            unhex(hex_key)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| Error::invalid(format!("ticket: the {name} is not 32 bytes of hex")))
        };
        let wire = Wire {
            app_id: self.app_id.clone(),
            formation: key("formation key", &self.formation)?,
            node: key("node id", &self.node)?,
            addrs: self.addrs.clone(),
        };
        let bytes = postcard::to_allocvec(&wire).map_err(|e| Error::context("ticket", e))?;
        Ok(format!("{PREFIX}{}", hex(&bytes)))
    }

    pub fn decode(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid("not a valid join ticket (expected the peat1... string printed by `peat init`)")
        };
        let body = s.trim().strip_prefix(PREFIX).ok_or_else(bad)?;
        let bytes = unhex(body).ok_or_else(bad)?;
        let (wire, rest): (Wire, &[u8]) = postcard::take_from_bytes(&bytes).map_err(|_| bad())?;
        if !rest.is_empty() || crate::sync::validate::app_id(&wire.app_id).is_err() {
            return Err(bad());
        }
        Ok(Self {
            app_id: wire.app_id,
            formation: hex(&wire.formation),
            node: hex(&wire.node),
            addrs: wire.addrs,
        })
    }

    /// Whether a string looks like a ticket rather than an address.
    pub fn looks_like(s: &str) -> bool {
        s.starts_with(PREFIX) && !s.contains('@')
    }
}

/// The addresses a peer on another host can dial for an endpoint bound to `bound`: the
/// advertised ones first (`HOST:PORT`, for NAT, port forwards and containers), then each
/// bound address, where a wildcard bind (`0.0.0.0`, `[::]`) stands for every interface address of
/// its family with the bound port, loopback last. Port 0 (a port not chosen yet) is left out.
pub fn dialable(bound: &[SocketAddr], advertise: &[String]) -> Result<Vec<SocketAddr>> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for entry in advertise {
        let resolved = entry
            .to_socket_addrs()
            .map_err(|e| Error::invalid(format!("advertised address '{entry}': {e}")))?;
        out.extend(resolved);
    }
    let interfaces = interface_ips();
    for addr in bound.iter().filter(|a| a.port() != 0) {
        if !addr.ip().is_unspecified() {
            out.push(*addr);
            continue;
        }
        let same_family = |ip: &&IpAddr| ip.is_ipv4() == addr.is_ipv4();
        let (looped, other): (Vec<IpAddr>, Vec<IpAddr>) =
            interfaces.iter().filter(same_family).partition(|ip| ip.is_loopback());
        out.extend(other.into_iter().chain(looped).map(|ip| SocketAddr::new(ip, addr.port())));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(*a));
    Ok(out)
}

/// The addresses of this host's interfaces that are up, without IPv6 link-local ones (they
/// need a scope that a ticket cannot carry).
fn interface_ips() -> Vec<IpAddr> {
    let mut ips = Vec::new();
    for interface in netdev::get_interfaces().into_iter().filter(|i| i.is_up()) {
        ips.extend(interface.ipv4.iter().map(|n| IpAddr::V4(n.addr())));
        let v6 = interface.ipv6.iter().map(|n| n.addr()).filter(|ip| !ip.is_unicast_link_local());
        ips.extend(v6.map(IpAddr::V6));
    }
    ips
}

/// A ticket as encoded: keys as raw bytes.
#[derive(Serialize, Deserialize)]
struct Wire {
    app_id: String,
    formation: [u8; 32],
    node: [u8; 32],
    addrs: Vec<SocketAddr>,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let node = "ab".repeat(32);
        let t = Ticket::new("convoy", &[7; 32], &node, vec!["192.168.100.200:7890".parse().unwrap()]);
        let s = t.encode().unwrap();
        assert!(Ticket::looks_like(&s));
        assert!(s.len() < 170, "a ticket stays short enough to paste: {} characters", s.len());
        assert_eq!(Ticket::decode(&s).unwrap(), t);
        assert_eq!(t.formation_key().unwrap(), [7; 32]);
        assert_eq!(t.peer_addrs(), [format!("{node}@192.168.100.200:7890")]);
        assert!(Ticket::new("a", &[0; 32], "abcd", vec![]).encode().is_err(), "a node id is 32 bytes");
        for bad in ["", "peat1", "peat1zz", "peat1abc", "xyz", "peat17b7d"] {
            assert!(Ticket::decode(bad).is_err(), "{bad}");
        }
        assert!(Ticket::decode(&format!("{s}00")).is_err(), "trailing bytes");
        let nameless = Ticket::new("", &[7; 32], &node, vec![]).encode().unwrap();
        assert!(Ticket::decode(&nameless).is_err(), "an app id init would refuse");
    }

    #[test]
    fn dialable_addresses_expand_wildcards_put_advertised_first_and_skip_port_0() {
        let bound: SocketAddr = "0.0.0.0:7890".parse().unwrap();
        let addrs = dialable(&[bound], &["203.0.113.9:4000".into()]).unwrap();
        assert_eq!(addrs[0], "203.0.113.9:4000".parse().unwrap(), "advertised first");
        assert!(addrs[1..].iter().all(|a| a.port() == 7890 && a.is_ipv4() && !a.ip().is_unspecified()));
        assert_eq!(addrs.last().unwrap().ip(), IpAddr::from([127, 0, 0, 1]), "loopback last");
        let specific: SocketAddr = "10.1.2.3:9".parse().unwrap();
        assert_eq!(dialable(&[specific], &[]).unwrap(), [specific]);
        assert!(dialable(&["0.0.0.0:0".parse().unwrap()], &[]).unwrap().is_empty(), "port 0 is not dialable");
        assert!(dialable(&[], &["no port".into()]).is_err());
    }
}
