//! `buildtrace`: read the build provenance embedded in an executable.

// The tool carries its own record, so `buildtrace inspect $(which buildtrace)`
// works, and the tests have a real binary to read.
buildtrace::embed!();

mod exit_codes;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::{inspect_path, render, InspectError, Limits};
use clap::{Args, Parser, Subcommand};

use exit_codes::ExitCode;

/// Read the build provenance that `buildtrace::embed!()` put in a binary.
#[derive(Debug, Parser)]
#[command(
    version,
    subcommand_required = true,
    arg_required_else_help = false,
    after_help = exit_codes::HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the provenance record of an executable (ELF, Mach-O or PE).
    #[command(after_help = exit_codes::HELP)]
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// The executable, or a raw record such as `$OUT_DIR/buildtrace.bin`.
    file: PathBuf,
    /// Print one JSON object: attribute name to typed value.
    #[arg(long, conflicts_with = "env")]
    json: bool,
    /// Print the attributes as a value for `OTEL_RESOURCE_ATTRIBUTES`.
    #[arg(long)]
    env: bool,
}

fn main() -> std::process::ExitCode {
    let code = match run(std::env::args_os(), &mut io::stdout().lock()) {
        Ok(code) => code,
        Err(error) => report(&error, &mut io::stderr().lock()),
    };
    code.into()
}

fn run(args: impl IntoIterator<Item = OsString>, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // clap reports --help and --version as errors; they are what the user asked for.
        Err(help) if !help.use_stderr() => {
            write!(out, "{}", help.render())?;
            out.flush()?;
            return Ok(ExitCode::Success);
        }
        Err(usage) => return Err(usage.into()),
    };
    match cli.command {
        Command::Inspect(args) => inspect(&args, out)?,
    }
    Ok(ExitCode::Success)
}

fn inspect(args: &InspectArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let inspection = inspect_path(&args.file, &Limits::default())
        .with_context(|| args.file.display().to_string())?;
    let written = if args.json {
        render::write_json(out, &inspection)
    } else if args.env {
        render::write_env(out, &inspection)
    } else {
        render::write_human(out, &args.file, &inspection)
    };
    written
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(())
}

/// Prints `error` as one line and chooses the exit code.
fn report(error: &anyhow::Error, stderr: &mut impl Write) -> ExitCode {
    // `buildtrace inspect app | head -1` is a success.
    if error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
    {
        return ExitCode::Success;
    }
    let (message, code) = match error.downcast_ref::<clap::Error>() {
        Some(usage) => {
            // The first paragraph of clap's message is the problem; the rest
            // (usage, tips) would not fit on one line.
            let rendered = usage.render().to_string();
            let paragraph = rendered.split("\n\n").next().unwrap_or_default();
            let problem = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
            let problem = problem.strip_prefix("error: ").unwrap_or(&problem);
            (
                format!("{problem}; run `buildtrace --help` for usage"),
                ExitCode::Error,
            )
        }
        None => {
            let code = match error.downcast_ref::<InspectError>() {
                Some(e) if e.is_no_record() => ExitCode::NoRecord,
                _ => ExitCode::Error,
            };
            (format!("{error:#}"), code)
        }
    };
    // The message quotes the path, which can hold anything.
    let _ = writeln!(stderr, "buildtrace: {}", render::escape_terminal(&message));
    code
}
