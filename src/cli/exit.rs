//! Exit status (DESIGN.md §6): the one place where an outcome becomes the number scripts
//! branch on.

use std::process::ExitCode;

use crate::sync::{Error, ErrorKind};

/// How a command ended, as scripts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It did what was asked (also: stdout was closed early, as by `| head`).
    Success,
    /// Failure, timeout, or no peer reachable.
    Failure,
    /// Usage error or malformed input.
    Usage,
    /// What was named does not exist.
    NotFound,
    /// Refused: authentication, formation mismatch, a lock held by another user.
    Refused,
    /// Ctrl-C.
    Interrupted,
    /// A bug (a panic): one line on stderr says where.
    Internal,
}

impl ExitStatus {
    /// Every status with its code and meaning, for `--help` and the man pages.
    pub const ALL: [ExitStatus; 7] = [
        ExitStatus::Success,
        ExitStatus::Failure,
        ExitStatus::Usage,
        ExitStatus::NotFound,
        ExitStatus::Refused,
        ExitStatus::Interrupted,
        ExitStatus::Internal,
    ];

    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::NotFound => 3,
            ExitStatus::Refused => 4,
            ExitStatus::Interrupted => 130,
            ExitStatus::Internal => 101,
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::Failure => "failure, timeout, or no peer reachable",
            ExitStatus::Usage => "usage error or malformed input (bad JSON, id, expression or flag)",
            ExitStatus::NotFound => "not found",
            ExitStatus::Refused => "refused (authentication, formation mismatch, lock held by another user)",
            ExitStatus::Interrupted => "interrupted (Ctrl-C)",
            ExitStatus::Internal => "internal error: a bug, reported in one line on stderr",
        }
    }

    /// The status of an error raised anywhere in a command.
    pub fn of(err: &anyhow::Error) -> Self {
        if is_broken_pipe(err) {
            return ExitStatus::Success;
        }
        match err.downcast_ref::<Error>().map(|e| e.kind) {
            Some(ErrorKind::Invalid) => ExitStatus::Usage,
            Some(ErrorKind::NotFound) => ExitStatus::NotFound,
            Some(ErrorKind::Refused) => ExitStatus::Refused,
            Some(ErrorKind::Interrupted) => ExitStatus::Interrupted,
            Some(ErrorKind::Timeout | ErrorKind::Failed) | None => ExitStatus::Failure,
        }
    }

    /// Ends a command: prints the error (if it deserves a message) and gives the exit code.
    /// A closed stdout and Ctrl-C end quietly.
    pub fn report(result: anyhow::Result<()>) -> ExitCode {
        let status = match &result {
            Ok(()) => ExitStatus::Success,
            Err(e) => ExitStatus::of(e),
        };
        if let Err(e) = result
            && !matches!(status, ExitStatus::Success | ExitStatus::Interrupted)
        {
            eprintln!("peat: error: {e:#}");
        }
        ExitCode::from(status.code())
    }
}

/// Makes a panic print one line (`peat: internal error: ...`), never a backtrace; one on the
/// main thread ends the command with [`ExitStatus::Internal`]. Panics caught at the store boundary (a damaged file) stay
/// quiet: they become ordinary errors.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if crate::sync::error::panic_is_caught() {
            return;
        }
        let message = crate::sync::error::panic_message(info.payload());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("peat: internal error: {message}{at} (a bug; please report it)");
    }));
}

/// The environment variables peat reads.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("PEAT_DIR", "persistence directory (same as --dir)"),
    ("NO_COLOR", "disable colours in tables and logs"),
    ("RUST_LOG", "log filter for stderr logging (e.g. peat=debug)"),
];

/// The exit-code and environment tables as `--help` text.
pub fn help_text() -> String {
    let mut text = String::from("Exit codes:\n");
    for status in ExitStatus::ALL {
        text += &format!("  {:<4} {}\n", status.code(), status.meaning());
    }
    text += "\nEnvironment:\n";
    for (name, meaning) in ENVIRONMENT {
        text += &format!("  {name:<10} {meaning}\n");
    }
    text.trim_end().to_string()
}

/// Whether an error is a closed stdout (`peat query | head`): exit quietly then.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_documented_codes() {
        let code = |e: anyhow::Error| ExitStatus::of(&e).code();
        assert_eq!(code(Error::invalid("x").into()), 2);
        assert_eq!(code(Error::not_found("x").into()), 3);
        assert_eq!(code(Error::refused("x").into()), 4);
        assert_eq!(code(Error::timeout("x").into()), 1);
        assert_eq!(code(Error::interrupted().into()), 130);
        assert_eq!(code(anyhow::anyhow!("other")), 1);
        let pipe: anyhow::Error = std::io::Error::from(std::io::ErrorKind::BrokenPipe).into();
        assert_eq!(code(pipe.context("writing")), 0);
    }
}
