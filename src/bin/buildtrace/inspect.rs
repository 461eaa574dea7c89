//! `buildtrace inspect`: the record of a file, for people or for programs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::{inspect_path, render, Limits};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The executable, or a raw record such as `$OUT_DIR/buildtrace.bin`.
    file: PathBuf,
    /// Print one JSON object: attribute name to typed value.
    #[arg(long, conflicts_with = "env")]
    json: bool,
    /// Print the attributes as a value for `OTEL_RESOURCE_ATTRIBUTES`.
    #[arg(long)]
    env: bool,
}

/// Prints the record of `args.file`.
///
/// # Errors
/// The file's [`InspectError`](buildtrace::inspect::InspectError), or a
/// failed write.
pub(crate) fn run(args: &InspectArgs, out: &mut impl Write) -> anyhow::Result<()> {
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
