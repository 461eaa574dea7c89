//! `buildtrace seal`: bind the record to the finished file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::Limits;
use buildtrace::provenance::hex;
use buildtrace::seal::{seal_file, SealError};
use buildtrace::signing;
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct SealArgs {
    /// The linked (and, if at all, already stripped) binary.
    file: PathBuf,
    /// The sealing key: an ECDSA P-256 private key, PKCS#8 PEM.
    #[arg(long, value_name = "PEM")]
    key: PathBuf,
    /// Write the sealed file here instead of replacing FILE.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &SealArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let key = signing::signing_key_from_file(&args.key)?;
    let sealed = seal_file(&args.file, args.output.as_deref(), &key, &Limits::default())
        .map_err(|e| match e {
            // Keeps "no record" distinguishable (exit 1) from other errors.
            SealError::Inspect(e) => anyhow::Error::from(e),
            other => other.into(),
        })
        .with_context(|| args.file.display().to_string())?;
    writeln!(
        out,
        "sealed {} ({}, record in {}): sha256:{} by key {}",
        sealed.path.display(),
        sealed.format,
        sealed.location,
        hex(&sealed.digest),
        hex(&sealed.key_id)
    )?;
    if let Some(old) = sealed.replaced {
        writeln!(out, "replaced the seal of key {}", hex(&old))?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(())
}
