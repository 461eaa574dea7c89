//! What each build should report, from sources independent of every tool
//! under test: `git rev-parse HEAD`, `git status --porcelain`, `$RUSTC -vV`,
//! and Cargo's own resolution of the features (`cargo metadata`). Computed
//! at run time, before and after the builds.

use crate::apps::App;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    pub commit: String,
    /// `git status --porcelain` (ignored files excluded).
    pub porcelain: String,
    /// Anything modified, staged or untracked.
    pub dirty: bool,
    /// Modified or staged tracked files only (`--untracked-files=no`).
    pub dirty_tracked: bool,
    pub rustc_release: String,
    pub rustc_commit_hash: String,
    pub rustc_host: String,
    pub rustc_vv: String,
    /// The builds are for the host: the target is `rustc -vV`'s `host`.
    pub target: String,
}

pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{cmd:?}: {e}"))
}

pub fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())
}

impl Truth {
    pub fn now(root: &Path) -> Result<Truth, String> {
        let git = |args: &[&str]| run(Command::new("git").arg("-C").arg(root).args(args));
        let commit = git(&["rev-parse", "HEAD"])?.trim().to_string();
        let porcelain = git(&["status", "--porcelain"])?;
        let tracked = git(&["status", "--porcelain", "--untracked-files=no"])?;
        let vv = run(Command::new(rustc()).arg("-vV").current_dir(root))?;
        let field = |name: &str| {
            vv.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                .ok_or_else(|| format!("`{} -vV` has no `{name}` line", rustc()))
        };
        Ok(Truth {
            commit,
            dirty: !porcelain.trim().is_empty(),
            dirty_tracked: !tracked.trim().is_empty(),
            porcelain,
            rustc_release: field("release:")?,
            rustc_commit_hash: field("commit-hash:")?,
            rustc_host: field("host:")?,
            target: field("host:")?,
            rustc_vv: vv.trim().to_string(),
        })
    }
}

/// Whether git tracks the app's `Cargo.toml` (before the comparison's own
/// files are committed, it does not, and buildtrace, by design, treats an
/// enclosing repository that does not track the package as unrelated).
pub fn tracked(root: &Path, app: &App) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "--error-unmatch", "--"])
        .arg(app.source_dir(root).join("Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The package version and enabled features of an app, as Cargo resolves
/// them for `--features FEATURES`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageTruth {
    pub version: String,
    pub features: Vec<String>,
}

pub fn package(root: &Path, app: &App, features: &str) -> Result<PackageTruth, String> {
    let out = run(Command::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--features",
        ])
        .arg(features)
        .current_dir(app.source_dir(root)))?;
    let meta: serde_json::Value =
        serde_json::from_str(&out).map_err(|e| format!("cargo metadata: {e}"))?;
    let root_id = meta["resolve"]["root"]
        .as_str()
        .ok_or("cargo metadata: no resolve.root")?;
    let node = meta["resolve"]["nodes"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["id"] == root_id))
        .ok_or("cargo metadata: root node missing")?;
    let mut features: Vec<String> = node["features"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    features.sort();
    let version = meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["id"] == root_id))
        .and_then(|p| p["version"].as_str())
        .ok_or("cargo metadata: root package missing")?
        .to_string();
    Ok(PackageTruth { version, features })
}

/// How one build's reported fact compares with the truth.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    /// "correct", "wrong", "absent" or "undetermined".
    pub verdict: String,
    /// The attribute it was read from.
    pub key: Option<String>,
    pub value: Option<String>,
    pub note: Option<String>,
}

impl Verdict {
    fn absent() -> Verdict {
        Verdict {
            verdict: "absent".into(),
            key: None,
            value: None,
            note: None,
        }
    }
    fn of(verdict: &'static str, key: &str, value: &str, note: Option<String>) -> Verdict {
        Verdict {
            verdict: verdict.into(),
            key: Some(key.to_string()),
            value: Some(value.to_string()),
            note,
        }
    }
}

/// The facts checked, in report order.
pub const FACTS: [&str; 7] = [
    "commit (`git rev-parse HEAD`)",
    "dirty (`git status --porcelain`)",
    "rustc release (`$RUSTC -vV`)",
    "rustc commit-hash (`$RUSTC -vV`)",
    "target triple",
    "enabled features",
    "service.version (Cargo.toml)",
];

fn first<'a>(tags: &'a BTreeMap<String, String>, keys: &[&'a str]) -> Option<(&'a str, &'a str)> {
    keys.iter()
        .find_map(|k| tags.get(*k).map(|v| (*k, v.as_str())))
}

