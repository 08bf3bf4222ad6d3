//! The committed completions and man pages are exactly what the CLI generates, so they can
//! never drift from it. After changing a command or flag, run:
//!     cargo run -- generate --out .

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::Node;
use predicates::prelude::*;

fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect()
}

#[test]
fn committed_completions_and_man_pages_match_the_cli() {
    let out = tempfile::tempdir().unwrap();
    let node = Node::new();
    node.ok(&["generate", "--out", out.path().to_str().unwrap()]);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["completions", "man"] {
        let (fresh, committed) = (files(&out.path().join(dir)), files(&repo.join(dir)));
        assert_eq!(
            fresh.keys().collect::<Vec<_>>(),
            committed.keys().collect::<Vec<_>>(),
            "{dir}/ holds other files than the CLI generates; run `cargo run -- generate --out .`"
        );
        for (name, text) in &fresh {
            assert!(committed[name] == *text, "{dir}/{name} is stale; run `cargo run -- generate --out .`");
        }
    }
    assert!(files(&repo.join("man")).contains_key("peat-sync-start.1"), "one page per subcommand");
}

#[test]
fn man_pages_document_exit_codes_environment_and_examples_and_render_cleanly() {
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for (name, text) in files(&man) {
        for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", "PEAT_DIR", "NO_COLOR", "RUST_LOG"] {
            assert!(text.contains(section), "{name} lacks {section}");
        }
        assert!(text.contains(".SH EXAMPLES"), "{name} lacks examples");
    }
    // Rendering warnings come from groff through man; only checkable where man is installed.
    if std::process::Command::new("man").arg("--version").output().is_ok() {
        for name in files(&man).keys() {
            let out = std::process::Command::new("man")
                .env("MANWIDTH", "80")
                .arg("-l")
                .arg(man.join(name))
                .output()
                .unwrap();
            assert!(out.status.success(), "man -l {name} failed");
            assert_eq!(String::from_utf8_lossy(&out.stderr), "", "man -l {name} warns");
        }
    }
}

#[test]
fn completions_print_a_script_per_shell_and_refuse_an_unknown_shell() {
    let node = Node::new();
    for (shell, marker) in [
        ("bash", "_peat()"),
        ("zsh", "#compdef peat"),
        ("fish", "complete -c peat"),
        ("elvish", "peat"),
        ("powershell", "peat"),
    ] {
        node.peat(&["completions", shell]).assert().success().stdout(predicate::str::contains(marker));
    }
    node.peat(&["completions", "tcsh"]).assert().code(2);
}

#[test]
fn every_subcommand_help_has_a_summary_a_description_and_an_example() {
    let node = Node::new();
    let commands: &[&[&str]] = &[
        &["init"],
        &["upsert"],
        &["query"],
        &["remove"],
        &["status"],
        &["watch"],
        &["sync"],
        &["sync", "start"],
        &["sync", "stop"],
        &["sync", "status"],
        &["sync", "wait"],
        &["completions"],
    ];
    for args in commands {
        let short = node.ok(&[*args, &["-h"]].concat());
        let long = node.ok(&[*args, &["--help"]].concat());
        assert!(short.lines().next().is_some_and(|l| !l.trim().is_empty()), "{args:?}: no summary");
        assert!(long.len() > short.len(), "{args:?}: no longer description");
        assert!(long.contains("Examples:\n  peat "), "{args:?}: no example");
    }
}
