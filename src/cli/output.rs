//! Printing results: a table for people on a terminal, JSON or NDJSON for programs. One
//! document renders the same everywhere (its JSON form), so output feeds back into `upsert`.

use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use serde_json::Value;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people
    Table,
    /// One JSON value (an array for lists)
    Json,
    /// One JSON value per line
    Ndjson,
}

impl Format {
    /// The asked format, else a table on a terminal and JSON when piped.
    pub fn resolve(asked: Option<Format>) -> Format {
        asked.unwrap_or(if io::stdout().is_terminal() { Format::Table } else { Format::Json })
    }
}

/// Buffered stdout; callers must `flush` so a closed pipe surfaces as an error.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// Prints a list of JSON objects in the given format.
pub fn print_list(format: Format, items: &[Value]) -> io::Result<()> {
    let mut out = stdout();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, items)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            for item in items {
                serde_json::to_writer(&mut out, item)?;
                writeln!(out)?;
            }
        }
        Format::Table => writeln!(out, "{}", table(items))?,
    }
    out.flush()
}

/// Prints one JSON object (a record such as `status`): key/value rows on a terminal.
pub fn print_record(format: Format, record: &impl Serialize) -> io::Result<()> {
    let value = serde_json::to_value(record).map_err(io::Error::other)?;
    let mut out = stdout();
    match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &value)?,
        Format::Ndjson => serde_json::to_writer(&mut out, &value)?,
        Format::Table => {
            let mut t = new_table();
            if let Value::Object(map) = &value {
                for (k, v) in map {
                    t.add_row(vec![k.clone(), cell(v)]);
                }
            }
            write!(out, "{t}")?;
        }
    }
    writeln!(out)?;
    out.flush()
}

/// A table with one column per top-level field (`id` first), one row per object.
pub fn table(items: &[Value]) -> Table {
    let mut columns: BTreeSet<&str> = BTreeSet::new();
    for item in items {
        if let Value::Object(map) = item {
            columns.extend(map.keys().map(String::as_str).filter(|k| *k != "id"));
        }
    }
    let header: Vec<&str> = std::iter::once("id").chain(columns.iter().copied()).collect();
    let mut t = new_table();
    t.set_header(header.clone());
    for item in items {
        t.add_row(header.iter().map(|k| item.get(*k).map(cell).unwrap_or_default()).collect::<Vec<_>>());
    }
    t
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// A value as a table cell: strings bare, everything else as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints ids: one per line on a terminal, a JSON array, or `{"id": ...}` lines.
pub fn print_ids(format: Format, ids: &[Value]) -> io::Result<()> {
    match format {
        Format::Json => print_list(Format::Json, ids),
        Format::Ndjson => {
            let objects: Vec<Value> = ids.iter().map(|id| serde_json::json!({ "id": id })).collect();
            print_list(Format::Ndjson, &objects)
        }
        Format::Table => {
            let mut out = stdout();
            for id in ids {
                writeln!(out, "{}", id.as_str().unwrap_or_default())?;
            }
            out.flush()
        }
    }
}
