//! Queries over JSON documents: the [`Query`] enum, the `--where` expression parser
//! (DESIGN.md §5) and evaluation. A query crosses the control socket, so it is plain data
//! (serde); a parse error carries the column it points at.
//!
//! Comparisons follow JSON types: numbers compare numerically, strings lexically; ordering
//! across types never matches, and a missing path matches nothing but `!=` and `not`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// Deepest nesting of parentheses and `not` an expression may have.
const MAX_DEPTH: usize = 64;
/// Mean Earth radius in meters, for `within`.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// One step of a [`Path`]: an object key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path into a JSON document: `a.b`, `list[0].name`. `id` is the document id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Path {
    segments: Vec<Segment>,
}

impl Path {
    /// Parses `ident ("." ident | "[" int "]")*`.
    pub fn parse(src: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = src;
        let mut expect_key = true;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or_else(|| format!("unclosed '[' in path '{src}'"))?;
                let index = after[..close]
                    .parse()
                    .map_err(|_| format!("'[{}]' in path '{src}' is not a list index", &after[..close]))?;
                segments.push(Segment::Index(index));
                rest = &after[close + 1..];
                expect_key = false;
                continue;
            }
            if !expect_key {
                rest =
                    rest.strip_prefix('.').ok_or_else(|| format!("expected '.' or '[' in path '{src}'"))?;
            }
            let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
            let key = &rest[..end];
            if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("empty or malformed field name in path '{src}'"));
            }
            segments.push(Segment::Key(key.to_string()));
            rest = &rest[end..];
            expect_key = false;
        }
        match segments.first() {
            Some(Segment::Key(_)) => Ok(Self { segments }),
            Some(Segment::Index(_)) => Err(format!("path '{src}' must start with a field name")),
            None => Err("empty path".into()),
        }
    }

    /// A path of the given segments.
    pub fn from_segments(segments: Vec<Segment>) -> Self {
        Self { segments }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The value at this path, if there is one.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.segments.iter().try_fold(value, |v, seg| match seg {
            Segment::Key(k) => v.as_object()?.get(k),
            Segment::Index(i) => v.as_array()?.get(*i),
        })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl FromStr for Path {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Path {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Path> for String {
    fn from(p: Path) -> String {
        p.to_string()
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Substring of a string, or element of a list.
    Contains,
}

impl Op {
    fn from_token(s: &str) -> Option<Self> {
        Some(match s {
            "==" | "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            _ => return None,
        })
    }
}

/// A filter over documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Query {
    /// Every document.
    All,
    /// `path op value`.
    Compare {
        path: Path,
        op: Op,
        value: Value,
    },
    /// The path holds a value (null counts).
    Exists(Path),
    /// The document's position lies within `meters` of a point.
    Within {
        lat: f64,
        lon: f64,
        meters: f64,
    },
    /// The document's position lies in a box (min_lon > max_lon crosses the antimeridian).
    BBox {
        min_lat: f64,
        min_lon: f64,
        max_lat: f64,
        max_lon: f64,
    },
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
}

impl Query {
    /// Parses a `--where` expression.
    pub fn parse(src: &str) -> Result<Query, ParseError> {
        let tokens = tokenize(src)?;
        let mut parser = Parser { tokens, pos: 0, end: src.chars().count(), depth: 0 };
        let query = parser.or()?;
        match parser.peek() {
            None => Ok(query),
            Some(t) => Err(ParseError::at(t.col, format!("unexpected '{}'", t.text))),
        }
    }

    /// Both `self` and `other`.
    pub fn and(self, other: Query) -> Query {
        match (self, other) {
            (Query::All, q) | (q, Query::All) => q,
            (Query::And(mut a), Query::And(b)) => {
                a.extend(b);
                Query::And(a)
            }
            (Query::And(mut a), q) => {
                a.push(q);
                Query::And(a)
            }
            (a, b) => Query::And(vec![a, b]),
        }
    }

    /// Whether a document (its JSON form) matches.
    /// The paths the query compares or tests for existence (not the positions that `within`
    /// and `bbox` read), in the order written.
    pub fn paths(&self) -> Vec<&Path> {
        match self {
            Query::Compare { path, .. } | Query::Exists(path) => vec![path],
            Query::And(qs) | Query::Or(qs) => qs.iter().flat_map(Query::paths).collect(),
            Query::Not(q) => q.paths(),
            _ => Vec::new(),
        }
    }

    pub fn matches(&self, doc: &Value) -> bool {
        match self {
            Query::All => true,
            Query::Compare { path, op, value } => compare(path.get(doc), *op, value),
            Query::Exists(path) => path.get(doc).is_some(),
            Query::Within { lat, lon, meters } => {
                position(doc).is_some_and(|(la, lo)| distance_m(*lat, *lon, la, lo) <= *meters)
            }
            Query::BBox { min_lat, min_lon, max_lat, max_lon } => position(doc).is_some_and(|(la, lo)| {
                let lon_in = if min_lon <= max_lon {
                    (*min_lon..=*max_lon).contains(&lo)
                } else {
                    lo >= *min_lon || lo <= *max_lon
                };
                (*min_lat..=*max_lat).contains(&la) && lon_in
            }),
            Query::And(qs) => qs.iter().all(|q| q.matches(doc)),
            Query::Or(qs) => qs.iter().any(|q| q.matches(doc)),
            Query::Not(q) => !q.matches(doc),
        }
    }
}

fn compare(found: Option<&Value>, op: Op, want: &Value) -> bool {
    let Some(found) = found else { return op == Op::Ne };
    match op {
        Op::Eq => json_eq(found, want),
        Op::Ne => !json_eq(found, want),
        Op::Contains => match (found, want) {
            (Value::String(s), Value::String(w)) => s.contains(w.as_str()),
            (Value::Array(items), w) => items.iter().any(|i| json_eq(i, w)),
            _ => false,
        },
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let Some(ord) = same_type_cmp(found, want) else { return false };
            match op {
                Op::Lt => ord.is_lt(),
                Op::Le => ord.is_le(),
                Op::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
    }
}

/// JSON equality with numbers compared by value (`3 == 3.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Ordering::Equal,
        _ => a == b,
    }
}

/// Numbers exactly when both are integers, else as floats.
fn num_cmp(a: &Number, b: &Number) -> Ordering {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x.cmp(&y),
        (_, _, Some(x), Some(y)) => x.cmp(&y),
        (Some(_), _, _, Some(_)) => Ordering::Less,
        (_, Some(_), Some(_), _) => Ordering::Greater,
        _ => float_cmp(a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN)),
    }
}

