//! Join tickets: one string that carries what a new node needs to join a formation (app id,
//! formation key) and to reach its first peer (id and addresses). It holds the formation
//! secret, so treat it like a password.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

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

    /// `peat1` followed by the hex of the ticket's JSON.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("ticket serializes");
        format!("{PREFIX}{}", hex(&json))
    }

    pub fn decode(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid("not a valid join ticket (expected the peat1... string printed by `peat init`)")
        };
        let body = s.trim().strip_prefix(PREFIX).ok_or_else(bad)?;
        let json = unhex(body).ok_or_else(bad)?;
        serde_json::from_slice(&json).map_err(|_| bad())
    }

    /// Whether a string looks like a ticket rather than an address.
    pub fn looks_like(s: &str) -> bool {
        s.starts_with(PREFIX) && !s.contains('@')
    }
}

fn hex(bytes: &[u8]) -> String {
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
        let t = Ticket::new("app", &[7; 32], "abcd", vec!["127.0.0.1:7890".parse().unwrap()]);
        let s = t.encode();
        assert!(Ticket::looks_like(&s));
        assert_eq!(Ticket::decode(&s).unwrap(), t);
        assert_eq!(t.formation_key().unwrap(), [7; 32]);
        assert_eq!(t.peer_addrs(), ["abcd@127.0.0.1:7890"]);
        for bad in ["", "peat1", "peat1zz", "peat1abc", "xyz", "peat17b7d"] {
            assert!(Ticket::decode(bad).is_err(), "{bad}");
        }
    }
}
