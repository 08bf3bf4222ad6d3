//! Formation membership (DESIGN.md §8). Iroh's TLS already proves each side holds the secret
//! key of its endpoint id; this handshake proves both hold the formation key and run the same
//! app id, before any document moves. Each side sends one `Hello` with a MAC (blake3 keyed by
//! the formation key) over its role, the app id, both endpoint ids and keying material
//! exported from this connection's TLS session: a proof is bound to this one connection and
//! cannot be replayed on another, nor reflected (the roles differ).
//!
//! The dialer sends its `Hello` at once, with the first bytes after the TLS handshake; the
//! acceptor checks it and answers with its own (see [`greet`]), then feeds straight away,
//! since the dialer's `Hello` also said where to feed from: documents flow one round trip
//! after the QUIC handshake.

use iroh::EndpointId;
use iroh::endpoint::Connection;
use tokio::io::{AsyncRead, AsyncWrite};

use super::wire::{self, Msg, Since};
use crate::sync::{Error, Result};

/// What a node needs to prove membership.
#[derive(Clone)]
pub(super) struct Formation {
    pub(super) app_id: String,
    pub(super) key: [u8; 32],
}

/// Which end of the connection computes a MAC: the two ends' MACs differ, so one can never
/// be played back as the other.
#[derive(Clone, Copy)]
pub(super) enum Role {
    Dialer,
    Acceptor,
}

/// One connection as both ends see it: who dialed whom, and the keying material both
/// derive from its TLS session.
pub(super) struct Ends {
    pub dialer: EndpointId,
    pub acceptor: EndpointId,
    pub keying: [u8; 32],
}

impl Ends {
    /// The ends of `conn`, dialed by us when `dialed`.
    pub fn of(conn: &Connection, me: EndpointId, dialed: bool) -> Result<Self> {
        let peer = conn.remote_id();
        let (dialer, acceptor) = if dialed { (me, peer) } else { (peer, me) };
        let mut keying = [0; 32];
        conn.export_keying_material(&mut keying, b"peat formation proof", wire::ALPN)
            .map_err(|e| Error::failed(format!("exporting keying material: {e:?}")))?;
        Ok(Self { dialer, acceptor, keying })
    }

    /// The MAC `role` sends.
    fn mac(&self, f: &Formation, role: Role) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&f.key);
        h.update(wire::ALPN);
        h.update(&[match role {
            Role::Dialer => b'D',
            Role::Acceptor => b'A',
        }]);
        h.update(&(f.app_id.len() as u64).to_le_bytes());
        h.update(f.app_id.as_bytes());
        h.update(self.dialer.as_bytes());
        h.update(self.acceptor.as_bytes());
        h.update(&self.keying);
        *h.finalize().as_bytes()
    }
}

/// What the peer's `Hello` told us.
#[derive(Debug, PartialEq)]
pub(super) struct Greeted {
    /// Its store identity.
    pub store_id: [u8; 16],
    /// Where to feed it our log from: its position if it asked of our store, else 0.
    pub since: u64,
}

/// Why a handshake failed.
pub(super) enum Failure {
    /// Membership was not proven (by us or by the peer): the reason, for both logs.
    Refused(String),
    /// The connection broke or spoke nonsense.
    Broken(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Broken(e)
    }
}

/// Tells the peer why, and fails.
async fn refuse<T>(w: &mut (impl AsyncWrite + Unpin), reason: String) -> Result<T, Failure> {
    let _ = wire::write(w, &Msg::Refuse { reason: reason.clone() }).await;
    Err(Failure::Refused(reason))
}

const KEY_MISMATCH: &str = "formation key mismatch (the nodes belong to different formations)";

/// Sends our `Hello` as `role`, asking for the peer's log from `since`.
pub(super) async fn greet(
    f: &Formation,
    ends: &Ends,
    role: Role,
    store_id: [u8; 16],
    since: Since,
    w: &mut (impl AsyncWrite + Unpin),
) -> Result<()> {
    let hello = Msg::Hello { app_id: f.app_id.clone(), store_id, mac: ends.mac(f, role), since };
    wire::write(w, &hello).await.map(drop)
}