/// Floats by value, so `-0.0 == 0`; NaN (never stored, JSON has none) falls back to the
/// total order to keep sorting total.
fn float_cmp(x: f64, y: f64) -> Ordering {
    x.partial_cmp(&y).unwrap_or_else(|| x.total_cmp(&y))
}

/// The order of two values of one JSON type; `None` across types or for containers.
fn same_type_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Some(num_cmp(x, y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// A total order for `--order-by`: missing values last, then by JSON type (null, bool,
/// number, string, array, object), then by value.
pub fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => rank(x)
            .cmp(&rank(y))
            .then_with(|| same_type_cmp(x, y).unwrap_or_else(|| x.to_string().cmp(&y.to_string()))),
    }
}

/// Where a document is: `lat`/`lon` at the top, or inside `location`, `position` or `pos`.
fn position(doc: &Value) -> Option<(f64, f64)> {
    let at = |v: &Value| Some((v.get("lat")?.as_f64()?, v.get("lon")?.as_f64()?));
    at(doc).or_else(|| ["location", "position", "pos"].iter().find_map(|k| at(doc.get(k)?)))
}

/// Great-circle distance (haversine).
fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// A parse error and the column (1-based, in characters) it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl ParseError {
    fn at(column: usize, message: impl Into<String>) -> Self {
        Self { column, message: message.into() }
    }

    /// The expression with a caret under the column, for people.
    pub fn render(&self, src: &str) -> String {
        format!("  {src}\n  {}^", " ".repeat(self.column.saturating_sub(1)))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Punctuation or an operator: `(`, `)`, `,`, `==`, `<=`, ...
    Sym,
    /// A run of other characters: a path, keyword, number or bareword.
    Word,
    /// A quoted string, unescaped.
    Str,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    text: String,
    col: usize,
}

fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let (text, next) = quoted(&chars, i)?;
            tokens.push(Token { kind: Kind::Str, text, col });
            i = next;
        } else if matches!(c, '(' | ')' | ',') {
            tokens.push(Token { kind: Kind::Sym, text: c.into(), col });
            i += 1;
        } else if matches!(c, '=' | '!' | '<' | '>') {
            let two = chars.get(i + 1) == Some(&'=');
            let text: String = chars[i..i + 1 + usize::from(two)].iter().collect();
            if text == "!" {
                return Err(ParseError::at(col, "expected '!=' (use 'not' to negate)"));
            }
            tokens.push(Token { kind: Kind::Sym, text, col });
            i += 1 + usize::from(two);
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()=!<>,'\"".contains(chars[i]) {
                i += 1;
            }
            tokens.push(Token { kind: Kind::Word, text: chars[start..i].iter().collect(), col });
        }
    }
    Ok(tokens)
}

/// Reads a quoted string starting at `start`; a backslash escapes the next character.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), ParseError> {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => {
                let escaped = chars.get(i + 1).ok_or_else(|| ParseError::at(i + 1, "unfinished escape"))?;
                text.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => *other,
                });
                i += 2;
            }
            c if c == quote => return Ok((text, i + 1)),
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(ParseError::at(start + 1, "unclosed string"))
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// The column just past the input, for errors at the end.
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self, expected: &str) -> Result<Token, ParseError> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token.ok_or_else(|| ParseError::at(self.end + 1, format!("expected {expected}, found the end")))
    }

    fn at_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.kind == Kind::Word && t.text.eq_ignore_ascii_case(word))
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), ParseError> {
        let t = self.next(&format!("'{sym}'"))?;
        if t.kind == Kind::Sym && t.text == sym {
            Ok(())
        } else {
            Err(ParseError::at(t.col, format!("expected '{sym}', found '{}'", t.text)))
        }
    }

    fn or(&mut self) -> Result<Query, ParseError> {
        self.joined("or", Self::and, Query::Or)
    }

    fn and(&mut self) -> Result<Query, ParseError> {
        self.joined("and", Self::unary, Query::And)
    }

    /// `operand (keyword operand)*`, wrapped by `join` when there is more than one.
    fn joined(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Result<Query, ParseError>,
        join: fn(Vec<Query>) -> Query,
    ) -> Result<Query, ParseError> {
        let mut parts = vec![operand(self)?];
        while self.at_word(keyword) {
            self.pos += 1;
            parts.push(operand(self)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { join(parts) })
    }

    fn unary(&mut self) -> Result<Query, ParseError> {
        self.depth += 1;
        let col = self.peek().map_or(self.end + 1, |t| t.col);
        if self.depth > MAX_DEPTH {
            return Err(ParseError::at(col, format!("expression nested deeper than {MAX_DEPTH}")));
        }
        let query = self.unary_inner();
        self.depth -= 1;
        query
    }

    fn unary_inner(&mut self) -> Result<Query, ParseError> {
        if self.at_word("not") {
            self.pos += 1;
            return Ok(Query::Not(Box::new(self.unary()?)));
        }
        let t = self.next("a condition")?;
        match t.kind {
            Kind::Sym if t.text == "(" => {
                let inner = self.or()?;
                self.expect_sym(")")?;
                Ok(inner)
            }
            Kind::Word if self.peek().is_some_and(|n| n.text == "(") => self.function(&t),
            Kind::Word => self.comparison(&t),
            _ => Err(ParseError::at(t.col, format!("expected a condition, found '{}'", t.text))),
        }
    }

    fn path(t: &Token) -> Result<Path, ParseError> {
        Path::parse(&t.text).map_err(|e| ParseError::at(t.col, e))
    }

    fn comparison(&mut self, left: &Token) -> Result<Query, ParseError> {
        let path = Self::path(left)?;
        if self.at_word("in") {
            self.pos += 1;
            return self.one_of(path);
        }
        let t = self.next("an operator (== != < <= > >= contains)")?;
        let op = Op::from_token(&t.text).filter(|_| t.kind != Kind::Str).ok_or_else(|| {
            ParseError::at(
                t.col,
                format!("expected an operator (== != < <= > >= contains), found '{}'", t.text),
            )
        })?;
        let value = self.value()?;
        Ok(Query::Compare { path, op, value })
    }

    /// `path in (v1, v2, ...)`: any of the values, an `or` of `==` comparisons.
    fn one_of(&mut self, path: Path) -> Result<Query, ParseError> {
        self.expect_sym("(")?;
        let mut parts = Vec::new();
        loop {
            let value = self.value()?;
            parts.push(Query::Compare { path: path.clone(), op: Op::Eq, value });
            let t = self.next("',' or ')'")?;
            match (t.kind, t.text.as_str()) {
                (Kind::Sym, ",") => {}
                (Kind::Sym, ")") => break,
                _ => return Err(ParseError::at(t.col, format!("expected ',' or ')', found '{}'", t.text))),
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Query::Or(parts) })
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        let t = self.next("a value")?;
        match t.kind {
            Kind::Str => Ok(Value::String(t.text)),
            Kind::Sym => Err(ParseError::at(t.col, format!("expected a value, found '{}'", t.text))),
            Kind::Word => Ok(match t.text.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                w => number(w).unwrap_or_else(|| Value::String(w.to_string())),
            }),
        }
    }

    fn function(&mut self, name: &Token) -> Result<Query, ParseError> {
        self.expect_sym("(")?;
        let query = match name.text.to_ascii_lowercase().as_str() {
            "exists" => {
                let t = self.next("a path")?;
                if t.kind != Kind::Word {
                    return Err(ParseError::at(t.col, format!("expected a path, found '{}'", t.text)));
                }
                Query::Exists(Self::path(&t)?)
            }
            "within" => {
                let [lat, lon, meters] = self.numbers::<3>()?;
                check_lat(lat, name.col)?;
                check_lon(lon, name.col)?;
                if meters < 0.0 {
                    return Err(ParseError::at(name.col, "within: the distance must not be negative"));
                }
                Query::Within { lat, lon, meters }
            }
            "bbox" => {
                let [min_lat, min_lon, max_lat, max_lon] = self.numbers::<4>()?;
                for v in [min_lat, max_lat] {
                    check_lat(v, name.col)?;
                }
                for v in [min_lon, max_lon] {
                    check_lon(v, name.col)?;
                }
                if min_lat > max_lat {
                    return Err(ParseError::at(name.col, "bbox: min latitude is above max latitude"));
                }
                Query::BBox { min_lat, min_lon, max_lat, max_lon }
            }
            other => {
                return Err(ParseError::at(
                    name.col,
                    format!("unknown function '{other}' (use exists, within or bbox)"),
                ));
            }
        };
        self.expect_sym(")")?;
        Ok(query)
    }

    /// `N` comma-separated numbers.
    fn numbers<const N: usize>(&mut self) -> Result<[f64; N], ParseError> {
        let mut out = [0.0; N];
        for (i, slot) in out.iter_mut().enumerate() {
            if i > 0 {
                self.expect_sym(",")?;
            }
            let t = self.next("a number")?;
            *slot = number(&t.text)
                .filter(|_| t.kind == Kind::Word)
                .and_then(|v| v.as_f64())
                .ok_or_else(|| ParseError::at(t.col, format!("expected a number, found '{}'", t.text)))?;
        }
        Ok(out)
    }
}

