//! Join tickets: one string that carries what a new node needs to join a formation (app id,
//! formation key) and to reach its first peer (id and addresses). It holds the formation
//! secret, so treat it like a password.

use std::net::SocketAddr;

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

    /// The ticket of the node in `dir`, reachable at `listen` (an unspecified IP becomes
    /// loopback: that much is known to work; peers elsewhere need the host's own address).
    pub fn for_node(dir: &NodeDir, listen: &[SocketAddr]) -> Result<Self> {
        let reachable = |a: &SocketAddr| {
            if a.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], a.port())) } else { *a }
        };
        let config = dir.config()?;
        let node = dir.identity()?.public().to_string();
        Ok(Self::new(&config.app_id, &dir.formation_key()?, &node, listen.iter().map(reachable).collect()))
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
        let wire: Wire = postcard::from_bytes(&bytes).map_err(|_| bad())?;
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
    }
}
