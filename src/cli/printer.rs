//! The one place that writes for the user: data on stdout (a table on a terminal, JSON or
//! NDJSON for programs), messages on stderr. One document renders the same everywhere (its
//! JSON form), so output feeds back into `upsert`.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use serde_json::Value;

use crate::sync::ChangeEvent;

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

/// Writes a command's results and messages. Every write is flushed, so a closed pipe
/// surfaces as an error (which `main` turns into a quiet exit).
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    format: Format,
}

impl Printer {
    pub fn new(format: Format) -> Self {
        Self { format }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether results go to a person (a table) rather than a program.
    pub fn for_people(&self) -> bool {
        self.format == Format::Table
    }

    /// A message for the person running the command, on stderr: `peat: MESSAGE`.
    pub fn note(&self, message: impl Display) {
        eprintln!("peat: {message}");
    }

    /// A list of JSON objects: a table, a JSON array, or one object per line.
    pub fn list(&self, items: &[Value]) -> io::Result<()> {
        self.write(|out| match self.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, items)?;
                writeln!(out)
            }
            Format::Ndjson => items.iter().try_for_each(|item| {
                serde_json::to_writer(&mut *out, item)?;
                writeln!(out)
            }),
            Format::Table => writeln!(out, "{}", documents_table(items)),
        })
    }

    /// One record (such as a status): key/value rows on a terminal.
    pub fn record(&self, record: &impl Serialize) -> io::Result<()> {
        let value = serde_json::to_value(record).map_err(io::Error::other)?;
        self.write(|out| {
            match self.format {
                Format::Json => serde_json::to_writer_pretty(&mut *out, &value)?,
                Format::Ndjson => serde_json::to_writer(&mut *out, &value)?,
                Format::Table => {
                    let mut t = table();
                    if let Value::Object(map) = &value {
                        for (k, v) in map {
                            t.add_row(vec![k.clone(), cell(v)]);
                        }
                    }
                    write!(out, "{t}")?;
                }
            }
            writeln!(out)
        })
    }

    /// Document ids: one per line on a terminal, a JSON array, or `{"id": ...}` lines.
    pub fn ids(&self, ids: &[String]) -> io::Result<()> {
        match self.format {
            Format::Table => self.write(|out| ids.iter().try_for_each(|id| writeln!(out, "{id}"))),
            Format::Json => self.list(&ids.iter().map(|id| Value::String(id.clone())).collect::<Vec<_>>()),
            Format::Ndjson => {
                self.list(&ids.iter().map(|id| serde_json::json!({ "id": id })).collect::<Vec<_>>())
            }
        }
    }

    /// A table a command built (on a terminal only; callers print records otherwise).
    pub fn table(&self, table: &Table) -> io::Result<()> {
        self.write(|out| writeln!(out, "{table}"))
    }

    /// One plain line of data (a count, a report for people).
    pub fn line(&self, line: impl Display) -> io::Result<()> {
        self.write(|out| writeln!(out, "{line}"))
    }

    /// One watch event: a JSON line, or a row for people. Flushed at once.
    pub fn event(&self, event: &ChangeEvent) -> io::Result<()> {
        self.write(|out| {
            match self.format {
                Format::Json | Format::Ndjson => serde_json::to_writer(&mut *out, event)?,
                Format::Table => {
                    let kind = serde_json::to_value(event.event).map(|v| cell(&v)).unwrap_or_default();
                    write!(out, "{kind:<8} {:<24} {}", event.id, cell(&event.document))?;
                }
            }
            writeln!(out)
        })
    }

    /// Runs `f` on buffered stdout and flushes.
    fn write(&self, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
        f(&mut out)?;
        out.flush()
    }
}

/// The one table style of every command.
pub fn table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// A table with one column per top-level field (`id` first), one row per object.
fn documents_table(items: &[Value]) -> Table {
    let mut columns = std::collections::BTreeSet::new();
    for item in items {
        if let Value::Object(map) = item {
            columns.extend(map.keys().map(String::as_str).filter(|k| *k != "id"));
        }
    }
    let header: Vec<&str> = std::iter::once("id").chain(columns.iter().copied()).collect();
    let mut t = table();
    t.set_header(header.clone());
    for item in items {
        t.add_row(header.iter().map(|k| item.get(*k).map(cell).unwrap_or_default()).collect::<Vec<_>>());
    }
    t
}

/// A value as a table cell: strings bare, everything else as compact JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
