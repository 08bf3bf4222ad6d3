//! Reading documents that users feed to `upsert`: one JSON object, a JSON array of objects,
//! or NDJSON (any whitespace-separated sequence of objects), from a string, file or stdin.

use std::io::{BufReader, Read};

use tokio::sync::mpsc;

use serde_json::{Map, Value};

use crate::sync::query::Path;
use crate::sync::{Error, validate};

/// One parsed input item: a document object, or the error that stopped the input.
pub type Item = Result<Map<String, Value>, Error>;

/// Parses documents on a thread, turns each into what the writer takes with `prepare` there
/// too, and sends them down a bounded channel, so the writer can commit whatever has arrived
/// whenever the input pauses (streaming) or in full chunks (bulk), and never waits for this
/// work between its batches.
pub fn spawn_reader<T: Send + 'static>(
    source: Box<dyn Read + Send>,
    name: String,
    mut prepare: impl FnMut(Item) -> T + Send + 'static,
) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel(16 * 1024);
    std::thread::spawn(move || parse_stream(source, &name, |item| tx.blocking_send(prepare(item)).is_ok()));
    rx
}

/// Parses a whole input into `emit`, stopping at the first error or when `emit` returns false.
pub fn parse_stream(source: impl Read, name: &str, mut emit: impl FnMut(Item) -> bool) {
    let mut reader = BufReader::with_capacity(256 * 1024, IntegerGuard::new(source));
    skip_bom(&mut reader);
    let mut first = [0u8; 1];
    // Peek for '[' past leading whitespace: an array is one value, not a stream.
    let mut leading = Vec::new();
    loop {
        match reader.read(&mut first) {
            Ok(0) => return,
            Ok(_) if first[0].is_ascii_whitespace() => leading.push(first[0]),
            Ok(_) => break,
            Err(e) => {
                emit(Err(Error::failed(format!("{name}: {e}"))));
                return;
            }
        }
    }
    let line_offset = leading.iter().filter(|b| **b == b'\n').count();
    let rest = std::io::Cursor::new(first).chain(reader);
    if first[0] == b'[' {
        match serde_json::from_reader::<_, Vec<Value>>(rest) {
            Ok(items) => {
                for (i, v) in items.into_iter().enumerate() {
                    if !emit(to_object(v).map_err(|m| Error::invalid(format!("{name}: element {i}: {m}")))) {
                        return;
                    }
                }
            }
            Err(e) => {
                emit(Err(json_error(name, &e, line_offset)));
            }
        }
        return;
    }
    for value in serde_json::Deserializer::from_reader(rest).into_iter::<Value>() {
        let item = match value {
            Ok(v) => to_object(v).map_err(|m| Error::invalid(format!("{name}: {m}"))),
            Err(e) => Err(json_error(name, &e, line_offset)),
        };
        let stop = item.is_err();
        if !emit(item) || stop {
            return;
        }
    }
}

/// Passes JSON text through, failing (`InvalidData`) at an integer literal beyond the range of
/// i64 and u64: serde_json would silently make it a float, and the document would not say
/// what was written.
struct IntegerGuard<R> {
    inner: R,
    in_string: bool,
    escaped: bool,
    /// The number literal being read, if any (bounded: a longer integer is too big anyway).
    number: Option<String>,
    /// The error to give at the next read, after the bytes before it.
    failed: Option<std::io::Error>,
}

impl<R: Read> IntegerGuard<R> {
    fn new(inner: R) -> Self {
        Self { inner, in_string: false, escaped: false, number: None, failed: None }
    }

    /// Ends the current number literal, if any, checking it.
    fn end_number(&mut self) -> std::io::Result<()> {
        let Some(n) = self.number.take() else { return Ok(()) };
        let integer = !n.contains(['.', 'e', 'E']);
        if integer && n.parse::<i64>().is_err() && n.parse::<u64>().is_err() {
            let shown: String = n.chars().take(24).collect();
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the integer {shown}… is beyond the 64-bit range; write it as a string"),
            ));
        }
        Ok(())
    }

    fn scan(&mut self, byte: u8) -> std::io::Result<()> {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            return Ok(());
        }
        if matches!(byte, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
            let n = self.number.get_or_insert_with(String::new);
            if n.len() < 64 {
                n.push(byte as char);
            }
            return Ok(());
        }
        self.in_string = byte == b'"';
        self.end_number()
    }
}

impl<R: Read> Read for IntegerGuard<R> {
    /// The bytes before a bad integer's end come first, so the parser has read up to it
    /// when the error comes and names its line.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.end_number()?;
        }
        for (i, &byte) in buf[..n].iter().enumerate() {
            if let Err(e) = self.scan(byte) {
                if i == 0 {
                    return Err(e);
                }
                self.failed = Some(e);
                return Ok(i);
            }
        }
        Ok(n)
    }
}

