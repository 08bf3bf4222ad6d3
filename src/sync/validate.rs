//! Rules for collection names and document ids: printable, bounded, no path tricks.

/// Longest collection name, in bytes.
pub const MAX_COLLECTION_LEN: usize = 64;
/// Longest document id, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// Checks a collection name: ASCII letters, digits, `_`, `-`, `.`, not starting with `.` or `-`.
pub fn collection(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("collection name is empty".into());
    }
    if name.len() > MAX_COLLECTION_LEN {
        return Err(format!("collection name is longer than {MAX_COLLECTION_LEN} bytes"));
    }
    if name.starts_with(['.', '-']) {
        return Err(format!("collection name '{name}' must not start with '.' or '-'"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(format!("collection name {name:?} has {c:?}; use letters, digits, '_', '-' and '.'"));
    }
    Ok(())
}

/// Checks a document id: printable, no slashes, not `.` or `..`, no surrounding spaces.
pub fn id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("document id is empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!("document id is longer than {MAX_ID_LEN} bytes"));
    }
    if id == "." || id == ".." {
        return Err(format!("document id '{id}' is not allowed"));
    }
    if id.trim() != id {
        return Err(format!("document id {id:?} has leading or trailing whitespace"));
    }
    if let Some(c) = id.chars().find(|c| c.is_control() || matches!(c, '/' | '\\')) {
        return Err(format!("document id {id:?} has the character {c:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections() {
        for ok in ["units", "a", "track_2", "x.y-z", "A9"] {
            assert!(collection(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "-x", "a/b", "../etc", "a b", "ü", &"c".repeat(65)] {
            assert!(collection(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids() {
        for ok in ["1", "unit-7", "Alpha 1", "ü", "019a-uuid", "a.b"] {
            assert!(id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", " x", "x\n", "\u{7}", &"i".repeat(257)] {
            assert!(id(bad).is_err(), "{bad:?}");
        }
    }
}
