//! `peat query`: find documents.

use serde_json::{Map, Value};

use super::{Context, conflicts, hints};
use crate::sync::{
    Deleted, Document, Error, Path, Plan, Query, QueryEvent, QueryRequest, QueryStream, validate,
};

/// Find documents
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Find documents in a collection.\n\n\
--where takes an expression (repeat it to AND several):\n  \
path op value       op: == != < <= > >= contains\n  \
path in (v1, v2)    any of the values\n  \
exists(path)        within(lat, lon, meters)        bbox(minlat, minlon, maxlat, maxlon)\n  \
not, and, or, ( )   values: numbers, \"strings\", 'strings', true, false, null, barewords\n\
Paths are fields (a.b, list[0]); id is the document id. Comparisons follow JSON types: numbers \
numerically, strings lexically, mixed types never match. Positions for within/bbox are the \
fields lat and lon, at the top or inside location, position or pos.\n\n\
On a terminal the table fits its width (long cells end in …; --wide shows them whole) and shows \
the first 100 documents, saying how many more there are (--limit 0 shows all). When nothing \
matches, stderr says if the collection does not exist (naming the closest ones) or if no \
document has a field that --where names.\n\n\
Results stream as they are read (memory stays bounded however many match). `id == X` and \
`id in (X, Y)` are key lookups, not scans; --order-by with --limit keeps only the best N while \
reading. --explain says how a query will run.",
    after_help = "Examples:\n  \
peat query units\n  \
peat query units --where 'speed > 3' --where 'name contains Al' --order-by speed --desc\n  \
peat query units --where 'within(59.33, 18.06, 500)' --fields name,pos.lat\n  \
peat query units --where 'status == active or exists(alert)' --count\n  \
peat query units --conflicts -o json\n  \
peat query units --deleted-only --output ndjson\n  \
peat query units --where 'id in (u1, u2)' --explain"
)]
pub struct Args {
    /// Collection to search
    #[arg(add = clap_complete::ArgValueCompleter::new(super::complete::collections))]
    pub collection: String,
    /// Filter expression (repeatable; all must hold)
    #[arg(long = "where", short = 'w', value_name = "EXPR", add = clap_complete::ArgValueCompleter::new(super::complete::where_paths))]
    pub filters: Vec<String>,
    /// Return at most N documents (0: all; on a terminal the default is the first 100)
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
    /// Sort by this path (missing values last)
    #[arg(long, value_name = "PATH", add = clap_complete::ArgValueCompleter::new(super::complete::paths))]
    pub order_by: Option<String>,
    /// Sort descending
    #[arg(long, requires = "order_by")]
    pub desc: bool,
    /// Print only these paths, as columns in this order (comma-separated; id is always kept)
    #[arg(long, value_name = "PATHS", value_delimiter = ',', add = clap_complete::ArgValueCompleter::new(super::complete::paths))]
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
    /// Show fields that concurrent writes left with several values: every value, and which won
    #[arg(long, conflicts_with = "count")]
    pub conflicts: bool,
    /// Print how the query would run (key lookup or scan, how it orders) instead of running it
    #[arg(long)]
    pub explain: bool,
}

/// Rows a query shows on a terminal unless `--limit` says otherwise.
const TERMINAL_ROWS: usize = 100;

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    validate::collection(&args.collection).map_err(Error::invalid)?;
    let mut request = request(&args)?;
    let fields = args.fields.iter().map(|f| parse_path("--fields", f)).collect::<Result<Vec<_>, _>>()?;
    // A person at a terminal gets a page, not 50,000 rows scrolling by.
    let paged = args.limit.is_none() && !args.count && ctx.printer.to_terminal();
    if paged {
        request.limit = Some(TERMINAL_ROWS);
    }
    let backend = ctx.reader().await?;
    if args.explain {
        let indexes = backend.document_store().indexes(Some(&args.collection)).await;
        ctx.close(backend).await?;
        return explain(ctx, &request, &indexes?);
    }
    let store = backend.document_store();
    let found = if args.count {
        let n = store.count(&args.collection, &request).await?;
        ctx.printer.line(n)?;
        n
    } else {
        let stream = store.query(&args.collection, &request).await?;
        write_results(ctx, stream, &fields).await?
    };
    let hints = if found == 0 {
        hints::for_nothing_found(store, &args.collection, &request.filter).await?
    } else {
        Vec::new()
    };
    let total = if paged && found == TERMINAL_ROWS as u64 {
        Some(store.count(&args.collection, &request).await?)
    } else {
        None
    };
    ctx.close(backend).await?;
    if let Some(total) = total.filter(|n| *n > TERMINAL_ROWS as u64) {
        ctx.printer.note(format!(
            "showing the first {TERMINAL_ROWS} of {total} documents; {} more with --limit 0 (or pipe the output)",
            total - TERMINAL_ROWS as u64
        ));
    }
    hints.iter().for_each(|h| ctx.printer.note(h));
    Ok(())
}

/// Writes the documents as they arrive, handing them to stdout whenever none is waiting;
/// returns how many there were. With `--conflicts` on a terminal, the conflicting fields
/// follow in a table of their own (only documents that have some are kept for it).
async fn write_results(ctx: &Context, mut stream: QueryStream, fields: &[Path]) -> anyhow::Result<u64> {
    let mut out = ctx.printer.document_writer(fields.iter().map(ToString::to_string).collect());
    let for_people = ctx.printer.for_people();
    let mut conflicting: Vec<Document> = Vec::new();
    loop {
        let event = match stream.try_next() {
            Some(event) => event,
            None => {
                out.flush()?;
                stream.next().await.ok_or_else(|| Error::failed("the query's results were cut short"))?
            }
        };
        match event {
            QueryEvent::Doc(doc) if for_people => {
                out.item(project(doc.to_json(), fields))?;
                if !doc.conflicts.is_empty() {
                    conflicting.push(doc);
                }
            }
            QueryEvent::Doc(doc) => out.item(conflicts::attach(project(doc.to_json(), fields), &doc))?,
            QueryEvent::End { .. } => break,
            QueryEvent::Failed(e) => return Err(e.into()),
        }
    }
    let n = out.written() as u64;
    out.finish()?;
    if !conflicting.is_empty() {
        conflicts::print_table(&ctx.printer, &conflicting)?;
    }
    Ok(n)
}

/// Prints how the query would run over a collection with these indexes, without running it.
fn explain(ctx: &Context, request: &QueryRequest, indexes: &[crate::sync::IndexInfo]) -> anyhow::Result<()> {
    let paths =
        indexes.iter().map(|i| i.path.parse()).collect::<Result<Vec<Path>, _>>().map_err(Error::failed)?;
    let plan = Plan::with_indexes(request, &paths);
    if ctx.printer.for_people() {
        ctx.printer.line(&plan)?;
    } else {
        ctx.printer.record(
            &serde_json::json!({"plan": plan.to_string(), "access": plan.access, "ordering": plan.ordering}),
        )?;
    }
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
        // --limit 0: every document.
        limit: args.limit.filter(|n| *n > 0),
        deleted,
        conflicts: args.conflicts,
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
