//! The clap definition and what is made from it: `--help`, completions and man pages. Checks
//! that concern every command walk the command tree of `Cli::command_with_tables()`, so a new
//! subcommand is covered without being listed here. The committed completions and man pages
//! are exactly what the CLI generates, so they can never drift from it. After changing a
//! command or flag, run:
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
fn clap_debug_assert_passes_on_the_full_command_definition() {
    peat::cli::Cli::command_with_tables().debug_assert();
}

/// Every visible subcommand at every depth, as the words that follow `peat`, walked from
/// the clap definition itself (hidden commands and clap's generated `help` left out), so a
/// new command is checked without anyone listing it here.
fn visible_subcommands() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let path = [path, &[sub.get_name().to_string()]].concat();
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&peat::cli::Cli::command_with_tables(), &[], &mut out);
    assert!(out.iter().any(|p| p.len() > 1), "the walk reaches nested subcommands: {out:?}");
    out
}

#[test]
fn help_documents_exit_codes_and_environment() {
    let node = Node::new();
    node.peat(&["--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:").and(predicate::str::contains("PEAT_DIR")));
}

#[test]
fn every_visible_subcommand_help_has_a_summary_a_description_and_an_example() {
    let node = Node::new();
    for path in visible_subcommands() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let short = node.ok(&[&args[..], &["-h"]].concat());
        let long = node.ok(&[&args[..], &["--help"]].concat());
        assert!(short.lines().next().is_some_and(|l| !l.trim().is_empty()), "{args:?}: no summary");
        assert!(long.len() > short.len(), "{args:?}: no longer description");
        assert!(long.contains("Examples:\n  peat "), "{args:?}: no example");
        // What `--help` says above "Usage:" goes beyond the one-line summary of `-h`.
        let intro = |help: &str| help.split("\nUsage:").next().unwrap().trim().to_string();
        let described = intro(&long).len() > intro(&short).len();
        assert!(described, "{args:?}: --help has no description beyond the summary:\n{long}");
    }
}

/// Whether `word` occurs in `text` on its own, not as part of a longer name.
fn mentions(text: &str, word: &str) -> bool {
    let part_of_a_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(part_of_a_name)
            && !text[at + word.len()..].chars().next().is_some_and(part_of_a_name)
    })
}

#[test]
fn committed_completions_mention_every_visible_subcommand() {
    let scripts = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("completions"));
    assert!(!scripts.is_empty(), "completions/ holds the committed scripts");
    for path in visible_subcommands() {
        let name = path.last().unwrap();
        for (file, script) in &scripts {
            assert!(mentions(script, name), "completions/{file} does not complete `peat {}`", path.join(" "));
        }
    }
}

#[test]
fn mentions_finds_whole_names_only() {
    assert!(mentions("opts=\"start stop status\"", "stop"));
    assert!(mentions("'peat;sync;start'", "start"));
    assert!(!mentions("restart starts start-up", "start"));
}
