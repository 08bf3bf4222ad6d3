//! `peat completions`, `peat man` and the hidden `peat generate`: shell completions and man
//! pages, made from the clap definition so they can never drift from the CLI (a test regenerates them
//! and compares with the committed `completions/` and `man/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap_complete::{Generator, Shell};

use super::exit::{ENVIRONMENT, ExitStatus};
use super::{Cli, Context};
use crate::sync::Error;

/// Print or install a shell completion script
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print a completion script for a shell, or install it where the shell finds it \
(--install). The script asks peat itself for candidates as you type, so it offers commands and \
flags (never hidden ones) and also the collection names, peer ids and document paths (for \
--order-by, --fields and --where) of the directory the command line names (--dir, else PEAT_DIR, \
else the default). Reading for completion creates nothing and gives up after 1.5 s. peat must be \
on PATH.\n\n\
--install writes bash's to ~/.local/share/bash-completion/completions/peat, zsh's to \
~/.zfunc/_peat (put `fpath=(~/.zfunc $fpath)` before `compinit` in ~/.zshrc) and fish's to \
~/.config/fish/completions/peat.fish (XDG_DATA_HOME and XDG_CONFIG_HOME are honoured). Without \
a SHELL it installs for the shell in $SHELL.",
    after_help = "Examples:\n  peat completions --install\n  peat completions bash --install\n  \
peat completions zsh > ~/.zfunc/_peat\n  source <(peat completions bash)"
)]
pub struct CompletionsArgs {
    /// The shell to complete for [default with --install: the one in $SHELL]
    #[arg(value_enum, required_unless_present = "install")]
    pub shell: Option<Shell>,
    /// Write the script where the shell finds it instead of printing it
    #[arg(long)]
    pub install: bool,
}

/// Print or install the man pages
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print the peat(1) man page (roff; `peat man | man -l -` shows it), or install \
every page into ~/.local/share/man/man1 (--install; XDG_DATA_HOME is honoured), where `man peat` \
finds it when that directory is on the manual path (it is when ~/.local/bin is on PATH; otherwise \
`export MANPATH=\"$HOME/.local/share/man:\"`).",
    after_help = "Examples:\n  peat man --install && man peat\n  peat man | man -l -"
)]
pub struct ManArgs {
    /// Write every page to ~/.local/share/man/man1 instead of printing peat(1)
    #[arg(long)]
    pub install: bool,
}

/// Write completions and man pages into a directory (for packagers)
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Directory that receives completions/ and man/
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// The shells with committed completion scripts.
const SHELLS: [Shell; 5] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Elvish, Shell::PowerShell];

/// A shell's completion script: it registers `peat` to be asked for candidates.
fn script(shell: Shell) -> Vec<u8> {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let completer: &dyn EnvCompleter = match shell {
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::PowerShell => &Powershell,
        _ => &Bash,
    };
    let mut script = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = completer.write_registration(super::complete::COMPLETE_VAR, "peat", "peat", "peat", &mut script);
    script
}

pub fn completions(ctx: &Context, args: CompletionsArgs) -> anyhow::Result<()> {
    if !args.install {
        let shell = args.shell.ok_or_else(|| Error::invalid("name a shell"))?;
        ctx.printer.line(String::from_utf8_lossy(&script(shell)).trim())?;
        return Ok(());
    }
    let shell = match args.shell {
        Some(shell) => shell,
        None => Shell::from_env().ok_or_else(|| {
            Error::invalid("cannot tell the shell from $SHELL; name it: peat completions bash --install")
        })?,
    };
    let path = install_path(shell)?;
    install(&path, &script(shell))?;
    ctx.printer.note(format!("installed {shell} completions in {}", path.display()));
    if shell == Shell::Zsh {
        ctx.printer.note("zsh: put `fpath=(~/.zfunc $fpath)` before `compinit` in ~/.zshrc");
    }
    ctx.printer.note("open a new shell to use them");
    Ok(())
}

/// Where a shell looks for completions of the user.
fn install_path(shell: Shell) -> Result<PathBuf, Error> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let xdg = |var: &str, fallback: &str| {
        std::env::var_os(var)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(fallback)))
            .ok_or_else(|| Error::invalid(format!("neither {var} nor HOME is set")))
    };
    Ok(match shell {
        Shell::Bash => xdg("XDG_DATA_HOME", ".local/share")?.join("bash-completion/completions/peat"),
        Shell::Zsh => home.ok_or_else(|| Error::invalid("HOME is not set"))?.join(".zfunc/_peat"),
        Shell::Fish => xdg("XDG_CONFIG_HOME", ".config")?.join("fish/completions/peat.fish"),
        other => {
            return Err(Error::invalid(format!(
                "{other} has no standard place for completions; load `peat completions {other}` from its startup file"
            )));
        }
    })
}

/// Where `man` finds the user's pages.
fn man_dir() -> Result<PathBuf, Error> {
    let data = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()).map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".local/share"))
    });
    Ok(data.ok_or_else(|| Error::invalid("neither XDG_DATA_HOME nor HOME is set"))?.join("man/man1"))
}

