//! `peat completions` and the hidden `peat generate`: shell completions and man pages, made
//! from the clap definition so they can never drift from the CLI (a test regenerates them
//! and compares with the committed `completions/` and `man/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap_complete::{Generator, Shell};

use super::exit::{ENVIRONMENT, ExitStatus};
use super::{Cli, Context};

/// Print a shell completion script
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print a completion script for a shell, generated from peat's own argument \
definitions. Load it from your shell's startup file or install it where the shell looks.",
    after_help = "Examples:\n  peat completions bash > ~/.local/share/bash-completion/completions/peat\n  \
peat completions zsh > ~/.zfunc/_peat\n  peat completions fish > ~/.config/fish/completions/peat.fish"
)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
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

pub fn completions(ctx: &Context, args: CompletionsArgs) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command_with_tables(), "peat", &mut script);
    ctx.printer.line(String::from_utf8_lossy(&script).trim_end())?;
    Ok(())
}

pub fn generate(ctx: &Context, args: GenerateArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let completions = args.out.join("completions");
    let man = args.out.join("man");
    for dir in [&completions, &man] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    for shell in SHELLS {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command_with_tables(), "peat", &mut script);
        write(&completions.join(shell.file_name("peat")), &script)?;
    }
    let mut cmd = Cli::command_with_tables().disable_help_subcommand(true);
    cmd.build();
    write_pages(&cmd, &man)?;
    ctx.printer.note(format!("wrote {} and {}", completions.display(), man.display()));
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// One page for `cmd` and one for each visible subcommand, recursively.
fn write_pages(cmd: &clap::Command, dir: &Path) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
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
    if cmd.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    write(&dir.join(man.get_filename()), &page)
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