/// Skips a UTF-8 byte order mark, which Windows tools put before JSON.
fn skip_bom(reader: &mut BufReader<impl Read>) {
    use std::io::BufRead;
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if reader.fill_buf().is_ok_and(|buf| buf.starts_with(BOM)) {
        reader.consume(BOM.len());
    }
}

fn json_error(name: &str, e: &serde_json::Error, line_offset: usize) -> Error {
    if e.io_error_kind() == Some(std::io::ErrorKind::InvalidData) {
        return Error::invalid(format!("{name}: {e}"));
    }
    if e.is_io() {
        return Error::failed(format!("{name}: {e}"));
    }
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg);
    Error::invalid(format!(
        "{name}: malformed JSON at line {}, column {}: {msg}",
        e.line() + line_offset,
        e.column()
    ))
}

fn to_object(v: Value) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(map) => Ok(map),
        other => Err(format!("expected a JSON object, found {}", kind(&other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses `PATH=VALUE`: VALUE as JSON when it is JSON, else as a string.
pub fn parse_set(s: &str) -> Result<(Path, Value), Error> {
    let (path, value) =
        s.split_once('=').ok_or_else(|| Error::invalid(format!("--set {s:?}: expected PATH=VALUE")))?;
    let path = Path::parse(path.trim()).map_err(|e| Error::invalid(format!("--set {s:?}: bad path: {e}")))?;
    let value = match serde_json::from_reader(IntegerGuard::new(value.as_bytes())) {
        Ok(json) => json,
        Err(e) if e.io_error_kind() == Some(std::io::ErrorKind::InvalidData) => {
            return Err(Error::invalid(format!("--set {s:?}: {e}")));
        }
        Err(_) => Value::String(value.to_string()),
    };
    validate::set(&path, &value).map_err(|e| Error::invalid(format!("--set {s:?}: {e}")))?;
    Ok((path, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Vec<Result<Value, String>> {
        let mut out = Vec::new();
        parse_stream(s.as_bytes(), "stdin", |item| {
            out.push(item.map(Value::Object).map_err(|e| e.message));
            true
        });
        out
    }

    #[test]
    fn objects_arrays_and_ndjson() {
        assert_eq!(parse(r#"{"a":1}"#), [Ok(json!({"a": 1}))]);
        assert_eq!(parse("{\"a\":1}\n{\"b\":2}\n"), [Ok(json!({"a": 1})), Ok(json!({"b": 2}))]);
        assert_eq!(parse("\n [ {\"a\":1}, {\"b\":2} ]"), [Ok(json!({"a": 1})), Ok(json!({"b": 2}))]);
        assert_eq!(parse("   \n"), Vec::<Result<Value, String>>::new());
        assert_eq!(parse("\u{FEFF}{\"a\":1}\n"), [Ok(json!({"a": 1}))], "a BOM is skipped");
        let big = parse("{\"a\":18446744073709551616}");
        assert!(big[0].clone().unwrap_err().contains("beyond the 64-bit range"), "{big:?}");
        assert_eq!(
            parse(
                r#"{"u":18446744073709551615,"i":-9223372036854775808,"f":1e300,"s":"99999999999999999999"}"#
            ),
            [Ok(json!({"u": u64::MAX, "i": i64::MIN, "f": 1e300, "s": "99999999999999999999"}))]
        );
        assert!(parse("{\"a\":-9223372036854775809}")[0].is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let out = parse("{\"a\":1}\n{\"b\":\n");
        assert_eq!(out[0], Ok(json!({"a": 1})));
        let err = out[1].clone().unwrap_err();
        assert!(err.contains("malformed JSON at line 3"), "{err}");
        let out = parse("{\"a\":1}\n42\n{\"c\":3}");
        assert_eq!(out.len(), 2);
        assert!(out[1].clone().unwrap_err().contains("expected a JSON object, found a number"));
        assert!(parse("[1]")[0].clone().unwrap_err().contains("element 0"));
    }

    #[test]
    fn set_values() {
        assert_eq!(parse_set("a.b=3").unwrap(), (Path::parse("a.b").unwrap(), json!(3)));
        assert_eq!(parse_set("name=alpha one").unwrap().1, json!("alpha one"));
        assert_eq!(parse_set("x=\"7\"").unwrap().1, json!("7"));
        assert_eq!(parse_set("l=[1,2]").unwrap().1, json!([1, 2]));
        assert_eq!(parse_set("e=").unwrap().1, json!(""));
        assert!(parse_set("novalue").is_err());
        assert!(parse_set("a..b=1").is_err());
        assert!(parse_set("id=2").is_err());
        assert!(parse_set("id.x=1").is_err(), "the id is not a field");
        assert!(parse_set("n=18446744073709551616").unwrap_err().message.contains("64-bit range"));
        assert_eq!(parse_set("n=18446744073709551615").unwrap().1, json!(u64::MAX));
    }
}
