//! `buildtrace diff`: which provenance facts two binaries disagree on.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::attributes::AttrValue;
use buildtrace::inspect::{inspect_path, render::escape_terminal, Inspection, Limits};
use buildtrace::names;
use buildtrace::seal::bundle::{self, CheckLimits};
use buildtrace::seal::deps::{self, Change, Dependency};
use buildtrace::seal::file_sha256;
use clap::Args;
use serde_json::{json, Value};

use crate::exit_codes::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The first binary (or raw record).
    a: PathBuf,
    /// The second.
    b: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The attestations of A and B (bundles or DSSE envelopes) whose
    /// `resolvedDependencies` say which packages changed. Default:
    /// `A.sigstore.json` or `A.intoto.jsonl` beside each file, when present.
    #[arg(long, num_args = 2, value_names = ["A_ATTESTATION", "B_ATTESTATION"])]
    attestations: Vec<PathBuf>,
}

/// How the dependencies of the two builds compare.
enum Packages {
    /// Both attestations list their packages: what changed.
    Attested(Vec<Change>),
    /// Without them, the lock digests: same or not.
    Lock { same: bool },
}

/// The statement about `file` in `given` or beside it, if any (signature
/// unchecked: `verify-attestation` is for trust, this is for comparing).
fn attested(
    file: &std::path::Path,
    given: Option<&PathBuf>,
) -> anyhow::Result<Option<Vec<Dependency>>> {
    let beside = |ext: &str| PathBuf::from(format!("{}.{ext}", file.display()));
    let path = match given {
        Some(p) => p.clone(),
        None => match ["sigstore.json", "intoto.jsonl"]
            .map(beside)
            .into_iter()
            .find(|p| p.is_file())
        {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let limits = CheckLimits::default();
    let document =
        bundle::read_document(&path, &limits).with_context(|| path.display().to_string())?;
    let sha256 = file_sha256(file).with_context(|| file.display().to_string())?;
    let statement = bundle::statement_about(&document, &sha256, &limits)
        .with_context(|| path.display().to_string())?;
    Ok(statement
        .map(|s| deps::from_statement(&s))
        .filter(|d| !d.is_empty()))
}

fn packages(
    args: &DiffArgs,
    fa: &BTreeMap<String, AttrValue<'_>>,
    fb: &BTreeMap<String, AttrValue<'_>>,
) -> anyhow::Result<Packages> {
    let a = attested(&args.a, args.attestations.first())?;
    let b = attested(&args.b, args.attestations.get(1))?;
    Ok(match (a, b) {
        (Some(a), Some(b)) => Packages::Attested(deps::diff(&a, &b)),
        _ => Packages::Lock {
            same: fa.get(names::LOCK_SHA256) == fb.get(names::LOCK_SHA256),
        },
    })
}

fn describe(d: &Dependency) -> String {
    format!("{} {} ({})", d.name, d.version, d.source.kind())
}

fn change_json(c: &Change) -> Value {
    match c {
        Change::Added(d) => json!({ "change": "added", "b": d.to_json() }),
        Change::Removed(d) => json!({ "change": "removed", "a": d.to_json() }),
        Change::Changed(a, b) => json!({ "change": "changed", "a": a.to_json(), "b": b.to_json() }),
    }
}

fn change_text(c: &Change) -> String {
    match c {
        Change::Added(d) => format!("+ {}", describe(d)),
        Change::Removed(d) => format!("- {}", describe(d)),
        Change::Changed(a, b) if a.version != b.version => {
            format!("~ {} {} -> {}", a.name, a.version, b.version)
        }
        Change::Changed(a, _) => format!(
            "~ {} {} (same version, another checksum or commit)",
            a.name, a.version
        ),
    }
}

/// Facts of the file rather than of the build (name, build-ids, htlhash)
/// differ between any two files and are left out.
fn facts(inspection: &Inspection) -> BTreeMap<String, AttrValue<'_>> {
    inspection
        .attributes()
        .into_iter()
        .filter(|a| !a.key.starts_with(names::PROCESS_EXECUTABLE_PREFIX))
        .map(|a| (a.key.to_owned(), a.value))
        .collect()
}

fn json_value(v: Option<&AttrValue<'_>>) -> Value {
    match v {
        None => Value::Null,
        Some(AttrValue::Str(s)) => Value::from(s.as_ref()),
        Some(AttrValue::Bool(b)) => Value::from(*b),
        Some(AttrValue::Int(i)) => Value::from(*i),
    }
}

pub(crate) fn run(args: &DiffArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let a =
        inspect_path(&args.a, &Limits::default()).with_context(|| args.a.display().to_string())?;
    let b =
        inspect_path(&args.b, &Limits::default()).with_context(|| args.b.display().to_string())?;
    let (fa, fb) = (facts(&a), facts(&b));
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    let differ: Vec<&String> = keys
        .iter()
        .copied()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .collect();
    let packages = packages(args, &fa, &fb)?;
    let packages_differ = match &packages {
        Packages::Attested(changes) => !changes.is_empty(),
        Packages::Lock { same } => !same,
    };
    if args.json {
        let changes: Vec<Value> = differ
            .iter()
            .map(|k| json!({ "key": k, "a": json_value(fa.get(*k)), "b": json_value(fb.get(*k)) }))
            .collect();
        let mut line = serde_json::to_vec(&json!({
            "a": args.a.display().to_string(),
            "b": args.b.display().to_string(),
            "same": differ.is_empty(),
            "differences": changes,
            "compared": keys.len(),
            "dependencies": match &packages {
                Packages::Attested(c) => json!({
                    "from": "attestations",
                    "changes": c.iter().map(change_json).collect::<Vec<_>>(),
                }),
                Packages::Lock { same } => json!({ "from": "lock", "same": same }),
            },
        }))?;
        line.push(b'\n');
        out.write_all(&line)?;
    } else if differ.is_empty() {
        writeln!(out, "same provenance: {} facts compared", keys.len())?;
    } else {
        let width = differ.iter().map(|k| k.len()).max().unwrap_or(0);
        let show = |v: Option<&AttrValue<'_>>| {
            v.map(|v| escape_terminal(&v.to_string()).into_owned())
                .unwrap_or_else(|| "(absent)".to_owned())
        };
        writeln!(
            out,
            "{} of {} facts differ (a = {}, b = {}):",
            differ.len(),
            keys.len(),
            escape_terminal(&args.a.display().to_string()),
            escape_terminal(&args.b.display().to_string())
        )?;
        for k in &differ {
            writeln!(out, "  {k:width$}  a: {}", show(fa.get(*k)))?;
            writeln!(out, "  {:width$}  b: {}", "", show(fb.get(*k)))?;
        }
    }
    if !args.json {
        match &packages {
            Packages::Attested(c) if c.is_empty() => {
                writeln!(out, "same packages (from the attestations)")?
            }
            Packages::Attested(c) => {
                writeln!(out, "{} packages changed (from the attestations):", c.len())?;
                for change in c {
                    writeln!(out, "  {}", escape_terminal(&change_text(change)))?;
                }
            }
            Packages::Lock { same: true } => {}
            Packages::Lock { same: false } => writeln!(
                out,
                "the Cargo.lock digests differ; attest both with `attest --manifest-path` to see which packages changed"
            )?,
        }
    }
    out.flush().context("cannot write to standard output")?;
    Ok(if differ.is_empty() && !packages_differ {
        ExitCode::Success
    } else {
        ExitCode::Differ
    })
}
