//! Hints for a query that found nothing, on stderr (the results stay as they are): a
//! collection that does not exist, with the existing ones closest first, and `--where` paths
//! that no document in the collection has. Checked only when nothing matched, so a query that
//! finds something costs no more.

use crate::sync::{DocumentStore, ID_FIELD, Query, QueryRequest, Result};

/// How many existing collections a hint names.
const SUGGESTIONS: usize = 5;

/// The hints for a query of `collection` with `filter` that matched nothing.
pub async fn for_nothing_found(
    store: &dyn DocumentStore,
    collection: &str,
    filter: &Query,
) -> Result<Vec<String>> {
    let collections = store.collections().await?;
    if !collections.iter().any(|c| c.name == collection) {
        return Ok(vec![unknown_collection(collection, collections.iter().map(|c| c.name.as_str()))]);
    }
    let mut hints = Vec::new();
    let mut checked = Vec::new();
    for path in filter.paths() {
        let name = path.to_string();
        if name == ID_FIELD || checked.contains(&name) {
            continue;
        }
        let has = QueryRequest::matching(Query::Exists(path.clone()));
        if store.count(collection, &has).await? == 0 {
            hints.push(format!("no document in '{collection}' has a field '{name}'"));
        }
        checked.push(name);
    }
    Ok(hints)
}

/// "no collection 'unit' (collections: units, users)", the closest names first.
fn unknown_collection<'a>(collection: &str, existing: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = existing.collect();
    if names.is_empty() {
        return format!("no collection '{collection}': this node holds no documents yet");
    }
    names.sort_by_key(|name| (distance(collection, name), *name));
    let shown: Vec<&str> = names.iter().take(SUGGESTIONS).copied().collect();
    let more = names.len().saturating_sub(SUGGESTIONS);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    format!("no collection '{collection}' (collections: {}{more})", shown.join(", "))
}

/// The Levenshtein distance between two names, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb)).min(row[j] + 1).min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_collections_come_first() {
        assert_eq!(distance("unit", "units"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(
            unknown_collection("unit", ["alerts", "units", "users"].into_iter()),
            "no collection 'unit' (collections: units, users, alerts)"
        );
    }
}
