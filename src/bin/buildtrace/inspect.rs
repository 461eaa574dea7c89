//! `buildtrace inspect`: the record of a file, for people or for programs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::auditable::{self, Auditable};
use buildtrace::inspect::{inspect_path, render, Limits};
use buildtrace::names;
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

/// Prints the record of `args.file`; beside it, in the human and JSON
/// outputs, cargo-auditable's `.dep-v0` section when the file has one.
///
/// # Errors
/// The file's [`InspectError`](buildtrace::inspect::InspectError), or a
/// failed write.
pub(crate) fn run(args: &InspectArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let context = || args.file.display().to_string();
    let limits = Limits::default();
    let inspection = inspect_path(&args.file, &limits).with_context(context)?;
    let dep_v0 = auditable::read_path(&args.file, &limits).with_context(context)?;
    let written = if args.json {
        let mut object = Vec::new();
        render::write_json(&mut object, &inspection)?;
        let mut object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&object).context("the JSON rendering")?;
        if let Auditable::Present { packages, .. } = dep_v0 {
            object.insert(names::AUDITABLE_PACKAGES.to_owned(), packages.into());
        }
        serde_json::to_writer(&mut *out, &object)?;
        writeln!(out)
    } else if args.env {
        render::write_env(out, &inspection)
    } else {
        render::write_human(out, &args.file, &inspection).and_then(|()| match dep_v0 {
            Auditable::Absent => Ok(()),
            Auditable::Present {
                packages,
                section_len,
            } => writeln!(
                out,
                "cargo-auditable section `{}` ({section_len} bytes): {packages} packages",
                auditable::SECTION
            ),
            Auditable::Unreadable(why) => writeln!(
                out,
                "cargo-auditable section `{}`: unreadable ({why})",
                auditable::SECTION
            ),
        })
    };
    written
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(())
}
