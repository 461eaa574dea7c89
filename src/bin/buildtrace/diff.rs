//! `buildtrace diff`: which provenance facts two binaries disagree on.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use buildtrace::attributes::AttrValue;
use buildtrace::inspect::{inspect_path, render::escape_terminal, Inspection, Limits};
use buildtrace::names;
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
    out.flush().context("cannot write to standard output")?;
    Ok(if differ.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::Differ
    })
}
