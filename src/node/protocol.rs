//! The control socket protocol (DESIGN.md §7): newline-delimited JSON over a Unix socket.
//!
//! Each request line is `{"v":1,"request":{"op":...}}` and gets one response line,
//! `{"ok":VALUE}` or `{"error":{"kind":...,"message":...}}`. Stream requests (`observe`,
//! `peer_events`, `subscribe_sync`, `export`, `query`) answer `{"ok":null}` and then send one event per line
//! until either side closes. A request line longer than [`MAX_REQUEST`] or unparsable gets an
//! error and the connection closes; the node carries on.
//!
//! A client is never left waiting on a hung node: while a request is being answered the node
//! sends `"working"` every [`HEARTBEAT`] (and on an idle stream too), so a client that hears
//! nothing for [`IDLE`] gives up with a clear error.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::sync::{
    DocInput, Error, ExportRecord, ExportRequest, Query, QueryRequest, Result, Start, SyncDirection, validate,
};

/// Protocol version; a node refuses requests of another version.
pub const VERSION: u32 = 1;
/// Longest request line the node reads: what one connection may make it buffer. Clients cut
/// their batches to fit ([`BATCH_BYTES`]).
pub const MAX_REQUEST: usize = 16 * 1024 * 1024;
/// Most bytes of documents a client puts in one request, leaving room for the envelope.
pub const BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Longest response line a client reads (a query's answer is one line).
pub const MAX_RESPONSE: usize = 256 * 1024 * 1024;
/// How often the node says it is still working on a request, or still there on a stream.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a client waits without hearing from the node before it gives up.
pub const IDLE: Duration = Duration::from_secs(10);

/// One request: a trait call, or a node-level operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Upsert {
        collection: String,
        docs: Vec<DocInput>,
    },
    Get {
        collection: String,
        id: String,
    },
    /// A stream request: one `QueryEvent` per line, ending with `end` (or `failed`).
    Query {
        collection: String,
        request: QueryRequest,
    },
    Count {
        collection: String,
        request: QueryRequest,
    },
    Remove {
        collection: String,
        id: String,
    },
    Observe {
        collection: String,
        filter: Query,
        start: Start,
    },
    Collections,
    /// A stream request: one `ExportEvent` per line, ending with `end` (or `failed`).
    Export {
        request: ExportRequest,
    },
    Import {
        records: Vec<ExportRecord>,
    },
    /// Write a consistent copy of the store to `path` (absolute, on the node's host).
    Backup {
        path: std::path::PathBuf,
    },
    History {
        collection: String,
        id: String,
    },
    Conflicts {
        collection: String,
        id: String,
    },
    /// Define and build a secondary index (answered once it is built).
    AddIndex {
        collection: String,
        path: crate::sync::Path,
    },
    Indexes {
        collection: Option<String>,
    },
    RemoveIndex {
        collection: String,
        path: crate::sync::Path,
    },
    Peers,
    AddPeer {
        addr: String,
    },
    RemovePeer {
        id: String,
    },
    PeerEvents,
    /// A new formation key, handed to the members connected now.
    Rekey,
    StartSync,
    StopSync,
    SubscribeSync,
    ForceSync,
    WaitForSync {
        timeout_ms: u64,
        /// Absent from clients that knew only the push wait.
        #[serde(default = "push")]
        direction: SyncDirection,
    },
    SyncStatus,
    /// The node's process facts (pid, uptime).
    NodeInfo,
    /// Shut the node down gracefully. The connection stays open until the process exits.
    Shutdown,
}

fn push() -> SyncDirection {
    SyncDirection::Push
}

/// A request line: the protocol version and the request.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<R> {
    pub v: u32,
    pub request: R,
}

/// One response line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Ok(Value),
    Error(Error),
    /// Still answering (or, on a stream, still there): the client keeps waiting.
    Working,
}

/// Facts about the node process, for `sync status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub pid: u32,
    pub uptime_secs: u64,
    pub node_id: String,
}

/// Reads one line of at most `max` bytes; `None` at a clean end of stream. The buffer never
/// grows past `max`, whatever the peer sends.
pub async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<Option<()>> {
    const KEEP: usize = 64 * 1024;
    buf.clear();
    if buf.capacity() > KEEP {
        buf.shrink_to(KEEP);
    }
    let io = |e| Error::context("control socket", e);
    loop {
        let available = reader.fill_buf().await.map_err(io)?;
        if available.is_empty() {
            return Ok((!buf.is_empty()).then_some(()));
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        if buf.len() + take > max {
            return Err(Error::invalid(format!("control socket: line longer than {max} bytes")));
        }
        if buf.capacity() < buf.len() + take {
            let want = (buf.capacity() * 2).max(buf.len() + take).min(max);
            buf.reserve_exact(want - buf.len());
        }
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(Some(()));
        }
    }
}

/// Writes one value as a line.
pub async fn write_line(writer: &mut (impl AsyncWrite + Unpin), value: &impl Serialize) -> Result<()> {
    let mut line = serde_json::to_vec(value).map_err(|e| Error::context("control socket", e))?;
    line.push(b'\n');
    writer.write_all(&line).await.map_err(|e| Error::context("control socket", e))
}

