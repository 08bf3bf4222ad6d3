//! Exit codes (DESIGN.md §6): how a failure maps to the number scripts branch on.

use crate::sync::{Error, ErrorKind};

/// The exit codes scripts can branch on, shown in `peat --help` and the man pages.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (0, "success"),
    (1, "failure, timeout, or no peer reachable"),
    (2, "usage error or malformed input (bad JSON, id, expression or flag)"),
    (3, "not found"),
    (4, "refused (authentication, formation mismatch, lock held by another user)"),
    (130, "interrupted (Ctrl-C)"),
];

/// The environment variables peat reads.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("PEAT_DIR", "persistence directory (same as --dir)"),
    ("NO_COLOR", "disable colours in tables and logs"),
    ("RUST_LOG", "log filter for stderr logging (e.g. peat=debug)"),
];

/// The exit-code and environment tables as `--help` text.
pub fn help_text() -> String {
    let mut text = String::from("Exit codes:\n");
    for (code, meaning) in EXIT_CODES {
        text += &format!("  {code:<4} {meaning}\n");
    }
    text += "\nEnvironment:\n";
    for (name, meaning) in ENVIRONMENT {
        text += &format!("  {name:<10} {meaning}\n");
    }
    text.trim_end().to_string()
}

/// The exit code for an error raised anywhere in a command.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    match err.downcast_ref::<Error>().map(|e| e.kind) {
        Some(ErrorKind::Invalid) => 2,
        Some(ErrorKind::NotFound) => 3,
        Some(ErrorKind::Refused) => 4,
        Some(ErrorKind::Interrupted) => 130,
        Some(ErrorKind::Timeout | ErrorKind::Failed) | None => 1,
    }
}

/// Whether the user interrupted: exit 130 without an error message.
pub fn is_interrupted(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Error>().is_some_and(|e| e.kind == ErrorKind::Interrupted)
}

/// Whether an error is a closed stdout (`peat query | head`): exit quietly then.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_documented_codes() {
        assert_eq!(exit_code(&Error::invalid("x").into()), 2);
        assert_eq!(exit_code(&Error::not_found("x").into()), 3);
        assert_eq!(exit_code(&Error::refused("x").into()), 4);
        assert_eq!(exit_code(&Error::timeout("x").into()), 1);
        assert_eq!(exit_code(&anyhow::anyhow!("other")), 1);
        let pipe: anyhow::Error = std::io::Error::from(std::io::ErrorKind::BrokenPipe).into();
        assert!(is_broken_pipe(&pipe.context("writing")));
    }
}
