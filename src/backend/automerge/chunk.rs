//! Automerge's chunk format at the byte level, for what needs no Automerge: a chunk's hash
//! and the heads a stored base names, so the heads of most documents need no table row.
//!
//! A chunk is `magic (4) | checksum (4) | type (1) | length (uleb128) | contents`; the
//! checksum is the first 4 bytes of the chunk's hash.

use sha2::{Digest, Sha256};

/// Automerge's chunk magic bytes.
pub(crate) const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk types: a saved document, a change.
pub(crate) const DOCUMENT: u8 = 0;
pub(crate) const CHANGE: u8 = 1;

/// SHA-256 of a chunk's type, length and contents: a change chunk's hash, and the first 4
/// bytes of any chunk's checksum.
pub(crate) fn chunk_hash(kind: u8, length: &[u8], contents: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([kind]);
    h.update(length);
    h.update(contents);
    h.finalize().into()
}

/// The heads of a base that is one chunk: the hash of a change, or the heads a saved
/// document lists; `None` for anything else (several chunks, a compressed change).
pub(crate) fn base_heads(bytes: &[u8]) -> Option<Vec<[u8; 32]>> {
    let mut r = Reader(bytes.strip_prefix(&MAGIC)?);
    r.take(4)?;
    let kind = r.byte()?;
    let (length, contents) = r.length_prefixed()?;
    if !r.0.is_empty() {
        return None;
    }
    match kind {
        CHANGE => Some(vec![chunk_hash(kind, length, contents)]),
        DOCUMENT => document_heads(contents),
        _ => None,
    }
}

/// The heads a saved document's contents list: its actors, then its heads.
pub(crate) fn document_heads(contents: &[u8]) -> Option<Vec<[u8; 32]>> {
    let mut r = Reader(contents);
    for _ in 0..r.uleb()? {
        let len = usize::try_from(r.uleb()?).ok()?;
        r.take(len)?;
    }
    let heads = r.uleb()?;
    (0..heads).map(|_| r.take(32)?.try_into().ok()).collect()
}

/// Appends `v` as an unsigned LEB128 number.
pub(crate) fn uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Bytes read front to back; every read is `None` past the end.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    pub(crate) fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn uleb(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(7 * i)?;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// A chunk's uleb128 length, as the bytes it was written with, and the contents it
    /// counts.
    pub(crate) fn length_prefixed(&mut self) -> Option<(&'a [u8], &'a [u8])> {
        let before = self.0;
        let len = usize::try_from(self.uleb()?).ok()?;
        let length = &before[..before.len() - self.0.len()];
        Some((length, self.take(len)?))
    }

    pub(crate) fn sleb(&mut self) -> Option<i64> {
        let (mut value, mut shift) = (0i64, 0u32);
        loop {
            let b = self.byte()?;
            (shift < 64).then_some(())?;
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1 << shift;
                }
                return Some(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    #[test]
    fn the_heads_of_a_base_are_read_without_loading_it() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let heads: Vec<[u8; 32]> = doc.get_heads().iter().map(|h| h.0).collect();
        assert_eq!(base_heads(&doc.save()), Some(heads.clone()), "a saved document");
        let change = doc.get_changes(&[])[0].raw_bytes().to_vec();
        assert_eq!(base_heads(&change), Some(heads), "a change");
        doc.put(ROOT, "a", 2).unwrap();
        doc.commit();
        let two: Vec<u8> = doc.get_changes(&[]).iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
        assert_eq!(base_heads(&two), None, "two changes: their heads need the history");
        assert_eq!(base_heads(&doc.save()[..20]), None);
    }
}
