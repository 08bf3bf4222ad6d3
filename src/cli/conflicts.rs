//! How `get --conflicts` and `query --conflicts` show concurrent values: in JSON each
//! document carries `_conflicts`; for people a second table lists every value per field.

use serde_json::Value;

use super::Printer;
use super::printer::cell;
use super::table::Grid;
use crate::sync::Document;

/// The JSON key that carries a document's conflicts. Output only: upsert refuses it, so
/// feeding the output back cannot store it.
pub const CONFLICTS_FIELD: &str = "_conflicts";

/// `json` (a document's output form) with its conflicts, when it has any.
pub fn attach(mut json: Value, doc: &Document) -> Value {
    if let (Value::Object(map), false) = (&mut json, doc.conflicts.is_empty()) {
        map.insert(CONFLICTS_FIELD.into(), serde_json::to_value(&doc.conflicts).unwrap_or(Value::Null));
    }
    json
}

/// For people: one row per concurrent value (the winner first), and why it won; or a note
/// that no field has concurrent values.
pub fn print_table(printer: &Printer, docs: &[Document]) -> std::io::Result<()> {
    let header = ["id", "path", "value", "node", "won", "op"].map(String::from).to_vec();
    let mut grid = Grid::new(Some(header)).whole(0).whole(3);
    let mut why = None;
    for doc in docs {
        for conflict in &doc.conflicts {
            for value in &conflict.values {
                let won = if value.winner { "yes" } else { "no" };
                grid.row(vec![
                    doc.id.clone(),
                    conflict.path.clone(),
                    cell(&value.value),
                    value.node.clone(),
                    won.into(),
                    value.op.clone(),
                ]);
            }
            why.get_or_insert_with(|| conflict.why.clone());
        }
    }
    match why {
        Some(why) => {
            printer.grid(grid)?;
            printer.note(why);
        }
        None => printer.note("no field has concurrent values"),
    }
    Ok(())
}
