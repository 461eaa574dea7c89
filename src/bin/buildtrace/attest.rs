//! `buildtrace attest`: an in-toto Statement for a binary, optionally signed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::{inspect_path, Limits};
use buildtrace::seal::{attest, file_sha256};
use buildtrace::signing;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    /// The binary: its SHA-256 is the statement's subject, so attest the
    /// file as shipped (after `seal`).
    file: PathBuf,
    /// Sign the statement into a DSSE envelope with this ECDSA P-256 PKCS#8
    /// PEM key.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    /// Write the JSON line here instead of standard output (the `.intoto.jsonl`
    /// convention).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &AttestArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let key = args
        .key
        .as_deref()
        .map(signing::signing_key_from_file)
        .transpose()?;
    let context = || args.file.display().to_string();
    let inspection = inspect_path(&args.file, &Limits::default()).with_context(context)?;
    let sha256 = file_sha256(&args.file).with_context(context)?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let statement = attest::statement(&inspection, &name, &sha256);
    let document = match &key {
        Some(key) => attest::envelope(&statement, key),
        None => statement,
    };
    let mut line = serde_json::to_vec(&document).context("cannot encode the statement")?;
    line.push(b'\n');
    match &args.output {
        Some(path) => std::fs::write(path, &line)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            out.write_all(&line)
                .and_then(|()| out.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(())
}