/// Reads the `Hello` of the peer, which plays `role`, and checks its proof; refuses the peer
/// (telling it why) when it is not of our formation. `ours` is our store identity.
pub(super) async fn check(
    f: &Formation,
    ends: &Ends,
    role: Role,
    ours: [u8; 16],
    r: &mut (impl AsyncRead + Unpin),
    w: &mut (impl AsyncWrite + Unpin),
) -> Result<Greeted, Failure> {
    let (app_id, store_id, mac, since) = match wire::read(r).await? {
        Some((Msg::Hello { app_id, store_id, mac, since }, _)) => (app_id, store_id, mac, since),
        Some((Msg::Refuse { reason }, _)) => {
            return Err(Failure::Refused(format!("the peer refused: {reason}")));
        }
        Some((other, _)) => {
            return Err(Failure::Broken(Error::invalid(format!(
                "unexpected message during the handshake: {other:?}"
            ))));
        }
        None => {
            return Err(Failure::Broken(Error::failed(
                "the peer closed the connection during the handshake",
            )));
        }
    };
    if app_id != f.app_id {
        let why = format!("app id mismatch (this node runs '{}', the peer '{app_id}')", f.app_id);
        return refuse(w, why).await;
    }
    // Constant time: a MAC compared byte by byte would leak how much of a guess was right.
    if blake3::Hash::from_bytes(ends.mac(f, role)) != blake3::Hash::from_bytes(mac) {
        return refuse(w, KEY_MISMATCH.into()).await;
    }
    Ok(Greeted { store_id, since: if since.of == ours { since.seq } else { 0 } })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Outcome = Result<Greeted, Failure>;

    /// A handshake between a dialer of formation `a` and an acceptor of `b` on one
    /// connection (`keying`), as `connection.rs` runs it; the acceptor's greeting asks for the
    /// dialer's log from 5.
    async fn run(a: Formation, b: Formation, keying: ([u8; 32], [u8; 32])) -> (Outcome, Outcome) {
        let (d, acc) = (iroh::SecretKey::generate().public(), iroh::SecretKey::generate().public());
        let ends = |keying| Ends { dialer: d, acceptor: acc, keying };
        let (c1, c2) = tokio::io::duplex(1 << 16);
        let (mut r1, mut w1) = tokio::io::split(c1);
        let (mut r2, mut w2) = tokio::io::split(c2);
        let dialer = async {
            let e = ends(keying.0);
            greet(&a, &e, Role::Dialer, [1; 16], Since { seq: 9, of: [2; 16] }, &mut w1).await?;
            check(&a, &e, Role::Acceptor, [1; 16], &mut r1, &mut w1).await
        };
        let acceptor = async {
            let e = ends(keying.1);
            let theirs = check(&b, &e, Role::Dialer, [2; 16], &mut r2, &mut w2).await?;
            greet(&b, &e, Role::Acceptor, [2; 16], Since { seq: 5, of: [9; 16] }, &mut w2).await?;
            Ok(theirs)
        };
        tokio::join!(dialer, acceptor)
    }

    fn refused(r: Outcome) -> String {
        match r {
            Err(Failure::Refused(why)) => why,
            Err(Failure::Broken(e)) => panic!("broken: {e}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[tokio::test]
    async fn same_formation_is_accepted_others_are_refused_on_both_sides() {
        let f = |app: &str, key: u8| Formation { app_id: app.into(), key: [key; 32] };
        let same = ([3; 32], [3; 32]);
        let (d, a) = run(f("x", 1), f("x", 1), same).await;
        assert_eq!(d.ok(), Some(Greeted { store_id: [2; 16], since: 0 }), "asked of another store: from 0");
        assert_eq!(a.ok(), Some(Greeted { store_id: [1; 16], since: 9 }), "asked of this store");

        let (d, a) = run(f("x", 1), f("x", 2), same).await;
        assert!(refused(d).contains("formation key mismatch"));
        assert!(refused(a).contains("formation key mismatch"));

        let (d, a) = run(f("x", 1), f("y", 1), same).await;
        assert!(refused(d).contains("app id mismatch"));
        assert!(refused(a).contains("app id mismatch"));
    }

    #[tokio::test]
    async fn a_proof_is_bound_to_its_connection() {
        // The same formation, but the MAC was made for another TLS session: a replay.
        let f = Formation { app_id: "x".into(), key: [1; 32] };
        let (d, a) = run(f.clone(), f, ([3; 32], [4; 32])).await;
        assert!(refused(a).contains("formation key mismatch"));
        assert!(refused(d).contains("formation key mismatch"));
    }
}
