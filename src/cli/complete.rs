//! Dynamic shell completion: the shell asks `peat` itself (`PEAT_COMPLETE=bash peat -- WORDS...`,
//! clap_complete's protocol), so collection names, peer ids and document paths come from the
//! directory the command line names (`--dir`, else `PEAT_DIR`, else the default). Reading for
//! completion creates nothing (a directory without a node offers nothing) and gives up after
//! [`BUDGET`], so a busy node never hangs the shell.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::time::Duration;

use clap_complete::engine::CompletionCandidate;
use serde_json::{Map, Value};

use crate::home::NodeDir;
use crate::node::open;
use crate::sync::{DataSyncBackend, QueryRequest};

/// Longest a completion may spend reading the directory.
const BUDGET: Duration = Duration::from_millis(1500);
/// Documents sampled for their field paths.
const SAMPLE: usize = 100;
/// How deep into objects paths are offered.
const MAX_DEPTH: usize = 4;

/// The environment variable that puts `peat` into completion mode.
pub const COMPLETE_VAR: &str = "PEAT_COMPLETE";

/// Collection names of the directory.
pub fn collections(current: &OsStr) -> Vec<CompletionCandidate> {
    let names = read(|backend| async move {
        let collections = backend.document_store().collections().await.ok()?;
        Some(collections.into_iter().map(|c| c.name).collect())
    });
    matching(names.unwrap_or_default(), "", current)
}

/// Ids of the directory's peers.
pub fn peer_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    let ids = read(|backend| async move {
        let peers = backend.peer_discovery().peers().await.ok()?;
        Some(peers.into_iter().map(|p| p.id).collect())
    });
    matching(ids.unwrap_or_default(), "", current)
}

/// A document path of the collection on the command line (`--order-by`, and each of
/// `--fields a,b`, which clap splits at the commas).
pub fn paths(current: &OsStr) -> Vec<CompletionCandidate> {
    matching(field_paths(), "", current)
}

/// The path being typed in a `--where` expression: the word after the last space or `(`.
pub fn where_paths(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let start = current.rfind([' ', '(', ',']).map_or(0, |i| i + 1);
    matching(field_paths(), &current[..start], OsStr::new(&current[start..]))
}

/// The candidates among `values` that start with `current`, each after `prefix`.
fn matching(values: Vec<String>, prefix: &str, current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    values
        .into_iter()
        .filter(|v| v.starts_with(current.as_ref()))
        .map(|v| CompletionCandidate::new(format!("{prefix}{v}")))
        .collect()
}

/// Field paths of a sample of the collection named on the command line, sorted.
fn field_paths() -> Vec<String> {
    let Some(collection) = collection_word(&words()) else { return Vec::new() };
    let paths = read(|backend| async move {
        let request = QueryRequest { limit: Some(SAMPLE), ..QueryRequest::default() };
        let docs = backend.document_store().query(&collection, &request).await.ok()?;
        let mut paths = BTreeSet::new();
        docs.for_each(|doc| {
            collect_paths(&doc.fields, "", 1, &mut paths);
            Ok(())
        })
        .await
        .ok()?;
        Some(paths.into_iter().collect())
    });
    paths.unwrap_or_default()
}

fn collect_paths(fields: &Map<String, Value>, prefix: &str, depth: usize, out: &mut BTreeSet<String>) {
    for (key, value) in fields {
        let path = format!("{prefix}{key}");
        if let (Value::Object(inner), true) = (value, depth < MAX_DEPTH) {
            collect_paths(inner, &format!("{path}."), depth + 1, out);
        }
        out.insert(path);
    }
}

/// The words of the command line being completed: what the shell passed after `--`.
fn words() -> Vec<String> {
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let start = args.iter().position(|a| a == "--").map_or(args.len(), |i| i + 1);
    args[start..].to_vec()
}

/// The directory the command line names: `--dir DIR` or `--dir=DIR`, else `PEAT_DIR`, else
/// the platform's default.
fn dir_of(words: &[String]) -> Option<NodeDir> {
    let named = words.iter().enumerate().find_map(|(i, w)| match w.strip_prefix("--dir") {
        Some("") => words.get(i + 1).cloned(),
        Some(rest) => rest.strip_prefix('=').map(str::to_string),
        None => None,
    });
    let path = named
        .map(Into::into)
        .or_else(|| std::env::var_os("PEAT_DIR").filter(|d| !d.is_empty()).map(Into::into))
        .or_else(NodeDir::default_path)?;
    Some(NodeDir::new(path))
}

/// The collection a command line names: the first positional word after the command.
fn collection_word(words: &[String]) -> Option<String> {
    let command = words.iter().position(|w| matches!(w.as_str(), "query" | "watch" | "get" | "history"))?;
    words[command + 1..].iter().find(|w| !w.starts_with('-') && !w.is_empty()).cloned()
}

/// Runs `f` on the directory's backend (its running node, else its store), within
/// [`BUDGET`]; `None` when there is no node there, or it takes too long.
fn read<T, F, Fut>(f: F) -> Option<T>
where
    F: FnOnce(Box<dyn DataSyncBackend>) -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let dir = dir_of(&words())?;
    if !dir.is_initialized() {
        return None;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    runtime.block_on(async {
        let reading = async {
            let backend = open::open(&dir, &|_| {}).await.ok()?.boxed();
            f(backend).await
        };
        tokio::time::timeout(BUDGET, reading).await.ok().flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn the_directory_and_collection_come_from_the_command_line() {
        let w = words("peat --dir /tmp/x query units --order-by sp");
        assert_eq!(dir_of(&w).unwrap().path(), std::path::Path::new("/tmp/x"));
        assert_eq!(collection_word(&w).as_deref(), Some("units"));
        let w = words("peat -o json --dir=/tmp/y watch --where a units");
        assert_eq!(dir_of(&w).unwrap().path(), std::path::Path::new("/tmp/y"));
        assert_eq!(collection_word(&w).as_deref(), Some("a"), "a flag's value is a word too (a heuristic)");
        let values = vec!["speed".to_string(), "pos.lat".into(), "name".into()];
        let got: Vec<_> =
            matching(values, "name,", OsStr::new("sp")).iter().map(|c| c.get_value().to_owned()).collect();
        assert_eq!(got, ["name,speed"]);
    }
}
