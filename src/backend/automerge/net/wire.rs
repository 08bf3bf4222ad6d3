//! Frames on the wire between two nodes (DESIGN.md §8): a 4-byte big-endian length, then a
//! body of one version byte and a postcard-encoded [`Msg`]. Frames are bounded by
//! [`MAX_FRAME`]; anything oversized, truncated, of another version or undecodable is an
//! error that closes that one connection, never the node.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::sync::{Error, Result};

/// The ALPN of the sync protocol; a new incompatible protocol gets a new ALPN.
pub const ALPN: &[u8] = b"peat/sync/1";
/// The frame format version carried in every frame. 2: `Head`, `HeadQuery` and `Members`.
pub const VERSION: u8 = 2;
/// The largest frame body either side accepts.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;
/// Document payloads per `Changes` frame stay under this, leaving room for framing.
pub const CHANGES_BUDGET: usize = 8 * 1024 * 1024;
// Every document a store accepts fits in one frame's changes.
const _: () = assert!(crate::sync::validate::MAX_HISTORY_BYTES <= CHANGES_BUDGET);
const _: () = assert!(CHANGES_BUDGET + 64 * 1024 < MAX_FRAME);

/// A hash of an Automerge change.
pub type Hash = [u8; 32];

/// One message between two nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    /// Dialer, first: its app id and a fresh nonce.
    Hello { app_id: String, nonce: [u8; 32] },
    /// Acceptor's answer: its app id, its nonce and its proof of the formation key.
    Challenge { app_id: String, nonce: [u8; 32], mac: [u8; 32] },
    /// Dialer's proof of the formation key.
    Proof { mac: [u8; 32] },
    /// Authenticated: the sender's store identity (cursors are kept per store identity).
    Ready { store_id: [u8; 16] },
    /// The connection is refused; the reason is for logs and the user.
    Refuse { reason: String },
    /// "Stream me your change log after `since`."
    Subscribe { since: u64 },
    /// A slice of the sender's change log: every entry up to `upto` has been sent.
    Entries { upto: u64, entries: Vec<Entry> },
    /// "Send me what I miss of these documents; I hold these heads."
    Want { req: u64, items: Vec<Want> },
    /// Changes answering a `Want`; `last` marks the final frame of the answer.
    Changes { req: u64, last: bool, docs: Vec<DocChanges> },
    /// "I hold everything of your log up to `seq`."
    Ack { seq: u64 },
    /// "My change log ends at `seq`": sent when it moves (coalesced) and to answer a
    /// `HeadQuery`; `answers` is the latest query this answers (0: none yet).
    Head { seq: u64, answers: u64 },
    /// "Where does your change log end now?" Numbered from 1 per session.
    HeadQuery { query: u64 },
    /// Peer exchange, on a stream of its own: the members of the formation the sender knows.
    Members { members: Vec<Member> },
}

/// A member of the formation as peer exchange tells it: its node id and addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: [u8; 32],
    pub addrs: Vec<std::net::SocketAddr>,
}

/// A change-log entry: a document and its heads at that point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub collection: String,
    pub id: String,
    pub heads: Vec<Hash>,
}

/// A document the requester misses changes of, with the heads it holds (empty: nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Want {
    pub collection: String,
    pub id: String,
    pub have: Vec<Hash>,
}

/// Automerge bytes for one document: a saved document or concatenated changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocChanges {
    pub collection: String,
    pub id: String,
    pub bytes: Vec<u8>,
}

/// Encodes a message as a whole frame (length prefix included).
pub fn encode(msg: &Msg) -> Result<Vec<u8>> {
    let mut frame = vec![0u8; 4];
    frame.push(VERSION);
    let frame = postcard::to_extend(msg, frame).map_err(|e| Error::context("encoding frame", e))?;
    let body = frame.len() - 4;
    if body > MAX_FRAME {
        return Err(Error::failed(format!("frame of {body} bytes exceeds the {MAX_FRAME}-byte limit")));
    }
    let mut frame = frame;
    frame[..4].copy_from_slice(&(body as u32).to_be_bytes());
    Ok(frame)
}

/// Decodes a frame body (version byte and message).
pub fn decode(body: &[u8]) -> Result<Msg> {
    match body.split_first() {
        Some((&VERSION, rest)) => {
            postcard::from_bytes(rest).map_err(|e| Error::invalid(format!("malformed frame: {e}")))
        }
        Some((v, _)) => {
            Err(Error::invalid(format!("frame version {v} is not supported (this node speaks {VERSION})")))
        }
        None => Err(Error::invalid("empty frame")),
    }
}

/// Writes one message. Returns the bytes written.
pub async fn write(w: &mut (impl AsyncWrite + Unpin), msg: &Msg) -> Result<usize> {
    let frame = encode(msg)?;
    w.write_all(&frame).await.map_err(|e| Error::context("sending", e))?;
    Ok(frame.len())
}

/// Reads one message; `None` at a clean end of stream. Returns the bytes read too.
pub async fn read(r: &mut (impl AsyncRead + Unpin)) -> Result<Option<(Msg, usize)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(Error::context("receiving", e)),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(Error::invalid(format!("frame of {len} bytes exceeds the {MAX_FRAME}-byte limit")));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await.map_err(|e| Error::context("receiving", e))?;
    Ok(Some((decode(&body)?, len + 4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_garbage() {
        let msg = Msg::Entries {
            upto: 7,
            entries: vec![Entry { collection: "c".into(), id: "x".into(), heads: vec![[1; 32]] }],
        };
        let frame = encode(&msg).unwrap();
        let mut r = &frame[..];
        assert_eq!(read(&mut r).await.unwrap().unwrap().0, msg);
        for msg in [Msg::Head { seq: 15_000, answers: 3 }, Msg::HeadQuery { query: 3 }] {
            assert_eq!(read(&mut &encode(&msg).unwrap()[..]).await.unwrap().unwrap().0, msg);
        }
        assert!(read(&mut &b""[..]).await.unwrap().is_none());
        // Oversized length prefix: refused before allocating.
        let mut r = &[0xff, 0xff, 0xff, 0xff, 1][..];
        assert!(read(&mut r).await.is_err());
        // Wrong version, garbage body, truncated body.
        assert!(read(&mut &[0, 0, 0, 2, 9, 0][..]).await.is_err());
        assert!(read(&mut &[0, 0, 0, 3, VERSION, 0xff, 0xff][..]).await.is_err());
        assert!(read(&mut &frame[..frame.len() - 1]).await.is_err());
        assert!(decode(&[]).is_err());
    }
}
