//! Sorting more ids than memory should hold, for `--order-by` without a limit and without an
//! index: documents' sort keys ([`order_key`]) and ids are gathered in runs of a bounded
//! size; each full run is sorted and spilled to an anonymous temporary file (in `$TMPDIR`,
//! removed by the OS when closed); the runs are then merged, one record of each in memory.
//! Ties keep the order in which they were pushed, as the in-memory sort does.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};

use serde_json::Value;

use crate::sync::{Error, Path, Result, order_key};

/// Ids held in memory per run unless `PEAT_SORT_RUN_DOCS` (internal, for tests) says
/// otherwise: about 10 MB of keys and ids for short values.
const RUN_DOCS: usize = 100_000;

/// One sorted item: its sort key (reversed bytes order for descending is applied when
/// comparing), its place in the input, its id.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    key: Vec<u8>,
    descending: bool,
    pushed: u64,
    id: String,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let by_key = self.key.cmp(&other.key);
        let by_key = if self.descending { by_key.reverse() } else { by_key };
        by_key.then(self.pushed.cmp(&other.pushed))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Ids sorted by the value at a path in their documents, in bounded memory.
pub struct ExternalSort {
    path: Path,
    descending: bool,
    run_docs: usize,
    run: Vec<Entry>,
    spilled: Vec<File>,
    pushed: u64,
}

impl ExternalSort {
    pub fn new(path: Path, descending: bool) -> Self {
        let run_docs =
            std::env::var("PEAT_SORT_RUN_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(RUN_DOCS);
        Self { path, descending, run_docs: run_docs.max(1), run: Vec::new(), spilled: Vec::new(), pushed: 0 }
    }

    /// Adds `id`, ranked by the value at the path in `doc`; spills the run when it is full.
    pub fn push(&mut self, doc: &Value, id: String) -> Result<()> {
        let key = order_key::encode(self.path.get(doc));
        self.run.push(Entry { key, descending: self.descending, pushed: self.pushed, id });
        self.pushed += 1;
        if self.run.len() >= self.run_docs {
            self.spill()?;
        }
        Ok(())
    }

    /// How many runs went to temporary files.
    #[cfg(test)]
    fn spilled(&self) -> usize {
        self.spilled.len()
    }

    fn spill(&mut self) -> Result<()> {
        let spill_err = |e: std::io::Error| Error::context("external sort: temporary file", e);
        self.run.sort_unstable();
        let mut out = BufWriter::new(tempfile::tempfile().map_err(spill_err)?);
        for entry in self.run.drain(..) {
            write_entry(&mut out, &entry).map_err(spill_err)?;
        }
        let mut file = out.into_inner().map_err(|e| spill_err(e.into_error()))?;
        file.rewind().map_err(spill_err)?;
        self.spilled.push(file);
        Ok(())
    }

    /// The ids, sorted: the run in memory and the spilled runs merged.
    pub fn into_sorted(mut self) -> Result<impl Iterator<Item = Result<String>>> {
        if !self.spilled.is_empty() {
            tracing::info!(
                "external sort: {} ids, {} runs spilled to temporary files",
                self.pushed,
                self.spilled.len()
            );
        }
        self.run.sort_unstable();
        let mut sources: Vec<Source> =
            self.spilled.into_iter().map(|f| Source::File(BufReader::new(f))).collect();
        sources.push(Source::Memory(self.run.into_iter()));
        let mut heap = BinaryHeap::new();
        for (i, source) in sources.iter_mut().enumerate() {
            if let Some(entry) = source.next(self.descending)? {
                heap.push(Reverse((entry, i)));
            }
        }
        let descending = self.descending;
        Ok(std::iter::from_fn(move || {
            let Reverse((entry, i)) = heap.pop()?;
            match sources[i].next(descending) {
                Ok(Some(next)) => heap.push(Reverse((next, i))),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            Some(Ok(entry.id))
        }))
    }
}

/// A sorted run being merged.
enum Source {
    Memory(std::vec::IntoIter<Entry>),
    File(BufReader<File>),
}

impl Source {
    fn next(&mut self, descending: bool) -> Result<Option<Entry>> {
        match self {
            Source::Memory(entries) => Ok(entries.next()),
            Source::File(reader) => read_entry(reader, descending)
                .map_err(|e| Error::context("external sort: reading a temporary file", e)),
        }
    }
}

/// A record: key length (u32), key, pushed (u64), id length (u32), id; big-endian.
fn write_entry(out: &mut impl Write, entry: &Entry) -> std::io::Result<()> {
    out.write_all(&(entry.key.len() as u32).to_be_bytes())?;
    out.write_all(&entry.key)?;
    out.write_all(&entry.pushed.to_be_bytes())?;
    out.write_all(&(entry.id.len() as u32).to_be_bytes())?;
    out.write_all(entry.id.as_bytes())
}

fn read_entry(input: &mut impl Read, descending: bool) -> std::io::Result<Option<Entry>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut key = vec![0; u32::from_be_bytes(len) as usize];
    input.read_exact(&mut key)?;
    let mut pushed = [0u8; 8];
    input.read_exact(&mut pushed)?;
    input.read_exact(&mut len)?;
    let mut id = vec![0; u32::from_be_bytes(len) as usize];
    input.read_exact(&mut id)?;
    let id = String::from_utf8(id).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(Some(Entry { key, descending, pushed: u64::from_be_bytes(pushed), id }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::select::Order;
    use serde_json::json;

    #[test]
    fn spilled_runs_merge_into_the_in_memory_order() {
        let docs: Vec<Value> = (0..1000u64)
            .map(|i| match (i * 7919) % 41 {
                5 => json!({}),
                6 => json!({"v": "s"}),
                v => json!({"v": v as i64 - 20}),
            })
            .collect();
        for descending in [false, true] {
            let mut memory = Order::new("v".parse().unwrap(), descending, None);
            let mut sort = ExternalSort::new("v".parse().unwrap(), descending);
            sort.run_docs = 64;
            for (i, doc) in docs.iter().enumerate() {
                memory.push(doc, i.to_string());
                sort.push(doc, i.to_string()).unwrap();
            }
            assert_eq!(sort.spilled(), 1000 / 64);
            let sorted: Vec<String> = sort.into_sorted().unwrap().collect::<Result<_>>().unwrap();
            assert_eq!(sorted, memory.into_sorted().collect::<Vec<_>>(), "descending={descending}");
        }
    }
}
