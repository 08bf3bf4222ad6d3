//! `peat query`: find documents.

use serde_json::{Map, Value};

use super::Context;
use crate::sync::{Deleted, Error, Path, Query, QueryRequest, validate};

/// Find documents
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Find documents in a collection.\n\n\
--where takes an expression (repeat it to AND several):\n  \
path op value       op: == != < <= > >= contains\n  \
exists(path)        within(lat, lon, meters)        bbox(minlat, minlon, maxlat, maxlon)\n  \
not, and, or, ( )   values: numbers, \"strings\", 'strings', true, false, null, barewords\n\
Paths are fields (a.b, list[0]); id is the document id. Comparisons follow JSON types: numbers \
numerically, strings lexically, mixed types never match. Positions for within/bbox are the \
fields lat and lon, at the top or inside location, position or pos.",
    after_help = "Examples:\n  \
peat query units\n  \
peat query units --where 'speed > 3' --where 'name contains Al' --order-by speed --desc\n  \
peat query units --where 'within(59.33, 18.06, 500)' --fields name,pos.lat\n  \
peat query units --where 'status == active or exists(alert)' --count\n  \
peat query units --deleted-only --output ndjson"
)]
pub struct Args {
    /// Collection to search
    pub collection: String,
    /// Filter expression (repeatable; all must hold)
    #[arg(long = "where", short = 'w', value_name = "EXPR")]
    pub filters: Vec<String>,
    /// Return at most N documents
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
    /// Sort by this path (missing values last)
    #[arg(long, value_name = "PATH")]
    pub order_by: Option<String>,
    /// Sort descending
    #[arg(long, requires = "order_by")]
    pub desc: bool,
    /// Print only these paths (comma-separated; id is always kept)
    #[arg(long, value_name = "PATHS", value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Print only the number of matches
    #[arg(long, conflicts_with_all = ["limit", "order_by", "fields"])]
    pub count: bool,
    /// Include removed documents (marked "_deleted": true)
    #[arg(long, conflicts_with = "deleted_only")]
    pub include_deleted: bool,
    /// Only removed documents
    #[arg(long)]
    pub deleted_only: bool,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    validate::collection(&args.collection).map_err(Error::invalid)?;
    let request = request(&args)?;
    let fields = args.fields.iter().map(|f| parse_path("--fields", f)).collect::<Result<Vec<_>, _>>()?;
    let backend = ctx.backend().await?;
    let store = backend.document_store();
    if args.count {
        let n = store.count(&args.collection, &request).await?;
        backend.shutdown().await?;
        ctx.printer.line(n)?;
        return Ok(());
    }
    let docs = store.query(&args.collection, &request).await?;
    backend.shutdown().await?;
    let items: Vec<Value> = docs.iter().map(|d| project(d.to_json(), &fields)).collect();
    ctx.printer.list(&items)?;
    Ok(())
}

/// The query request the flags describe.
pub fn request(args: &Args) -> Result<QueryRequest, Error> {
    let mut filter = Query::All;
    for src in &args.filters {
        filter = filter.and(parse_filter(src)?);
    }
    let deleted = match (args.include_deleted, args.deleted_only) {
        (_, true) => Deleted::Only,
        (true, false) => Deleted::Include,
        _ => Deleted::Hide,
    };
    Ok(QueryRequest {
        filter,
        order_by: args.order_by.as_deref().map(|p| parse_path("--order-by", p)).transpose()?,
        descending: args.desc,
        limit: args.limit,
        deleted,
    })
}

/// Parses a `--where` expression; the error shows where it went wrong.
pub fn parse_filter(src: &str) -> Result<Query, Error> {
    Query::parse(src).map_err(|e| Error::invalid(format!("--where: {e}\n{}", e.render(src))))
}

fn parse_path(flag: &str, src: &str) -> Result<Path, Error> {
    Path::parse(src.trim()).map_err(|e| Error::invalid(format!("{flag} {src:?}: {e}")))
}

/// Keeps only `fields` of a document (plus id), keyed by the path as written.
fn project(doc: Value, fields: &[Path]) -> Value {
    if fields.is_empty() {
        return doc;
    }
    let mut out = Map::new();
    out.insert("id".into(), doc.get("id").cloned().unwrap_or(Value::Null));
    for path in fields {
        if let Some(v) = path.get(&doc) {
            out.insert(path.to_string(), v.clone());
        }
    }
    Value::Object(out)
}