/// A JSON number from a word: an integer stays an integer.
fn number(word: &str) -> Option<Value> {
    let first = word.chars().next()?;
    if !(first.is_ascii_digit() || first == '-' || first == '+') {
        return None;
    }
    let word = word.strip_prefix('+').unwrap_or(word);
    match serde_json::from_str::<Value>(word) {
        Ok(v @ Value::Number(_)) => Some(v),
        _ => word.parse::<f64>().ok().filter(|f| f.is_finite()).and_then(Number::from_f64).map(Value::Number),
    }
}

fn check_lat(v: f64, col: usize) -> Result<(), ParseError> {
    if (-90.0..=90.0).contains(&v) {
        Ok(())
    } else {
        Err(ParseError::at(col, format!("latitude {v} is outside -90..90")))
    }
}

fn check_lon(v: f64, col: usize) -> Result<(), ParseError> {
    if (-180.0..=180.0).contains(&v) {
        Ok(())
    } else {
        Err(ParseError::at(col, format!("longitude {v} is outside -180..180")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(expr: &str, doc: Value) -> bool {
        Query::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).matches(&doc)
    }

    #[test]
    fn paths_parse_and_print() {
        for ok in ["a", "a.b", "list[0].name", "a[1][2]", "id", "ü.x-y"] {
            assert_eq!(Path::parse(ok).unwrap().to_string(), ok);
        }
        for bad in ["", ".a", "a.", "a..b", "[0]", "a[x]", "a[1", "a b", "a]b"] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
        let doc = json!({"a": {"b": [10, {"c": true}]}});
        assert_eq!(Path::parse("a.b[1].c").unwrap().get(&doc), Some(&json!(true)));
        assert_eq!(Path::parse("a.b[5]").unwrap().get(&doc), None);
    }

    #[test]
    fn comparisons_follow_json_types() {
        let doc = json!({"n": 3, "f": 2.5, "s": "beta", "t": true, "z": null, "l": ["x", 2]});
        assert!(m("n == 3", doc.clone()) && m("n == 3.0", doc.clone()) && m("n = 3", doc.clone()));
        assert!(m("n > 2.5", doc.clone()) && m("f < 3", doc.clone()) && m("n >= 3", doc.clone()));
        assert!(!m("n == '3'", doc.clone()), "a string never equals a number");
        assert!(!m("s > 1", doc.clone()), "ordering across types never matches");
        assert!(m("s > alpha", doc.clone()) && m("s < 'gamma'", doc.clone()));
        assert!(
            m("s contains et", doc.clone())
                && m("l contains 2", doc.clone())
                && m("l contains x", doc.clone())
        );
        assert!(m("t == true", doc.clone()) && m("z == null", doc.clone()));
        assert!(m("missing != 1", doc.clone()) && !m("missing == 1", doc.clone()));
        assert!(m("exists(z)", doc.clone()) && !m("exists(missing)", doc.clone()));
        assert!(m("l[1] == 2", doc.clone()));
    }

    #[test]
    fn negative_zero_equals_zero() {
        let doc = json!({"z": -0.0, "i": 0});
        assert!(m("z == 0", doc.clone()) && m("z >= 0", doc.clone()) && !m("z < 0", doc.clone()));
        assert!(m("i == -0.0", doc.clone()) && !m("i > -0.0", doc.clone()));
    }

    #[test]
    fn precedence_and_grouping() {
        let doc = json!({"a": 1, "b": 2});
        assert!(m("a == 1 or a == 9 and b == 9", doc.clone()), "and binds tighter than or");
        assert!(!m("(a == 1 or a == 9) and b == 9", doc.clone()));
        assert!(m("not a == 2 and not (b == 3)", doc.clone()));
        assert!(m("A == 1 OR b == 5", json!({"A": 1})), "keywords are case-insensitive");
    }

    #[test]
    fn barewords_numbers_and_ids() {
        assert!(m("id == 019a-uuid", json!({"id": "019a-uuid"})));
        assert!(m("v == -4", json!({"v": -4})));
        assert!(m("v == 1e3", json!({"v": 1000})));
        assert!(m("name == \"say \\\"hi\\\"\"", json!({"name": "say \"hi\""})));
        assert!(m("name == 'Alpha One'", json!({"name": "Alpha One"})));
    }

    #[test]
    fn in_is_any_of_its_values() {
        let doc = json!({"id": "u2", "n": 3});
        assert!(m("id in (u1, u2)", doc.clone()));
        assert!(m("n in (1, 3)", doc.clone()));
        assert!(!m("id in ('u3')", doc.clone()));
        assert!(m("id in (u1, u2) and n == 3", doc));
        assert!(Query::parse("id in (u1 u2)").unwrap_err().message.contains("expected ',' or ')'"));
        assert!(Query::parse("id in u1").is_err());
    }

    #[test]
    fn geo_functions() {
        let stockholm = json!({"pos": {"lat": 59.3293, "lon": 18.0686}});
        assert!(m("within(59.33, 18.07, 500)", stockholm.clone()));
        assert!(!m("within(59.33, 18.07, 10)", stockholm.clone()));
        assert!(m("bbox(59, 18, 60, 19)", stockholm.clone()));
        assert!(!m("bbox(50, 18, 55, 19)", stockholm));
        assert!(m("bbox(-10, 170, 10, -170)", json!({"lat": 0, "lon": 179.5})), "crosses the antimeridian");
        assert!(!m("within(0, 0, 1000)", json!({"name": "nowhere"})));
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases = [
            ("speed >", 8, "expected a value"),
            ("speed 3", 7, "expected an operator"),
            ("a == 1 and", 11, "expected a condition"),
            ("(a == 1", 8, "expected ')'"),
            ("a == 1 b", 8, "unexpected 'b'"),
            ("a ! 1", 3, "expected '!='"),
            ("name == 'x", 9, "unclosed string"),
            ("near(1,2)", 1, "unknown function"),
            ("within(91, 0, 1)", 1, "latitude"),
            ("within(1, x, 1)", 11, "expected a number"),
            ("a..b == 1", 1, "malformed field name"),
        ];
        for (src, col, msg) in cases {
            let e = Query::parse(src).unwrap_err();
            assert_eq!(e.column, col, "{src}: {e}");
            assert!(e.message.contains(msg), "{src}: {e}");
        }
        assert_eq!(Query::parse("a >").unwrap_err().render("a >"), "  a >\n     ^");
        let deep = format!("{}a == 1{}", "(".repeat(100), ")".repeat(100));
        assert!(Query::parse(&deep).unwrap_err().message.contains("nested deeper"));
    }

    #[test]
    fn order_puts_missing_last_and_types_apart() {
        let (one, two, s) = (json!(1), json!(2.5), json!("a"));
        assert_eq!(compare_values(Some(&one), Some(&two)), Ordering::Less);
        assert_eq!(compare_values(Some(&s), Some(&one)), Ordering::Greater);
        assert_eq!(compare_values(None, Some(&one)), Ordering::Greater);
    }

    #[test]
    fn queries_survive_serde() {
        let q = Query::parse("a.b[0] > 1 and not exists(c) or within(1, 2, 3)").unwrap();
        let back: Query = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
        assert_eq!(back, q);
        assert!(serde_json::from_str::<Query>(r#"{"exists":"a..b"}"#).is_err());
    }
}
