//! `buildtrace verify-attestation`: does a bundle (or DSSE envelope) attest
//! this file, signed by a trusted key?

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::render::escape_terminal;
use buildtrace::seal::bundle::{
    self, AttestationCheck, AttestationVerdict, CheckLimits, Container,
};
use buildtrace::seal::{deps, file_sha256, TrustedKey};
use clap::Args;
use serde_json::json;

use crate::exit_codes::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct VerifyAttestationArgs {
    /// The binary the attestation should be about.
    file: PathBuf,
    /// The attestation: a Sigstore bundle (`attest --format bundle`) or a
    /// DSSE envelope (`attest --format dsse`).
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// A trusted public key (PEM); repeat for several.
    #[arg(long = "pubkey", value_name = "PEM", required = true)]
    pubkeys: Vec<PathBuf>,
    /// The predicate type to require.
    #[arg(long = "type", value_name = "URI", default_value = buildtrace::seal::attest::PREDICATE_TYPE)]
    predicate_type: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn exit_code(verdict: AttestationVerdict) -> ExitCode {
    match verdict {
        AttestationVerdict::Verified => ExitCode::Success,
        AttestationVerdict::Invalid => ExitCode::Invalid,
        AttestationVerdict::UntrustedKey => ExitCode::UntrustedKey,
    }
}

pub(crate) fn run(args: &VerifyAttestationArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let trusted = args
        .pubkeys
        .iter()
        .map(|p| TrustedKey::from_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let limits = CheckLimits::default();
    let document = bundle::read_document(&args.bundle, &limits)
        .with_context(|| args.bundle.display().to_string())?;
    let sha256 = file_sha256(&args.file).with_context(|| args.file.display().to_string())?;
    let c = bundle::check(
        &document,
        &sha256,
        &trusted,
        Some(&args.predicate_type),
        &limits,
    )
    .with_context(|| args.bundle.display().to_string())?;
    if args.json {
        let mut line = serde_json::to_vec(&to_json(args, &c))?;
        line.push(b'\n');
        out.write_all(&line)?;
    } else {
        write_human(out, args, &c)?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(exit_code(c.verdict))
}

fn container(c: &AttestationCheck) -> &'static str {
    match c.container {
        Container::Bundle => "Sigstore bundle v0.3",
        Container::Envelope => "DSSE envelope",
    }
}

fn packages(c: &AttestationCheck) -> Option<usize> {
    c.statement.as_ref().map(|s| deps::from_statement(s).len())
}

fn write_human(
    out: &mut impl Write,
    args: &VerifyAttestationArgs,
    c: &AttestationCheck,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {}",
        escape_terminal(&args.file.display().to_string()),
        c.verdict.as_str()
    )?;
    writeln!(
        out,
        "  attestation  {} ({})",
        escape_terminal(&args.bundle.display().to_string()),
        container(c)
    )?;
    match &c.signed_by {
        Some(label) => writeln!(out, "  signature    valid (trusted: {})", escape_terminal(label))?,
        None if c.verdict == AttestationVerdict::UntrustedKey => writeln!(
            out,
            "  signature    by key {}, not among the trusted keys (pass its public key with --pubkey)",
            c.named_keys.join(", ")
        )?,
        None => writeln!(out, "  signature    does not verify with the trusted keys")?,
    }
    if let Some(subject) = &c.subject {
        writeln!(
            out,
            "  subject      {} (sha256 matches the file)",
            escape_terminal(subject)
        )?;
    }
    if let Some(t) = &c.predicate_type {
        writeln!(out, "  predicate    {}", escape_terminal(t))?;
    }
    if let Some(n) = packages(c).filter(|n| *n > 0) {
        writeln!(out, "  packages     {n} in resolvedDependencies")?;
    }
    for problem in &c.problems {
        writeln!(out, "  problem      {}", escape_terminal(problem))?;
    }
    Ok(())
}

fn to_json(args: &VerifyAttestationArgs, c: &AttestationCheck) -> serde_json::Value {
    json!({
        "file": args.file.display().to_string(),
        "attestation": args.bundle.display().to_string(),
        "container": container(c),
        "verdict": c.verdict.as_str(),
        "signed_by": c.signed_by,
        "named_keys": c.named_keys,
        "subject": c.subject,
        "predicate_type": c.predicate_type,
        "packages": packages(c),
        "problems": c.problems,
    })
}
