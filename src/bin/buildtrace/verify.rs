//! `buildtrace verify`: is this file what a trusted key sealed?

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::inspect::{render::escape_terminal, Limits};
use buildtrace::provenance::hex;
use buildtrace::seal::{verify_path, Check, SignatureReport, TrustedKey, Verdict, Verification};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use crate::exit_codes::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The binary to check.
    file: PathBuf,
    /// A trusted public key (PEM); repeat for several. Without one, no
    /// signature can be trusted: the digests are still checked.
    #[arg(long = "pubkey", value_name = "PEM")]
    pubkeys: Vec<PathBuf>,
    /// Fail (exit 4) unless the file is at least this: `sealed` for release
    /// gates, `signed` to accept a build-time signature alone.
    #[arg(long, value_enum)]
    require: Option<Require>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Require {
    Sealed,
    Signed,
}

fn exit_code(verdict: Verdict, require: Option<Require>) -> ExitCode {
    match verdict {
        Verdict::Invalid => ExitCode::Invalid,
        Verdict::UntrustedKey => ExitCode::UntrustedKey,
        Verdict::Absent | Verdict::Unsigned => ExitCode::NotVerified,
        Verdict::PayloadAuthentic if require == Some(Require::Sealed) => ExitCode::NotVerified,
        Verdict::PayloadAuthentic | Verdict::SealedAndBound => ExitCode::Success,
    }
}

pub(crate) fn run(args: &VerifyArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let trusted = args
        .pubkeys
        .iter()
        .map(|p| TrustedKey::from_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let v = verify_path(&args.file, &trusted, &Limits::default())
        .with_context(|| args.file.display().to_string())?;
    let code = exit_code(v.verdict, args.require);
    if args.json {
        let mut line = serde_json::to_vec(&to_json(args, &v, code))?;
        line.push(b'\n');
        out.write_all(&line)?;
    } else {
        write_human(out, args, &v, code)?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(code)
}

fn check_text(r: &SignatureReport) -> String {
    match &r.check {
        Check::Valid(label) => format!("valid, key {} (trusted: {label})", hex(&r.key_id)),
        Check::Untrusted => format!(
            "key {} is not among the trusted keys (pass its public key with --pubkey)",
            hex(&r.key_id)
        ),
        Check::Invalid(e) => format!("INVALID: {e} (key {})", hex(&r.key_id)),
    }
}

fn write_human(
    out: &mut impl Write,
    args: &VerifyArgs,
    v: &Verification,
    code: ExitCode,
) -> std::io::Result<()> {
    let file = args.file.display().to_string();
    writeln!(out, "{}: {}", escape_terminal(&file), v.verdict)?;
    if let Some(location) = &v.location {
        writeln!(
            out,
            "  record   {location}, provenance id {}",
            v.id.as_deref().unwrap_or("none")
        )?;
    }
    if v.verdict == Verdict::Absent {
        writeln!(
            out,
            "  no buildtrace record: was the binary built with `buildtrace::embed!()`?"
        )?;
    }
    if v.location.is_some() && v.verdict != Verdict::Invalid || v.seal.is_some() {
        match &v.seal {
            Some(s) => {
                let matches = if s.sealed_digest == s.file_digest {
                    "matches the file".to_owned()
                } else {
                    format!("does NOT match the file (sha256:{})", hex(&s.file_digest))
                };
                writeln!(out, "  seal     sha256:{} {matches}", hex(&s.sealed_digest))?;
                writeln!(out, "           signature {}", check_text(&s.signature))?;
            }
            None => writeln!(
                out,
                "  seal     none (seal the file with `buildtrace seal`)"
            )?,
        }
        match &v.payload {
            Some(p) => writeln!(out, "  payload  build-time signature {}", check_text(p))?,
            None => writeln!(out, "  payload  not signed at build time")?,
        }
    }
    for problem in &v.problems {
        writeln!(out, "  problem  {}", escape_terminal(problem))?;
    }
    if code == ExitCode::NotVerified && v.verdict == Verdict::PayloadAuthentic {
        writeln!(
            out,
            "  --require sealed: the record is signed but not bound to this file"
        )?;
    }
    Ok(())
}

fn report_json(r: &SignatureReport) -> Value {
    let (check, detail) = match &r.check {
        Check::Valid(label) => ("valid", Value::from(label.as_str())),
        Check::Untrusted => ("untrusted", Value::Null),
        Check::Invalid(e) => ("invalid", Value::from(e.to_string())),
    };
    json!({ "key_id": hex(&r.key_id), "check": check, "detail": detail })
}

fn to_json(args: &VerifyArgs, v: &Verification, code: ExitCode) -> Value {
    json!({
        "file": args.file.display().to_string(),
        "verdict": v.verdict.as_str(),
        "requirement_met": code == ExitCode::Success,
        "format": v.format.map(|f| f.to_string()),
        "location": v.location.as_ref().map(|l| l.to_string()),
        "id": v.id,
        "seal": v.seal.as_ref().map(|s| json!({
            "sealed_digest": hex(&s.sealed_digest),
            "file_digest": hex(&s.file_digest),
            "matches": s.sealed_digest == s.file_digest,
            "signature": report_json(&s.signature),
        })),
        "payload_signature": v.payload.as_ref().map(report_json),
        "problems": v.problems,
    })
}
