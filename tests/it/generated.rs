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
        ("bash", "_clap_complete_peat()"),
        ("zsh", "#compdef peat"),
        ("fish", "--command peat"),
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

/// What `peat` offers for the last of `words` (empty: a new word), asked the way the
/// completion scripts ask it.
pub fn offered(node: &Node, words: &[&str]) -> Vec<String> {
    let index = words.len().to_string();
    let out = node
        .peat(&[&["--", "peat"][..], words].concat())
        .env("PEAT_COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", &index)
        .env("_CLAP_IFS", "\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect()
}

#[test]
fn completion_offers_every_visible_subcommand_and_no_hidden_one() {
    let node = Node::new();
    for path in visible_subcommands() {
        let (name, parents) = path.split_last().unwrap();
        let words: Vec<&str> = parents.iter().map(String::as_str).chain([""]).collect();
        let offered = offered(&node, &words);
        assert!(offered.contains(name), "`peat {}` is not offered: {offered:?}", path.join(" "));
    }
    assert!(!offered(&node, &[""]).contains(&"generate".to_string()), "hidden commands are not offered");
}

/// Runs the installed bash completion function in a real bash, as readline would call it
/// for the command line `words` (the last is the word being completed), and returns
/// COMPREPLY without the flags (offered beside values when the word is empty).
fn bash_complete(node: &Node, script: &Path, env: &[(&str, &str)], words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let line = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; \
         _clap_complete_peat peat \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_peat")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &line])
        .env_clear()
        .env("PATH", path)
        .env("HOME", node.dir.parent().unwrap())
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
    let reply = String::from_utf8(out.stdout).unwrap();
    reply.lines().filter(|l| !l.is_empty() && !l.starts_with('-')).map(String::from).collect()
}

#[test]
fn installed_bash_completion_offers_the_directory_s_collections_peers_and_paths_but_no_hidden_command() {
    let node = Node::new();
    node.ok(&["upsert", "units", "u1", "--set", "speed=1", "--set", "pos.lat=2"]);
    node.ok(&["upsert", "vehicles", "v1", "--set", "x=1"]);
    let peer = "a".repeat(64);
    node.ok(&["peers", "add", &format!("{peer}@127.0.0.1:9")]);
    node.ok(&["completions", "bash", "--install"]);
    let script = node.dir.parent().unwrap().join(".local/share/bash-completion/completions/peat");
    assert!(script.is_file(), "installed where bash-completion looks");
    let dir = node.dir.to_str().unwrap();

    let commands = bash_complete(&node, &script, &[], &["peat", ""]);
    assert!(
        commands.contains(&"history".to_string()) && commands.contains(&"query".to_string()),
        "{commands:?}"
    );
    assert!(!commands.contains(&"generate".to_string()), "no hidden command: {commands:?}");
    assert_eq!(
        bash_complete(&node, &script, &[], &["peat", "--dir", dir, "query", ""]),
        ["units", "vehicles"]
    );
    assert_eq!(bash_complete(&node, &script, &[("PEAT_DIR", dir)], &["peat", "get", "ve"]), ["vehicles"]);
    assert_eq!(bash_complete(&node, &script, &[], &["peat", "--dir", dir, "peers", "remove", ""]), [peer]);
    let order_by =
        bash_complete(&node, &script, &[], &["peat", "--dir", dir, "query", "units", "--order-by", ""]);
    assert_eq!(order_by, ["pos", "pos.lat", "speed"]);
    let fields =
        bash_complete(&node, &script, &[], &["peat", "--dir", dir, "query", "units", "--fields", "speed,po"]);
    assert_eq!(fields, ["speed,pos", "speed,pos.lat"]);
    let filter =
        bash_complete(&node, &script, &[], &["peat", "--dir", dir, "query", "units", "--where", "sp"]);
    assert_eq!(filter, ["speed"]);

    // A directory without a node offers nothing and is not created.
    let missing = node.dir.parent().unwrap().join("missing");
    let none = bash_complete(&node, &script, &[], &["peat", "--dir", missing.to_str().unwrap(), "query", ""]);
    assert!(none.is_empty(), "{none:?}");
    assert!(!missing.exists(), "completion created {}", missing.display());
}

/// Asks a real fish, with the installed completion loaded, what it offers for `line`;
/// returns the values (flags left out). `None` when fish is not installed.
fn fish_complete(node: &Node, script: &Path, line: &str) -> Option<Vec<String>> {
    let bin = Path::new(env!("CARGO_BIN_EXE_peat")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let command = format!("source '{}'; complete --do-complete '{line}'", script.display());
    let out = std::process::Command::new("fish")
        .args(["--no-config", "-c", &command])
        .env("PATH", path)
        .env("HOME", node.dir.parent().unwrap())
        .output()
        .ok()?;
    assert!(out.status.success(), "fish: {}", String::from_utf8_lossy(&out.stderr));
    let reply = String::from_utf8(out.stdout).unwrap();
    let values = reply.lines().map(|l| l.split('\t').next().unwrap_or_default());
    Some(values.filter(|v| !v.is_empty() && !v.starts_with('-')).map(String::from).collect())
}

#[test]
fn installed_fish_completion_offers_the_directory_s_collections_and_paths() {
    let node = Node::new();
    node.ok(&["upsert", "units", "u1", "--set", "speed=1", "--set", "pos.lat=2"]);
    node.ok(&["upsert", "vehicles", "v1", "--set", "x=1"]);
    node.ok(&["completions", "fish", "--install"]);
    let script = node.dir.parent().unwrap().join(".config/fish/completions/peat.fish");
    assert!(script.is_file(), "installed where fish looks");
    let dir = node.dir.to_str().unwrap();
    let Some(collections) = fish_complete(&node, &script, &format!("peat --dir {dir} query ")) else {
        println!("skipped: fish is not installed");
        return;
    };
    assert_eq!(collections, ["units", "vehicles"]);
    let order_by = fish_complete(&node, &script, &format!("peat --dir {dir} query units --order-by "));
    assert_eq!(order_by.unwrap(), ["pos", "pos.lat", "speed"]);
    let commands = fish_complete(&node, &script, "peat ").unwrap();
    assert!(commands.contains(&"history".to_string()), "{commands:?}");
    assert!(!commands.contains(&"generate".to_string()), "no hidden command: {commands:?}");
}

#[test]
fn man_install_puts_every_page_where_man_finds_it_with_files_and_see_also() {
    let node = Node::new();
    node.ok(&["man", "--install"]);
    let man1 = node.dir.parent().unwrap().join(".local/share/man/man1");
    let top = std::fs::read_to_string(man1.join("peat.1")).unwrap();
    for needle in
        [".SH FILES", "config.toml", "identity.key", "store.redb", "node.log", "node.sock", "node.pid"]
    {
        assert!(top.contains(needle), "peat.1 lacks {needle}");
    }
    assert!(top.contains(".SH \"SEE ALSO\"") && top.contains("\\fBpeat\\-history\\fR(1)"));
    let sub = std::fs::read_to_string(man1.join("peat-sync-start.1")).unwrap();
    assert!(sub.contains("\\fBpeat\\fR(1), \\fBpeat\\-sync\\fR(1)"), "a subcommand page points up");
    let rendered = std::process::Command::new("man")
        .args(["-M", man1.parent().unwrap().to_str().unwrap(), "peat"])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output();
    match rendered {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("FILES") && text.contains("SEE ALSO"), "{text}");
        }
        _ => println!("man(1) is not installed here: checked the installed files only"),
    }
}
