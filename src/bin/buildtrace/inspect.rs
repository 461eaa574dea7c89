//! `buildtrace inspect`: the record of a file, or the process context of a
//! running process, for people or for programs.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::auditable::{self, Auditable};
use buildtrace::inspect::{inspect_path, render, Limits};
use buildtrace::names;
use buildtrace::process_context::{read, render as context_render};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The executable, or a raw record such as `$OUT_DIR/buildtrace.bin`.
    #[arg(required_unless_present = "pid", conflicts_with = "pid")]
    file: Option<PathBuf>,
    /// Read the OpenTelemetry process context (OTEP 4719) that running
    /// process PID publishes instead (Linux; needs ptrace access to it:
    /// the same user, root or CAP_SYS_PTRACE).
    #[arg(long, value_name = "PID", value_parser = clap::value_parser!(u32).range(1..))]
    pid: Option<u32>,
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
    let file = match (&args.file, args.pid) {
        (_, Some(pid)) => return run_pid(pid, args, out),
        (Some(file), None) => file,
        (None, None) => anyhow::bail!("nothing to inspect: give a FILE or --pid PID"),
    };
    let context = || file.display().to_string();
    let limits = Limits::default();
    let inspection = inspect_path(file, &limits).with_context(context)?;
    let dep_v0 = auditable::read_path(file, &limits).with_context(context)?;
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
        render::write_human(out, file, &inspection).and_then(|()| match dep_v0 {
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

/// Prints the process context of `pid` in the format asked for.
///
/// # Errors
/// The process's [`ReadError`](read::ReadError), or a failed write.
fn run_pid(pid: u32, args: &InspectArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let context = read::read_pid(pid)?;
    let written = if args.json {
        context_render::write_json(out, &context)
    } else if args.env {
        context_render::write_env(out, &context)
    } else {
        context_render::write_human(out, &context)
    };
    written
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    Ok(())
}