pub fn man(ctx: &Context, args: ManArgs) -> anyhow::Result<()> {
    let pages = pages()?;
    if !args.install {
        let top = pages.iter().find(|(name, _)| name == "peat.1").map(|(_, page)| page);
        ctx.printer.line(String::from_utf8_lossy(top.map_or(&[][..], Vec::as_slice)).trim_end())?;
        return Ok(());
    }
    let dir = man_dir()?;
    for (name, page) in &pages {
        install(&dir.join(name), page)?;
    }
    ctx.printer.note(format!("installed {} man pages in {}", pages.len(), dir.display()));
    Ok(())
}

/// Writes `bytes` to `path`, making its directory.
fn install(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write(path, bytes)
}

pub fn generate(ctx: &Context, args: GenerateArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let completions = args.out.join("completions");
    let man = args.out.join("man");
    for dir in [&completions, &man] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    for shell in SHELLS {
        write(&completions.join(shell.file_name("peat")), &script(shell))?;
    }
    for (name, page) in pages()? {
        write(&man.join(name), &page)?;
    }
    ctx.printer.note(format!("wrote {} and {}", completions.display(), man.display()));
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Every man page: file name and roff.
fn pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command_with_tables().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect_pages(&cmd, None, &mut pages)?;
    Ok(pages)
}

/// The page of `cmd` and those of its visible subcommands, recursively.
fn collect_pages(
    cmd: &clap::Command,
    parent: Option<&str>,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let name = man.get_filename();
    let title = name.trim_end_matches(".1").to_string();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect_pages(sub, Some(&title), pages)?;
    }
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    page.extend(extra_sections(cmd).into_bytes());
    if parent.is_none() {
        page.extend(files_section().into_bytes());
    }
    page.extend(see_also(cmd, &title, parent).into_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    pages.push((name, page));
    Ok(())
}

/// FILES: what a node's persistence directory holds.
fn files_section() -> String {
    use crate::home::{
        CONFIG_FILE, FORMATION_FILE, IDENTITY_FILE, LOCK_FILE, LOG_FILE, PID_FILE, SOCKET_FILE, STORE_FILE,
    };
    let files = [
        (
            CONFIG_FILE,
            "settings: app id, listen address, peers, blocked peers, log_level (SIGHUP rereads it)",
        ),
        (IDENTITY_FILE, "the node's secret key; its public key is the node id (secret)"),
        (FORMATION_FILE, "the formation key peers must share to sync (secret)"),
        (STORE_FILE, "the documents (Automerge), their JSON projections and the change log (redb)"),
        (LOG_FILE, "the log of a node started in the background, rotated to node.log.1 to node.log.3"),
        (SOCKET_FILE, "the running node's control socket (0600); commands go through it"),
        (PID_FILE, "the running node's process id"),
        (LOCK_FILE, "held by the process that has the store open"),
    ];
    let mut roff = String::from(
        ".SH FILES
In the persistence directory (--dir, PEAT_DIR, else the platform data dir + /peat):
",
    );
    for (name, meaning) in files {
        let _ = write!(
            roff,
            ".TP
\\fI{name}\\fR
{}
",
            escape(meaning)
        );
    }
    roff
}

/// SEE ALSO: the parent page and the subcommands' pages, or for peat(1) every command's.
fn see_also(cmd: &clap::Command, title: &str, parent: Option<&str>) -> String {
    let mut refs: Vec<String> = parent.map(|p| p.to_string()).into_iter().collect();
    refs.extend(
        cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| format!("{title}-{}", s.get_name())),
    );
    if parent.is_some_and(|p| p != "peat") {
        refs.insert(0, "peat".into());
    }
    let list: Vec<String> = refs.iter().map(|r| format!("\\fB{}\\fR(1)", escape(r))).collect();
    format!(".SH \"SEE ALSO\"\n{}\n", list.join(", "))
}

/// EXAMPLES (from the command's help), EXIT STATUS and ENVIRONMENT, in roff.
fn extra_sections(cmd: &clap::Command) -> String {
    let mut roff = String::new();
    let examples = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
    let examples: Vec<&str> = examples
        .strip_prefix("Examples:\n")
        .map(|rest| rest.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect())
        .unwrap_or_default();
    if !examples.is_empty() {
        roff += ".SH EXAMPLES\n";
        for example in examples {
            let _ = write!(roff, ".PP\n.nf\n{}\n.fi\n", escape(example));
        }
    }
    roff += ".SH \"EXIT STATUS\"\n";
    for status in ExitStatus::ALL {
        let _ = write!(roff, ".TP\n{}\n{}\n", status.code(), escape(status.meaning()));
    }
    roff += ".SH ENVIRONMENT\n";
    for (name, meaning) in ENVIRONMENT {
        let _ = write!(roff, ".TP\n\\fB{name}\\fR\n{}\n", escape(meaning));
    }
    roff
}

/// Text safe for a roff line: backslashes and hyphens escaped, no leading control character.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with(['.', '\'']) { format!("\\&{text}") } else { text }
}