/// Checks the resource attributes one build exported (as Jaeger stored
/// them) against the truth. Attribute names: the semantic conventions where
/// they exist (`vcs.ref.head.revision`, `process.runtime.version`,
/// `service.version`); otherwise each build's own (`buildtrace.*` for
/// buildtrace, the names the hand-wired app gives vergen's values).
pub fn check(
    tags: &BTreeMap<String, String>,
    truth: &Truth,
    package: &PackageTruth,
    tree_stable: bool,
    declines_untracked: bool,
) -> Vec<Verdict> {
    let mut out = Vec::new();
    let untracked = || Verdict {
        verdict: "absent".into(),
        key: None,
        value: None,
        note: Some("by design while git does not track the package".into()),
    };

    // commit
    out.push(match first(tags, &["vcs.ref.head.revision"]) {
        None if declines_untracked => untracked(),
        None => Verdict::absent(),
        Some((k, v)) if v == truth.commit => Verdict::of("correct", k, v, None),
        Some((k, v)) if v.len() >= 7 && truth.commit.starts_with(v) => {
            Verdict::of("correct", k, v, Some("abbreviated".into()))
        }
        Some((k, v)) => Verdict::of("wrong", k, v, None),
    });

    // dirty
    out.push(match first(tags, &["buildtrace.git.dirty", "vcs.dirty"]) {
        None if declines_untracked => untracked(),
        None => Verdict::absent(),
        Some((k, v)) if !tree_stable => Verdict::of(
            "undetermined",
            k,
            v,
            Some("the working tree changed while the builds ran".into()),
        ),
        Some((k, v)) => match v.parse::<bool>() {
            Ok(b) if b == truth.dirty => Verdict::of("correct", k, v, None),
            Ok(b) if b == truth.dirty_tracked => Verdict::of(
                "wrong",
                k,
                v,
                Some("counts modified tracked files only; the tree has untracked files".into()),
            ),
            _ => Verdict::of("wrong", k, v, None),
        },
    });

    // rustc release
    out.push(match first(tags, &["process.runtime.version"]) {
        None => Verdict::absent(),
        Some((k, v)) if v == truth.rustc_release => Verdict::of("correct", k, v, None),
        Some((k, v)) => Verdict::of("wrong", k, v, None),
    });

    // rustc commit hash: a full-hash attribute, else the short hash in a
    // `rustc -V` style description, "rustc 1.95.0 (59807616e 2026-04-14)".
    out.push(
        match first(tags, &["buildtrace.rustc.commit_hash", "rustc.commit_hash"]) {
            Some((k, v)) if v == truth.rustc_commit_hash => Verdict::of("correct", k, v, None),
            Some((k, v)) => Verdict::of("wrong", k, v, None),
            None => match first(tags, &["process.runtime.description"]) {
                None => Verdict::absent(),
                Some((k, v)) => {
                    let short = v
                        .split('(')
                        .nth(1)
                        .and_then(|s| s.split_whitespace().next())
                        .unwrap_or("");
                    if short.len() >= 7 && truth.rustc_commit_hash.starts_with(short) {
                        Verdict::of(
                            "correct",
                            k,
                            v,
                            Some(format!("{}-digit prefix in the description", short.len())),
                        )
                    } else {
                        Verdict::of("wrong", k, v, None)
                    }
                }
            },
        },
    );

    // target
    out.push(
        match first(tags, &["buildtrace.target.triple", "build.target"]) {
            Some((k, v)) if v == truth.target => Verdict::of("correct", k, v, None),
            Some((k, v)) => Verdict::of("wrong", k, v, None),
            None => match first(tags, &["os.type", "host.arch"]) {
                Some((k, v)) => Verdict {
                    verdict: "absent".into(),
                    key: Some(k.to_string()),
                    value: Some(v.to_string()),
                    note: Some("only the OS or architecture of the running host".into()),
                },
                None => Verdict::absent(),
            },
        },
    );

    // features
    out.push(
        match first(tags, &["buildtrace.build.features", "build.features"]) {
            None => Verdict::absent(),
            Some((k, v)) => {
                let mut got: Vec<&str> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                got.sort();
                if got
                    == package
                        .features
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                {
                    Verdict::of("correct", k, v, None)
                } else {
                    let normalised: Vec<String> = package
                        .features
                        .iter()
                        .map(|f| f.replace('-', "_"))
                        .collect();
                    let note = (got == normalised.iter().map(String::as_str).collect::<Vec<_>>())
                        .then(|| "`-` spelled `_` (from CARGO_FEATURE_* variables)".to_string());
                    Verdict::of("wrong", k, v, note)
                }
            }
        },
    );

    // version
    out.push(match first(tags, &["service.version"]) {
        None => Verdict::absent(),
        Some((k, v)) if v == package.version => Verdict::of("correct", k, v, None),
        Some((k, v)) => Verdict::of("wrong", k, v, None),
    });

    out
}
