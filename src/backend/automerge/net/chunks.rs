//! Automerge bytes as they cross the wire: the chunks of a saved document or of changes
//! without their checksums. Every Automerge chunk carries 4 bytes of the SHA-256 of its own
//! contents; random, they are most of what zstd cannot compress in a small document, and QUIC
//! already protects what it carries. The receiver recomputes each one and gets back exactly
//! the bytes the sender had, so Automerge checks them as usual.
//!
//! A chunk is `magic (4) | checksum (4) | type (1) | length (uleb128) | contents`. On the
//! wire it is `magic | type | length | contents`, except a deflated change (type 2), whose
//! checksum is of the contents before deflating: it keeps its checksum, after the type.

use super::wire::Hash;
use crate::backend::automerge::chunk::{CHANGE, DOCUMENT, MAGIC, Reader, chunk_hash as hash, document_heads};

const DEFLATED: u8 = 2;

/// What the bytes a peer sent hold, once their checksums are back.
pub struct Restored {
    /// The chunks as Automerge wrote them.
    pub bytes: Vec<u8>,
    /// Changes the sender holds: the hash of each change chunk and the heads of each saved
    /// document. A peer that holds a change holds every change it depends on.
    pub held: Vec<Hash>,
}

/// The wire form of stored Automerge bytes. Bytes that do not parse as chunks are sent as
/// they are, and the receiver refuses them.
pub fn strip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(chunk) = Chunk::parse(rest, true) else { return bytes.to_vec() };
        out.extend_from_slice(&MAGIC);
        out.push(chunk.kind);
        if chunk.kind == DEFLATED {
            out.extend_from_slice(&chunk.checksum);
        }
        out.extend_from_slice(chunk.length);
        out.extend_from_slice(chunk.contents);
        rest = &rest[chunk.size..];
    }
    out
}

/// The stored form of bytes received in the wire form, with what they show the sender holds;
/// `None` when they are not chunks in the wire form.
pub fn restore(wire: &[u8]) -> Option<Restored> {
    let mut restored = Restored { bytes: Vec::with_capacity(wire.len() + 8), held: Vec::new() };
    let mut rest = wire;
    while !rest.is_empty() {
        let chunk = Chunk::parse(rest, false)?;
        let hash = match chunk.kind {
            DEFLATED => None,
            _ => Some(hash(chunk.kind, chunk.length, chunk.contents)),
        };
        let checksum = hash.map_or(chunk.checksum, |h| h[..4].try_into().expect("4 bytes"));
        restored.bytes.extend_from_slice(&MAGIC);
        restored.bytes.extend_from_slice(&checksum);
        restored.bytes.push(chunk.kind);
        restored.bytes.extend_from_slice(chunk.length);
        restored.bytes.extend_from_slice(chunk.contents);
        match chunk.kind {
            CHANGE => restored.held.extend(hash),
            DOCUMENT => restored.held.extend(document_heads(chunk.contents).unwrap_or_default()),
            _ => {}
        }
        rest = &rest[chunk.size..];
    }
    Some(restored)
}

/// Whether stored bytes are exactly one change chunk (a document of one change, as a peer
/// sent it), which a peer lacking the document can be sent as it is.
pub fn is_one_change(bytes: &[u8]) -> bool {
    Chunk::parse(bytes, true).is_some_and(|c| c.kind == CHANGE && c.size == bytes.len())
}

/// One chunk as parsed, in either form.
struct Chunk<'a> {
    kind: u8,
    checksum: [u8; 4],
    /// The length, as the uleb128 bytes it was written with.
    length: &'a [u8],
    contents: &'a [u8],
    /// Bytes of the whole chunk in the form parsed.
    size: usize,
}

impl<'a> Chunk<'a> {
    /// Parses a chunk in its stored form (`stored`) or its wire form.
    fn parse(bytes: &'a [u8], stored: bool) -> Option<Self> {
        let mut r = Reader(bytes.strip_prefix(&MAGIC)?);
        let mut checksum = [0; 4];
        if stored {
            checksum = r.take(4)?.try_into().ok()?;
        }
        let kind = r.byte()?;
        if !stored && kind == DEFLATED {
            checksum = r.take(4)?.try_into().ok()?;
        }
        let (length, contents) = r.length_prefixed()?;
        Some(Chunk { kind, checksum, length, contents, size: bytes.len() - r.0.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ROOT};

    fn doc(changes: usize) -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(vec![3; 32]));
        for i in 0..changes {
            doc.put(ROOT, "speed", i as i64).unwrap();
            doc.put(ROOT, "name", "a long enough text ".repeat((changes - i) * 20)).unwrap();
            doc.commit();
        }
        doc
    }

    #[test]
    fn stripped_chunks_restore_to_the_same_bytes_and_name_what_the_sender_holds() {
        let mut saved = doc(3);
        let heads: Vec<Hash> = saved.get_heads().iter().map(|h| h.0).collect();
        let changes = saved.get_changes(&[]);
        let one = changes[0].raw_bytes().to_vec();
        let all: Vec<u8> = changes.iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
        // A change large enough to be deflated keeps its checksum.
        let deflated = saved.get_changes(&[])[0].clone().bytes().into_owned();
        assert_eq!(deflated[8], DEFLATED);
        let change_hashes: Vec<Hash> = changes.iter().map(|c| c.hash().0).collect();
        for (bytes, held) in [
            (saved.save(), heads.clone()),
            (one, vec![change_hashes[0]]),
            (all, change_hashes.clone()),
            ([saved.save(), deflated.clone()].concat(), heads),
            (deflated, vec![]),
        ] {
            let wire = strip(&bytes);
            assert!(wire.len() <= bytes.len());
            let restored = restore(&wire).unwrap();
            assert_eq!(restored.bytes, bytes);
            assert_eq!(restored.held, held);
            AutoCommit::load(&restored.bytes).unwrap();
        }
        assert!(is_one_change(saved.get_changes(&[])[0].raw_bytes()));
        assert!(!is_one_change(&saved.save()));
    }

    #[test]
    fn garbage_is_not_restored_and_is_sent_as_it_is() {
        let wire = strip(&doc(1).save());
        assert!(restore(&wire[..wire.len() - 1]).is_none(), "truncated");
        assert!(restore(b"not automerge").is_none());
        assert!(
            restore(
                &[MAGIC.as_slice(), &[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]]
                    .concat()
            )
            .is_none()
        );
        assert_eq!(strip(b"not automerge"), b"not automerge");
        // Tampered contents restore (the checksum is recomputed) but Automerge refuses them,
        // as a change's hash no longer matches the document's heads.
        let mut bad = wire.clone();
        let last = bad.len() - 3;
        bad[last] ^= 0x55;
        let restored = restore(&bad).unwrap();
        assert!(AutoCommit::load(&restored.bytes).is_err());
    }
}
