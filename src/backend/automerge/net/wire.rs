//! Frames on the wire between two nodes (DESIGN.md §8): a 4-byte big-endian length, then a
//! body of one version byte and a postcard-encoded [`Msg`]. Frames are bounded by
//! [`MAX_FRAME`]; anything oversized, truncated, of another version or undecodable is an
//! error that closes that one connection, never the node.
//!
//! Compression is negotiated per connection by ALPN: a dialer offers [`ALPN_ZSTD`] first and
//! [`ALPN`] as well, an acceptor prefers [`ALPN_ZSTD`], so two nodes that both read compressed
//! frames agree on it and an older node picks [`ALPN`]. On a connection that agreed on it, a
//! sender may compress a frame's message with zstd, marked by [`ZSTD`] in its version byte;
//! every node reads both kinds, and a compressed message is bounded by [`MAX_FRAME`] too.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::sync::{Error, Result};

/// The ALPN of the sync protocol; a new incompatible protocol gets a new ALPN.
pub const ALPN: &[u8] = b"peat/sync/1";
/// The same protocol, where both sides read zstd-compressed frames.
pub const ALPN_ZSTD: &[u8] = b"peat/sync/1+zstd";
/// The ALPNs a node accepts, preferred first: the first of these a dialer offers is agreed on.
pub const ACCEPTED: [&[u8]; 2] = [ALPN_ZSTD, ALPN];
/// Set in the version byte of a frame whose message is zstd-compressed.
pub const ZSTD: u8 = 0x80;
/// Messages shorter than this are sent as they are: compressing them would not pay.
const COMPRESS_FROM: usize = 256;
/// zstd's level: fast, and most of the gain on JSON-like documents.
const LEVEL: i32 = 3;
/// The frame format version carried in every frame. 2: `Head`, `HeadQuery` and `Members`;
/// `Rekey` and `Rekeyed` came later, appended, so older frames decode as before.
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
    /// The formation's new key (`peat formation rekey`), on a stream of its own.
    Rekey { key: [u8; 32] },
    /// The answer to `Rekey`: the key is stored; the sender reconnects with it.
    Rekeyed,
    /// Documents of an urgent collection, whole, on a stream of their class ([`super::push`]).
    Push { docs: Vec<DocChanges> },
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
    encode_with(msg, false)
}

/// Encodes a message as a whole frame, compressed when `compress` (the connection agreed on
/// it) and the message is long enough for it to pay.
pub fn encode_with(msg: &Msg, compress: bool) -> Result<Vec<u8>> {
    let plain = postcard::to_allocvec(msg).map_err(|e| Error::context("encoding frame", e))?;
    let (version, payload) = match compress && plain.len() >= COMPRESS_FROM {
        true => match zstd::bulk::compress(&plain, LEVEL) {
            Ok(packed) if packed.len() < plain.len() => (VERSION | ZSTD, packed),
            _ => (VERSION, plain),
        },
        false => (VERSION, plain),
    };
    let body = 1 + payload.len();
    if body > MAX_FRAME {
        return Err(Error::failed(format!("frame of {body} bytes exceeds the {MAX_FRAME}-byte limit")));
    }
    let mut frame = Vec::with_capacity(4 + body);
    frame.extend_from_slice(&(body as u32).to_be_bytes());
    frame.push(version);
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// Decodes a frame body (version byte and message, compressed or not).
pub fn decode(body: &[u8]) -> Result<Msg> {
    let malformed = |e: postcard::Error| Error::invalid(format!("malformed frame: {e}"));
    match body.split_first() {
        Some((&VERSION, rest)) => postcard::from_bytes(rest).map_err(malformed),
        Some((&v, rest)) if v == VERSION | ZSTD => {
            // Never more than a plain frame may hold, whatever the compressed frame claims.
            let plain = zstd::bulk::decompress(rest, MAX_FRAME)
                .map_err(|e| Error::invalid(format!("malformed compressed frame: {e}")))?;
            postcard::from_bytes(&plain).map_err(malformed)
        }
        Some((v, _)) => {
            Err(Error::invalid(format!("frame version {v} is not supported (this node speaks {VERSION})")))
        }
        None => Err(Error::invalid("empty frame")),
    }
}

/// Writes one message. Returns the bytes written.
pub async fn write(w: &mut (impl AsyncWrite + Unpin), msg: &Msg) -> Result<usize> {
    write_with(w, msg, false).await
}

/// Writes one message, compressed if `compress` and it pays. Returns the bytes written.
pub async fn write_with(w: &mut (impl AsyncWrite + Unpin), msg: &Msg, compress: bool) -> Result<usize> {
    let frame = encode_with(msg, compress)?;
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

    #[tokio::test]
    async fn compressed_frames_are_smaller_read_back_and_are_bounded() {
        let docs = (0..200)
            .map(|i| DocChanges {
                collection: "units".into(),
                id: format!("u{i:07}"),
                bytes: b"unit speed lat lon".repeat(4),
            })
            .collect();
        let msg = Msg::Changes { req: 1, last: true, docs };
        let (plain, packed) = (encode(&msg).unwrap(), encode_with(&msg, true).unwrap());
        assert_eq!(packed[4], VERSION | ZSTD);
        assert!(packed.len() * 5 < plain.len(), "{} compressed from {}", packed.len(), plain.len());
        assert_eq!(read(&mut &packed[..]).await.unwrap().unwrap(), (msg, packed.len()));
        // A short message goes as it is.
        let short = encode_with(&Msg::Ack { seq: 3 }, true).unwrap();
        assert_eq!(short, encode(&Msg::Ack { seq: 3 }).unwrap());
        // Garbage marked compressed, and a compressed message larger than a frame may be.
        assert!(decode(&[VERSION | ZSTD, 1, 2, 3]).is_err());
        let bomb = zstd::bulk::compress(&vec![0u8; MAX_FRAME + 1], 19).unwrap();
        assert!(bomb.len() < 4096);
        let err = decode(&[&[VERSION | ZSTD][..], &bomb].concat()).unwrap_err();
        assert!(err.to_string().contains("malformed compressed frame"), "{err}");
    }
}
