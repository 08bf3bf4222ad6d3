//! Formation membership (DESIGN.md §8). Iroh's TLS already proves each side holds the secret
//! key of its endpoint id; this handshake proves both hold the formation key and run the same
//! app id, before any document moves. Each side sends a fresh nonce and a MAC (blake3 keyed
//! by the formation key) over the app id, both endpoint ids and both nonces, so a proof is
//! bound to this one connection and cannot be replayed or reflected.

use iroh::EndpointId;
use tokio::io::{AsyncRead, AsyncWrite};

use super::wire::{self, Msg};
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
enum Role {
    Dialer,
    Acceptor,
}

/// The MAC one side sends.
fn mac(
    f: &Formation,
    role: Role,
    dialer: &EndpointId,
    acceptor: &EndpointId,
    nd: &[u8; 32],
    na: &[u8; 32],
) -> blake3::Hash {
    let mut h = blake3::Hasher::new_keyed(&f.key);
    h.update(wire::ALPN);
    h.update(&[match role {
        Role::Dialer => b'D',
        Role::Acceptor => b'A',
    }]);
    h.update(&(f.app_id.len() as u64).to_le_bytes());
    h.update(f.app_id.as_bytes());
    h.update(dialer.as_bytes());
    h.update(acceptor.as_bytes());
    h.update(nd);
    h.update(na);
    h.finalize()
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

async fn next(r: &mut (impl AsyncRead + Unpin)) -> Result<Msg, Failure> {
    match wire::read(r).await? {
        Some((Msg::Refuse { reason }, _)) => Err(Failure::Refused(format!("the peer refused: {reason}"))),
        Some((msg, _)) => Ok(msg),
        None => Err(Failure::Broken(Error::failed("the peer closed the connection during the handshake"))),
    }
}

/// Tells the peer why, and fails.
async fn refuse<T>(w: &mut (impl AsyncWrite + Unpin), reason: String) -> Result<T, Failure> {
    let _ = wire::write(w, &Msg::Refuse { reason: reason.clone() }).await;
    Err(Failure::Refused(reason))
}

fn unexpected(msg: &Msg) -> Failure {
    Failure::Broken(Error::invalid(format!("unexpected message during the handshake: {msg:?}")))
}

fn app_mismatch(ours: &str, theirs: &str) -> String {
    format!("app id mismatch (this node runs '{ours}', the peer '{theirs}')")
}

const KEY_MISMATCH: &str = "formation key mismatch (the nodes belong to different formations)";

/// The dialer's side. Returns the peer's store id.
pub(super) async fn dial(
    f: &Formation,
    me: &EndpointId,
    peer: &EndpointId,
    store_id: [u8; 16],
    r: &mut (impl AsyncRead + Unpin),
    w: &mut (impl AsyncWrite + Unpin),
) -> Result<[u8; 16], Failure> {
    let nd: [u8; 32] = rand::random();
    wire::write(w, &Msg::Hello { app_id: f.app_id.clone(), nonce: nd }).await?;
    let (app_id, na, their_mac) = match next(r).await? {
        Msg::Challenge { app_id, nonce, mac } => (app_id, nonce, mac),
        other => return Err(unexpected(&other)),
    };
    if app_id != f.app_id {
        return refuse(w, app_mismatch(&f.app_id, &app_id)).await;
    }
    if mac(f, Role::Acceptor, me, peer, &nd, &na) != blake3::Hash::from_bytes(their_mac) {
        return refuse(w, KEY_MISMATCH.into()).await;
    }
    let proof = *mac(f, Role::Dialer, me, peer, &nd, &na).as_bytes();
    wire::write(w, &Msg::Proof { mac: proof }).await?;
    wire::write(w, &Msg::Ready { store_id }).await?;
    match next(r).await? {
        Msg::Ready { store_id } => Ok(store_id),
        other => Err(unexpected(&other)),
    }
}

/// The acceptor's side. Returns the peer's store id; the caller then sends its own `Ready`
/// (see [`ready`]) once it has registered the session, so that a dialer that sees `Ready`
/// knows both ends count the connection.
pub(super) async fn accept(
    f: &Formation,
    me: &EndpointId,
    peer: &EndpointId,
    r: &mut (impl AsyncRead + Unpin),
    w: &mut (impl AsyncWrite + Unpin),
) -> Result<[u8; 16], Failure> {
    let (app_id, nd) = match next(r).await? {
        Msg::Hello { app_id, nonce } => (app_id, nonce),
        other => return Err(unexpected(&other)),
    };
    if app_id != f.app_id {
        return refuse(w, app_mismatch(&f.app_id, &app_id)).await;
    }
    let na: [u8; 32] = rand::random();
    let ours = *mac(f, Role::Acceptor, peer, me, &nd, &na).as_bytes();
    wire::write(w, &Msg::Challenge { app_id: f.app_id.clone(), nonce: na, mac: ours }).await?;
    let their_mac = match next(r).await? {
        Msg::Proof { mac } => mac,
        other => return Err(unexpected(&other)),
    };
    if mac(f, Role::Dialer, peer, me, &nd, &na) != blake3::Hash::from_bytes(their_mac) {
        return refuse(w, KEY_MISMATCH.into()).await;
    }
    let their_store = match next(r).await? {
        Msg::Ready { store_id } => store_id,
        other => return Err(unexpected(&other)),
    };
    Ok(their_store)
}

/// The acceptor's last handshake message.
pub(super) async fn ready(store_id: [u8; 16], w: &mut (impl AsyncWrite + Unpin)) -> Result<()> {
    wire::write(w, &Msg::Ready { store_id }).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(a: Formation, b: Formation) -> (Result<[u8; 16], Failure>, Result<[u8; 16], Failure>) {
        let (da, db) = (iroh::SecretKey::generate().public(), iroh::SecretKey::generate().public());
        let (c1, c2) = tokio::io::duplex(1 << 16);
        let (mut r1, mut w1) = tokio::io::split(c1);
        let (mut r2, mut w2) = tokio::io::split(c2);
        let acceptor = async {
            let theirs = accept(&b, &db, &da, &mut r2, &mut w2).await?;
            ready([2; 16], &mut w2).await?;
            Ok(theirs)
        };
        tokio::join!(dial(&a, &da, &db, [1; 16], &mut r1, &mut w1), acceptor)
    }

    fn refused(r: Result<[u8; 16], Failure>) -> String {
        match r {
            Err(Failure::Refused(why)) => why,
            Err(Failure::Broken(e)) => panic!("broken: {e}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[tokio::test]
    async fn same_formation_is_accepted_others_are_refused_on_both_sides() {
        let f = |app: &str, key: u8| Formation { app_id: app.into(), key: [key; 32] };
        let (d, a) = run(f("x", 1), f("x", 1)).await;
        assert_eq!((d.ok(), a.ok()), (Some([2; 16]), Some([1; 16])));

        let (d, a) = run(f("x", 1), f("x", 2)).await;
        assert!(refused(d).contains("formation key mismatch"));
        assert!(refused(a).contains("formation key mismatch"));

        let (d, a) = run(f("x", 1), f("y", 1)).await;
        assert!(refused(d).contains("app id mismatch"));
        assert!(refused(a).contains("app id mismatch"));
    }
}
