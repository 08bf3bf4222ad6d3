//! Frames on the wire between two nodes (DESIGN.md §8): a 4-byte big-endian length, then a
//! body of one version byte and a postcard-encoded [`Msg`]. Frames are bounded by
//! [`MAX_FRAME`]; anything oversized, truncated, of another version or undecodable is an
//! error that closes that one connection, never the node.
//!
//! The handshake's frames go as they are. After it, each direction of a session's stream is
//! one zstd stream ([`Compressor`], [`Decompressor`]), flushed at the end of every frame:
//! a frame is compressed against the frames before it, so the ids, field names and values
//! that documents repeat cost next to nothing after their first time. Documents travel as
//! Automerge chunks without their checksums (`net/chunks.rs`), and a log entry names a
//! document without its heads: what is left per document is little more than its values.
//!
//! Version 2 of the protocol changed all that; version 3 ([`ALPN`]) made the handshake one
//! message each way, carrying the subscription. A node speaks only the latest, so nodes of
//! other versions do not connect.

use std::io::Write;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zstd::stream::raw::{CParameter, DParameter, InBuffer, Operation, OutBuffer};

use crate::sync::{Error, Result};

/// The ALPN of the sync protocol; a new incompatible protocol gets a new ALPN.
pub const ALPN: &[u8] = b"peat/sync/3";
/// The ALPNs a node accepts, preferred first.
pub const ACCEPTED: [&[u8]; 1] = [ALPN];
/// zstd's level: fast, and most of the gain on JSON-like documents.
const LEVEL: i32 = 3;
/// log2 of the zstd window: how far back a frame may refer (512 KiB). A session's
/// compressor and decompressor hold about 2.5 MB together (5.6 MB at zstd's own 2 MiB, for
/// 2% fewer bytes on the initial sync of the bench documents); a peer's stream asking for a
/// larger window is refused.
const WINDOW_LOG: u32 = 19;
/// The frame format version carried in every frame. 3: `Entries` name documents only.
pub const VERSION: u8 = 3;
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
    /// Each side's first message: its app id, its store identity (positions in its log are
    /// kept per store identity), its proof of the formation key (`net/auth.rs`), and where it
    /// wants the other's change log streamed from. The dialer sends it at once, the acceptor
    /// once it has checked the dialer's.
    Hello { app_id: String, store_id: [u8; 16], mac: [u8; 32], since: Since },
    /// The connection is refused; the reason is for logs and the user.
    Refuse { reason: String },
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
    /// Documents of an urgent collection, whole, on a stream of their class (`net::push`).
    Push { docs: Vec<DocChanges> },
}

/// "Stream me your change log after `seq`, if your store is `of`; else from the start."
/// A dialer asks before it knows which store the peer runs, from the one it last pulled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Since {
    pub seq: u64,
    pub of: [u8; 16],
}

/// A member of the formation as peer exchange tells it: its node id and addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: [u8; 32],
    pub addrs: Vec<std::net::SocketAddr>,
}

/// A change-log entry: a document that changed. Its heads are not sent: for a document the
/// puller lacks they would be 32 random bytes for nothing, and for one it holds the feeder
/// compares them with those the puller's `Want` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub collection: String,
    pub id: String,
}

/// A document the requester misses changes of, with the heads it holds (empty: nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Want {
    pub collection: String,
    pub id: String,
    pub have: Vec<Hash>,
}

/// Automerge bytes for one document: a saved document or concatenated changes, in the wire
/// form of `net/chunks.rs` (checksums left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocChanges {
    pub collection: String,
    pub id: String,
    pub bytes: Vec<u8>,
}

/// Encodes a message as a whole frame (length prefix included).
pub fn encode(msg: &Msg) -> Result<Vec<u8>> {
    let mut frame = vec![0; 5];
    frame[4] = VERSION;
    let mut frame = postcard::to_extend(msg, frame).map_err(|e| Error::context("encoding frame", e))?;
    let body = frame.len() - 4;
    if body > MAX_FRAME {
        return Err(Error::failed(format!("frame of {body} bytes exceeds the {MAX_FRAME}-byte limit")));
    }
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

/// Writes one message as a plain frame. Returns the bytes written.
pub async fn write(w: &mut (impl AsyncWrite + Unpin), msg: &Msg) -> Result<usize> {
    let frame = encode(msg)?;
    w.write_all(&frame).await.map_err(|e| Error::context("sending", e))?;
    Ok(frame.len())
}

/// Reads one plain frame; `None` at a clean end of stream. Returns the bytes read too.
pub async fn read(r: &mut (impl AsyncRead + Unpin)) -> Result<Option<(Msg, usize)>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(Error::context("receiving", e)),
    }
    let len = frame_len(len)?;
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await.map_err(|e| Error::context("receiving", e))?;
    Ok(Some((decode(&body)?, len + 4)))
}

