//! The one place that writes for the user: data on stdout (a table on a terminal, JSON or
//! NDJSON for programs), messages on stderr. One document renders the same everywhere (its
//! JSON form), so output feeds back into `upsert`.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};

use serde::Serialize;
use serde_json::Value;

use super::table::{self, Grid};
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
    /// `--quiet`: no messages on stderr, only errors.
    quiet: bool,
    /// The width tables fit into: the terminal's, unless `--wide` or unknown.
    width: Option<usize>,
    /// Whether stdout is a terminal (a person reads it as it scrolls by).
    terminal: bool,
}

impl Printer {
    pub fn new(format: Format, quiet: bool, wide: bool) -> Self {
        let terminal = io::stdout().is_terminal();
        let width = if wide || !terminal { None } else { table::terminal_width() };
        Self { format, quiet, width, terminal }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether results go to a person (a table) rather than a program.
    pub fn for_people(&self) -> bool {
        self.format == Format::Table
    }

    /// Whether results go to a person at a terminal, where a long listing only scrolls by.
    pub fn to_terminal(&self) -> bool {
        self.for_people() && self.terminal
    }

    /// The width tables fit into, if known and not `--wide`.
    pub fn width(&self) -> Option<usize> {
        self.width
    }

    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// A message for the person running the command, on stderr: `peat: MESSAGE`. Silent
    /// with `--quiet`.
    pub fn note(&self, message: impl Display) {
        if !self.quiet {
            eprintln!("peat: {message}");
        }
    }

    /// Asks a yes/no question on stderr and reads the answer from stdin (callers ask only
    /// when stdin is a terminal). Anything but `y` or `yes` is no.
    pub fn confirm(&self, question: impl Display) -> io::Result<bool> {
        eprint!("peat: {question} [y/N] ");
        io::stderr().flush()?;
        let mut answer = String::new();
        io::stdin().read_line(&mut answer)?;
        Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
    }

    /// A list of JSON objects: a table (a column per top-level field, `id` first, the rest by
    /// name), a JSON array, or one object per line.
    pub fn list(&self, items: &[Value]) -> io::Result<()> {
        self.documents(items, &[])
    }

    /// Like [`Printer::list`], with the table's columns after `id` in the order given (all
    /// fields by name when empty).
    pub fn documents(&self, items: &[Value], columns: &[String]) -> io::Result<()> {
        self.write(|out| match self.format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, items)?;
                writeln!(out)
            }
            Format::Ndjson => items.iter().try_for_each(|item| {
                serde_json::to_writer(&mut *out, item)?;
                writeln!(out)
            }),
            Format::Table => writeln!(out, "{}", documents_table(items, columns).render(self.width)),
        })
    }

    /// A writer for documents that arrive one by one (a query's results): a JSON array
    /// written incrementally, or NDJSON line by line. Tables need every row for their
    /// widths, so for people the rows are gathered and printed at the end.
    pub fn document_writer(&self, columns: Vec<String>) -> DocumentWriter<io::BufWriter<io::Stdout>> {
        DocumentWriter::new(*self, columns, io::BufWriter::with_capacity(64 * 1024, io::stdout()))
    }

    /// A writer for ids that arrive a batch at a time (an upsert of a stream): the same text
    /// as [`Printer::ids`] of them all, written as they come.
    pub fn id_writer(&self) -> IdWriter {
        IdWriter {
            format: self.format,
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
            written: 0,
        }
    }

    /// One record (such as a status): key/value rows on a terminal, values cut to fit except
    /// ids, which are never cut.
    pub fn record(&self, record: &impl Serialize) -> io::Result<()> {
        let value = serde_json::to_value(record).map_err(io::Error::other)?;
        self.write(|out| {
            match self.format {
                Format::Json => serde_json::to_writer_pretty(&mut *out, &value)?,
                Format::Ndjson => serde_json::to_writer(&mut *out, &value)?,
                Format::Table => write!(out, "{}", record_table(&value, self.width))?,
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
    pub fn grid(&self, grid: Grid) -> io::Result<()> {
        self.write(|out| writeln!(out, "{}", grid.render(self.width)))
    }

    /// One plain line of data (a count, a report for people).
    pub fn line(&self, line: impl Display) -> io::Result<()> {
        self.write(|out| writeln!(out, "{line}"))
    }

    /// One watch event: a JSON line, or for people a row `TIME EVENT ID ORIGIN DOCUMENT`
    /// with the document cut to the width. Flushed at once.
    pub fn event(&self, event: &ChangeEvent) -> io::Result<()> {
        self.write(|out| {
            match self.format {
                Format::Json | Format::Ndjson => serde_json::to_writer(&mut *out, event)?,
                Format::Table => write!(out, "{}", event_row(event, self.width))?,
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

/// Writes documents as they come; see [`Printer::document_writer`].
pub struct DocumentWriter<W: Write> {
    printer: Printer,
    columns: Vec<String>,
    out: W,
    written: usize,
    /// A table's rows, printed by [`DocumentWriter::finish`].
    rows: Vec<Value>,
}

impl<W: Write> DocumentWriter<W> {
    fn new(printer: Printer, columns: Vec<String>, out: W) -> Self {
        Self { printer, columns, out, written: 0, rows: Vec::new() }
    }

    /// Writes (or, for a table, keeps) one document.
    pub fn item(&mut self, item: Value) -> io::Result<()> {
        let out = &mut self.out;
        match self.printer.format {
            Format::Table => self.rows.push(item),
            Format::Ndjson => {
                serde_json::to_writer(&mut *out, &item)?;
                writeln!(out)?;
            }
            Format::Json => {
                // The same text as a pretty-printed array: each element indented one level.
                out.write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                let pretty = serde_json::to_vec_pretty(&item)?;
                for (i, line) in pretty.split(|b| *b == b'\n').enumerate() {
                    out.write_all(if i == 0 { b"  " } else { b"\n  " })?;
                    out.write_all(line)?;
                }
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Hands what was written so far to stdout (while waiting for more).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// How many documents were given.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Ends the output: closes the JSON array, or prints the table; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        match self.printer.format {
            Format::Table => {
                self.out.flush()?;
                self.printer.documents(&self.rows, &self.columns)?;
            }
            Format::Json if self.written == 0 => self.out.write_all(b"[]\n")?,
            Format::Json => self.out.write_all(b"\n]\n")?,
            Format::Ndjson => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes ids as they come; see [`Printer::id_writer`].
pub struct IdWriter {
    format: Format,
    out: io::BufWriter<io::Stdout>,
    written: usize,
}

impl IdWriter {
    /// Writes a batch of ids and hands them to stdout.
    pub fn ids(&mut self, ids: &[String]) -> io::Result<()> {
        let out = &mut self.out;
        for id in ids {
            match self.format {
                Format::Table => writeln!(out, "{id}")?,
                Format::Ndjson => {
                    serde_json::to_writer(&mut *out, &serde_json::json!({ "id": id }))?;
                    writeln!(out)?;
                }
                Format::Json => {
                    // The same text as a pretty-printed array of strings.
                    out.write_all(if self.written == 0 { b"[\n  " } else { b",\n  " })?;
                    serde_json::to_writer(&mut *out, id)?;
                }
            }
            self.written += 1;
        }
        out.flush()
    }

    /// Ends the output (closes the JSON array).
    pub fn finish(mut self) -> io::Result<()> {
        match self.format {
            Format::Json if self.written == 0 => self.out.write_all(b"[]\n")?,
            Format::Json => self.out.write_all(b"\n]\n")?,
            Format::Table | Format::Ndjson => {}
        }
        self.out.flush()
    }
}

/// A table with one column per field (`id` first, kept whole), one row per object.
fn documents_table(items: &[Value], columns: &[String]) -> Grid {
    let header: Vec<String> = if columns.is_empty() {
        let mut names = std::collections::BTreeSet::new();
        for item in items {
            if let Value::Object(map) = item {
                names.extend(map.keys().map(String::as_str).filter(|k| *k != "id"));
            }
        }
        std::iter::once("id").chain(names).map(String::from).collect()
    } else {
        std::iter::once("id".to_string()).chain(columns.iter().filter(|c| *c != "id").cloned()).collect()
    };
    let mut grid = Grid::new(Some(header.clone())).whole(0);
    for item in items {
        grid.row(header.iter().map(|k| item.get(k).map(cell).unwrap_or_default()).collect());
    }
    grid
}

/// Key/value rows, the values cut to what the keys leave of `width`, except ids.
fn record_table(value: &Value, width: Option<usize>) -> String {
    let Value::Object(map) = value else { return cell(value) };
    let key_width = map.keys().map(String::len).max().unwrap_or(0);
    let value_width = width.map(|w| w.saturating_sub(key_width + 7).max(8));
    let mut grid = Grid::new(None);
    for (k, v) in map {
        let is_id = k == "id" || k.ends_with("_id");
        grid.row(vec![k.clone(), table::truncate(&cell(v), if is_id { None } else { value_width })]);
    }
    grid.render(None)
}

/// `12:00:01.123 added    u1  local  {...}`: the document cut to what the rest leaves.
fn event_row(event: &ChangeEvent, width: Option<usize>) -> String {
    let kind = serde_json::to_value(event.event).map(|v| cell(&v)).unwrap_or_default();
    let time = event.time.get(11..23).unwrap_or(&event.time);
    let origin = event.origin.as_deref().unwrap_or("-");
    let head = format!("{time} {kind:<7} {:<12} {origin:<7} ", event.id);
    let rest = width.map(|w| w.saturating_sub(head.chars().count()).max(8));
    format!("{head}{}", table::truncate(&cell(&event.document), rest))
}

/// A value as a table cell: strings bare, everything else as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(format: Format, items: &[Value]) -> String {
        let printer = Printer { format, quiet: true, width: None, terminal: false };
        let mut writer = DocumentWriter::new(printer, Vec::new(), Vec::new());
        items.iter().try_for_each(|i| writer.item(i.clone())).unwrap();
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn documents_written_one_by_one_read_as_one_array_or_lines() {
        let items = [
            serde_json::json!({"id": "a", "pos": {"lat": 1.5, "tags": ["x\ny"]}}),
            serde_json::json!({"id": "b"}),
        ];
        for items in [&items[..], &items[..1], &[]] {
            let mut whole = serde_json::to_string_pretty(items).unwrap();
            whole.push('\n');
            assert_eq!(written(Format::Json, items), whole, "the same text as a pretty array");
            let lines: String = items.iter().map(|i| format!("{i}\n")).collect();
            assert_eq!(written(Format::Ndjson, items), lines);
        }
    }
}
