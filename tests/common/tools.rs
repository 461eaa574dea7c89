//! The judges of the attestation tests, built or installed by the project's
//! own scripts (`scripts/tools/`): cosign, cargo-auditable, rust-audit-info.
//! As with the Collector (`pipeline.rs`), a missing tool skips the test,
//! saying so, unless `BUILDTRACE_E2E=required` (set by `scripts/test.sh`
//! and CI), where it fails it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

fn required() -> bool {
    std::env::var("BUILDTRACE_E2E").as_deref() == Ok("required")
}

/// `NAME=value` lines printed by `scripts/tools/<script> <flag>`, or `None`
/// (saying why) when the tool is not built and not required.
fn paths(script: &str, flag: &str) -> Option<Vec<(String, PathBuf)>> {
    let path = crate::common::buildtrace_root()
        .join("scripts/tools")
        .join(script);
    let out = Command::new("bash").arg(&path).arg(flag).output();
    match out {
        Ok(o) if o.status.success() => Some(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), PathBuf::from(v)))
                .collect(),
        ),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                !required(),
                "BUILDTRACE_E2E=required, but scripts/tools/{script} has nothing built: {why}"
            );
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

/// The cosign that `scripts/tools/cosign.sh` built.
pub fn cosign() -> Option<PathBuf> {
    Some(paths("cosign.sh", "--print-path")?.remove(0).1)
}

/// cargo-auditable and rust-audit-info, as `scripts/tools/auditable.sh`
/// installed them.
pub struct Auditable {
    pub cargo_auditable: PathBuf,
    pub rust_audit_info: PathBuf,
}

pub fn auditable() -> Option<Auditable> {
    let p = paths("auditable.sh", "--print-paths")?;
    let get = |k: &str| {
        p.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("auditable.sh printed no {k}"))
    };
    Some(Auditable {
        cargo_auditable: get("CARGO_AUDITABLE_BIN"),
        rust_audit_info: get("RUST_AUDIT_INFO_BIN"),
    })
}
