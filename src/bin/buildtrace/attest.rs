//! `buildtrace attest`: an in-toto Statement for a binary, signed into a
//! Sigstore bundle or a DSSE envelope.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use buildtrace::inspect::{inspect_path, Limits};
use buildtrace::seal::{attest, bundle, deps, file_sha256};
use buildtrace::signing;
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    /// The binary: its SHA-256 is the statement's subject, so attest the
    /// file as shipped (after `seal`).
    file: PathBuf,
    /// Sign the statement with this ECDSA P-256 PKCS#8 PEM key. Without it,
    /// the statement is printed unsigned.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    /// What to write. `bundle` (the default with --key): a Sigstore bundle
    /// v0.3, what `cosign verify-blob-attestation --bundle` and
    /// `buildtrace verify-attestation` read (name it `FILE.sigstore.json`).
    /// `dsse`: the bare DSSE envelope as one JSON line (`FILE.intoto.jsonl`).
    /// `statement`: the unsigned statement (the default without --key).
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
    /// List every package the build used in `resolvedDependencies`, read
    /// with `cargo metadata` from the workspace of this manifest. Its
    /// `Cargo.lock` must be the one the binary was built with (same SHA-256
    /// as the record's).
    #[arg(long, value_name = "CARGO_TOML")]
    manifest_path: Option<PathBuf>,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Bundle,
    Dsse,
    Statement,
}

pub(crate) fn run(args: &AttestArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let format = match (args.format, &args.key) {
        (None, Some(_)) => Format::Bundle,
        (None, None) => Format::Statement,
        (Some(f @ (Format::Bundle | Format::Dsse)), None) => {
            let f = if f == Format::Bundle {
                "bundle"
            } else {
                "dsse"
            };
            bail!("--format {f} is signed: pass --key, or --format statement for the unsigned statement")
        }
        (Some(Format::Statement), Some(_)) => {
            bail!("--format statement is unsigned: drop --key, or choose --format bundle or dsse")
        }
        (Some(f), _) => f,
    };
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
    let packages = match &args.manifest_path {
        Some(manifest) => {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
            deps::resolve(&cargo, manifest, &inspection.record())
                .with_context(|| format!("{}: dependencies", manifest.display()))?
        }
        None => Vec::new(),
    };
    let statement = attest::statement_with_dependencies(&inspection, &name, &sha256, &packages);
    let document = match (format, &key) {
        (Format::Bundle, Some(key)) => bundle::bundle(&statement, key),
        (Format::Dsse, Some(key)) => attest::envelope(&statement, key),
        _ => statement,
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