/// A frame's body length from its prefix, refused before anything is allocated if too long.
fn frame_len(prefix: [u8; 4]) -> Result<usize> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(Error::invalid(format!("frame of {len} bytes exceeds the {MAX_FRAME}-byte limit")));
    }
    Ok(len)
}

/// The sending side of a session's stream: one zstd stream for every frame sent.
pub struct Compressor(zstd::stream::write::Encoder<'static, Vec<u8>>);

impl Compressor {
    pub fn new() -> Result<Self> {
        let fail = |e| Error::context("zstd", e);
        let mut raw = zstd::stream::raw::Encoder::new(LEVEL).map_err(fail)?;
        raw.set_parameter(CParameter::WindowLog(WINDOW_LOG)).map_err(fail)?;
        Ok(Self(zstd::stream::write::Encoder::with_encoder(Vec::new(), raw)))
    }

    /// A message's frame, compressed and flushed: all the receiver needs to read it.
    pub fn frame(&mut self, msg: &Msg) -> Result<Vec<u8>> {
        let fail = |e| Error::context("compressing frame", e);
        self.0.write_all(&encode(msg)?).map_err(fail)?;
        self.0.flush().map_err(fail)?;
        Ok(std::mem::take(self.0.get_mut()))
    }

    /// Writes one message. Returns the bytes written.
    pub async fn write(&mut self, w: &mut (impl AsyncWrite + Unpin), msg: &Msg) -> Result<usize> {
        let bytes = self.frame(msg)?;
        w.write_all(&bytes).await.map_err(|e| Error::context("sending", e))?;
        Ok(bytes.len())
    }
}

/// Compressed bytes read from the peer at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The receiving side of a session's stream. It holds at most the frame being read and one
/// chunk of decompressed bytes beyond it, whatever the peer sends: a compressed frame
/// claiming more than [`MAX_FRAME`] is refused from its length prefix.
pub struct Decompressor<R> {
    src: R,
    zstd: zstd::stream::raw::Decoder<'static>,
    /// Compressed bytes read and not yet decompressed: `input[at..filled]`.
    input: Box<[u8]>,
    at: usize,
    filled: usize,
    /// Decompressed bytes not yet taken as frames.
    plain: Vec<u8>,
    scratch: Box<[u8]>,
    /// Whether zstd may hold decompressed bytes that did not fit the scratch buffer.
    pending: bool,
}

impl<R: AsyncRead + Unpin> Decompressor<R> {
    pub fn new(src: R) -> Result<Self> {
        let fail = |e| Error::context("zstd", e);
        let mut zstd = zstd::stream::raw::Decoder::new().map_err(fail)?;
        zstd.set_parameter(DParameter::WindowLogMax(WINDOW_LOG)).map_err(fail)?;
        let buffer = || vec![0u8; READ_CHUNK].into_boxed_slice();
        Ok(Self {
            src,
            zstd,
            input: buffer(),
            at: 0,
            filled: 0,
            plain: Vec::new(),
            scratch: buffer(),
            pending: false,
        })
    }

    /// Reads one message; `None` at a clean end of stream (between frames). Returns the size
    /// of its frame too.
    pub async fn read(&mut self) -> Result<Option<(Msg, usize)>> {
        if !self.fill(4).await? {
            return Ok(None);
        }
        let len = frame_len(self.plain[..4].try_into().expect("4 bytes"))?;
        // `plain` holds the prefix already, so `fill` turns an end of stream here into an error.
        self.fill(4 + len).await?;
        let msg = decode(&self.plain[4..4 + len])?;
        self.plain.drain(..4 + len);
        if self.plain.capacity() > 4 * READ_CHUNK && self.plain.len() < READ_CHUNK {
            // A large frame is gone: give its memory back.
            self.plain.shrink_to(2 * READ_CHUNK);
        }
        Ok(Some((msg, len + 4)))
    }

    /// Decompresses until `plain` holds `n` bytes. `false` if the stream ended first: at a
    /// clean end only if nothing is left over.
    async fn fill(&mut self, n: usize) -> Result<bool> {
        while self.plain.len() < n {
            if self.at == self.filled && !self.pending {
                let read =
                    self.src.read(&mut self.input).await.map_err(|e| Error::context("receiving", e))?;
                if read == 0 {
                    return match self.plain.is_empty() {
                        true => Ok(false),
                        false => Err(Error::failed("receiving: the stream ended inside a frame")),
                    };
                }
                (self.at, self.filled) = (0, read);
            }
            let mut input = InBuffer::around(&self.input[self.at..self.filled]);
            let mut output = OutBuffer::around(&mut self.scratch[..]);
            self.zstd
                .run(&mut input, &mut output)
                .map_err(|e| Error::invalid(format!("malformed compressed stream: {e}")))?;
            let produced = output.pos();
            self.pending = produced == self.scratch.len();
            self.at += input.pos();
            self.plain.extend_from_slice(&self.scratch[..produced]);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_garbage() {
        let msg = Msg::Entries { upto: 7, entries: vec![Entry { collection: "c".into(), id: "x".into() }] };
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

    fn changes(from: usize) -> Msg {
        let docs = (from..from + 200)
            .map(|i| DocChanges {
                collection: "units".into(),
                id: format!("u{i:07}"),
                bytes: format!("unit {i} speed {} lat 59.{i:03} lon 18.{i:03}", i % 100).into_bytes(),
            })
            .collect();
        Msg::Changes { req: from as u64, last: true, docs }
    }

    /// Reads `stream` a few bytes at a time, as a slow link delivers it.
    struct Trickle<'a>(&'a [u8]);

    impl AsyncRead for Trickle<'_> {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let n = self.0.len().min(7).min(buf.remaining());
            buf.put_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_stream_of_frames_is_compressed_against_its_earlier_frames_and_read_back() {
        let mut c = Compressor::new().unwrap();
        let msgs: Vec<Msg> = (0..5).map(|i| changes(i * 200)).chain([Msg::Ack { seq: 3 }]).collect();
        let frames: Vec<Vec<u8>> = msgs.iter().map(|m| c.frame(m).unwrap()).collect();
        let plain = encode(&msgs[1]).unwrap().len();
        // Each frame alone, as per-frame compression would send it, against in the stream.
        let alone = zstd::bulk::compress(&encode(&msgs[1]).unwrap(), LEVEL).unwrap().len();
        assert!(
            frames[1].len() * 3 < alone * 2,
            "{} in the stream, {alone} alone, {plain} plain",
            frames[1].len()
        );
        let stream = frames.concat();
        let mut d = Decompressor::new(Trickle(&stream)).unwrap();
        for msg in &msgs {
            assert_eq!(&d.read().await.unwrap().unwrap().0, msg);
        }
        assert!(d.read().await.unwrap().is_none(), "a clean end between frames");
        // Cut inside a frame: an error, not a clean end.
        let mut d = Decompressor::new(&stream[..stream.len() - 2]).unwrap();
        for _ in 0..5 {
            d.read().await.unwrap();
        }
        assert!(d.read().await.is_err());
    }

    #[tokio::test]
    async fn a_peer_s_bad_stream_is_an_error_and_never_decompressed_past_a_frame() {
        // Garbage.
        let err = Decompressor::new(&b"certainly not zstd at all"[..]).unwrap().read().await.unwrap_err();
        assert!(err.to_string().contains("malformed compressed stream"), "{err}");
        // A bomb: a length prefix past the limit, then zeros; refused from the prefix, with at
        // most a chunk decompressed.
        let mut bomb = Compressor::new().unwrap();
        bomb.0.write_all(&(MAX_FRAME as u32 + 1).to_be_bytes()).unwrap();
        bomb.0.write_all(&vec![0; 64 * 1024 * 1024]).unwrap();
        let packed = bomb.0.finish().unwrap();
        assert!(packed.len() < 64 * 1024);
        let mut d = Decompressor::new(&packed[..]).unwrap();
        let err = d.read().await.unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
        assert!(d.plain.capacity() <= 2 * READ_CHUNK, "{} bytes held", d.plain.capacity());
        // A stream that needs a larger window than a node keeps.
        let mut raw = zstd::stream::raw::Encoder::new(LEVEL).unwrap();
        raw.set_parameter(CParameter::WindowLog(WINDOW_LOG + 4)).unwrap();
        let mut wide = zstd::stream::write::Encoder::with_encoder(Vec::new(), raw);
        let big: Vec<u8> =
            (0..8 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        wide.write_all(&encode(&Msg::Rekey { key: [1; 32] }).unwrap()).unwrap();
        wide.write_all(&big).unwrap();
        let packed = wide.finish().unwrap();
        let err = Decompressor::new(&packed[..]).unwrap().read().await.unwrap_err();
        assert!(err.to_string().contains("malformed compressed stream"), "{err}");
    }
}