/// How many bytes `value` takes as JSON, without keeping them: for cutting batches to fit
/// [`BATCH_BYTES`].
pub fn encoded_len(value: &impl Serialize) -> usize {
    crate::sync::validate::json_len(value)
}

/// The envelope of a request to send.
pub fn envelope(request: &Request) -> Envelope<&Request> {
    Envelope { v: VERSION, request }
}

/// Decodes a request line, checking the version.
pub fn decode_request(line: &[u8]) -> Result<Request> {
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    let version: Version =
        serde_json::from_slice(line).map_err(|e| Error::invalid(format!("malformed request: {e}")))?;
    if version.v != VERSION {
        return Err(Error::invalid(format!(
            "protocol version {} is not supported (node speaks {VERSION})",
            version.v
        )));
    }
    let envelope: Envelope<Request> =
        serde_json::from_slice(line).map_err(|e| Error::invalid(format!("malformed request: {e}")))?;
    envelope.request.check()?;
    Ok(envelope.request)
}

impl Request {
    /// Applies the rules of [`validate`] to what the request names or writes: the node
    /// checks every request itself, whatever client sent it.
    pub fn check(&self) -> Result<()> {
        let named = |collection: &str, id: Option<&str>| {
            validate::collection(collection).and_then(|()| id.map_or(Ok(()), validate::id))
        };
        let checked = match self {
            Request::Upsert { collection, docs } => {
                docs.iter().try_for_each(|doc| validate::input(collection, doc))
            }
            Request::Get { collection, id } | Request::Remove { collection, id } => {
                named(collection, Some(id))
            }
            Request::Query { collection, .. }
            | Request::Count { collection, .. }
            | Request::Observe { collection, .. }
            | Request::AddIndex { collection, .. }
            | Request::RemoveIndex { collection, .. } => named(collection, None),
            Request::Indexes { collection: Some(collection) } => named(collection, None),
            Request::Export { request } => request.collections.iter().try_for_each(|c| named(c, None)),
            Request::Import { records } => records.iter().try_for_each(|r| named(&r.collection, Some(&r.id))),
            _ => Ok(()),
        };
        checked.map_err(Error::invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_line_over_the_limit_is_refused_without_buffering_it() {
        let mut long = vec![b'x'; 100_000];
        long.push(b'\n');
        let mut buf = Vec::new();
        let err = read_line(&mut &long[..], &mut buf, 1000).await.unwrap_err();
        assert!(err.message.contains("longer than 1000 bytes"), "{err}");
        assert!(buf.capacity() <= 1000, "buffered {} bytes", buf.capacity());
        let mut two = &b"ab\ncd"[..];
        assert_eq!(read_line(&mut two, &mut buf, 10).await.unwrap(), Some(()));
        assert_eq!(buf, b"ab\n");
        assert_eq!(read_line(&mut two, &mut buf, 10).await.unwrap(), Some(()));
        assert_eq!(buf, b"cd");
        assert_eq!(read_line(&mut two, &mut buf, 10).await.unwrap(), None);
    }

    #[test]
    fn requests_round_trip_and_garbage_is_invalid() {
        let req = Request::Query { collection: "c".into(), request: QueryRequest::default() };
        let line = serde_json::to_vec(&envelope(&req)).unwrap();
        assert_eq!(decode_request(&line).unwrap(), req);
        for bad in [
            &b"nonsense"[..],
            b"{}",
            b"{\"v\":2,\"request\":{\"op\":\"collections\"}}",
            b"{\"v\":1,\"request\":{\"op\":\"explode\"}}",
        ] {
            assert_eq!(decode_request(bad).unwrap_err().kind, crate::sync::ErrorKind::Invalid);
        }
        let wait = Request::WaitForSync { timeout_ms: 5, direction: SyncDirection::Pull };
        assert_eq!(decode_request(&serde_json::to_vec(&envelope(&wait)).unwrap()).unwrap(), wait);
        let doc = |id: &str| DocInput { id: Some(id.into()), ..DocInput::default() };
        for bad in [
            Request::Get { collection: "c".into(), id: "a/b".into() },
            Request::Remove { collection: "../../etc".into(), id: "x".into() },
            Request::Upsert { collection: "c".into(), docs: vec![doc("")] },
            Request::Upsert { collection: "c".into(), docs: vec![doc("x\u{7}")] },
            Request::Upsert { collection: "c".into(), docs: vec![doc(&"i".repeat(1000))] },
            Request::Query { collection: "".into(), request: QueryRequest::default() },
        ] {
            let err = decode_request(&serde_json::to_vec(&envelope(&bad)).unwrap()).unwrap_err();
            assert_eq!(err.kind, crate::sync::ErrorKind::Invalid, "{bad:?}: {err}");
        }
        let older = br#"{"v":1,"request":{"op":"wait_for_sync","timeout_ms":5}}"#;
        assert_eq!(
            decode_request(older).unwrap(),
            Request::WaitForSync { timeout_ms: 5, direction: SyncDirection::Push },
            "a client that knew only the push wait still gets it"
        );
    }
}
