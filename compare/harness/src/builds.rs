//! Clean builds, the no-op rebuild check, binary sizes.

use crate::apps::App;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The features every build is made with (plus its default `cache`).
pub const FEATURES: &str = "admin-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildResult {
    pub app: String,
    /// Seconds of each clean build (fresh target directory, crates already
    /// downloaded); empty when the build reused its target directory.
    pub clean_secs: Vec<f64>,
    /// Build scripts (by package) the no-op rebuild ran again.
    pub noop_reran: Vec<String>,
    /// Cargo's reasons for rebuilding anything in the no-op rebuild.
    pub noop_dirty: Vec<String>,
    /// No-op rebuilds made: another follows (up to three) when cargo says a
    /// file changed meanwhile, i.e. someone edited the tree during the run.
    pub noop_attempts: usize,
    /// Cargo's reasons in the rebuilds before the last.
    pub noop_meanwhile: Vec<String>,
    pub binary_bytes: u64,
    pub stripped_bytes: u64,
}

fn cargo_build(app: &App, root: &Path, verbose: bool, log: &Path) -> Result<String, String> {
    let mut cmd = Command::new("cargo");
    cmd.args([
        "build",
        "--release",
        "--locked",
        "--offline",
        "--features",
        FEATURES,
    ])
    .current_dir(app.source_dir(root))
    .env("CARGO_TARGET_DIR", app.target_dir(root))
    .env_remove("RUSTFLAGS")
    .stdin(Stdio::null());
    if verbose {
        cmd.arg("-v");
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cargo build for {}: {e}", app.key))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::write(log, &stderr);
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        return Err(format!(
            "cargo build of {} failed ({}); last lines of {}:\n{}",
            app.key,
            out.status,
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(stderr)
}

/// `cargo fetch --locked`, so the timed builds download nothing.
pub fn fetch(app: &App, root: &Path) -> Result<(), String> {
    crate::truth::run(
        Command::new("cargo")
            .args(["fetch", "--locked", "--quiet"])
            .current_dir(app.source_dir(root)),
    )
    .map(drop)
}

/// Builds `app`: `clean_runs` times from an empty target directory (timed),
/// or once into the existing one when `clean_runs` is 0; then once more
/// with nothing changed, to see whether a build script runs again.
pub fn build(
    app: &App,
    root: &Path,
    clean_runs: usize,
    logs: &Path,
) -> Result<BuildResult, String> {
    let mut clean_secs = Vec::new();
    if clean_runs == 0 {
        cargo_build(
            app,
            root,
            false,
            &logs.join(format!("build-{}.log", app.key)),
        )?;
    }
    for i in 0..clean_runs {
        let dir = app.target_dir(root);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| format!("removing {}: {e}", dir.display()))?;
        }
        let started = Instant::now();
        cargo_build(
            app,
            root,
            false,
            &logs.join(format!("build-{}-{i}.log", app.key)),
        )?;
        clean_secs.push(started.elapsed().as_secs_f64());
        eprintln!(
            "  {}: clean build {} of {clean_runs}: {:.1} s",
            app.key,
            i + 1,
            clean_secs[i]
        );
    }
    let mut noop_meanwhile = Vec::new();
    let mut noop_attempts = 0;
    let (noop_reran, noop_dirty) = loop {
        noop_attempts += 1;
        let noop = cargo_build(
            app,
            root,
            true,
            &logs.join(format!("noop-{}-{noop_attempts}.log", app.key)),
        )?;
        let (reran, dirty) = parse_noop(&noop);
        // A build script that reruns for nothing reruns every time; one that
        // reran because a file really changed meanwhile does not rerun again.
        if reran.is_empty()
            || noop_attempts == 3
            || !dirty.iter().any(|d| d.contains("has changed"))
        {
            break (reran, dirty);
        }
        noop_meanwhile.extend(dirty);
    };

    let binary = app.binary(root);
    let binary_bytes = std::fs::metadata(&binary)
        .map_err(|e| format!("{}: {e}", binary.display()))?
        .len();
    let stripped = logs.join(format!("{}.stripped", app.package()));
    std::fs::copy(&binary, &stripped).map_err(|e| format!("copying {}: {e}", binary.display()))?;
    crate::truth::run(Command::new("strip").arg("--strip-all").arg(&stripped))?;
    let stripped_bytes = std::fs::metadata(&stripped)
        .map_err(|e| e.to_string())?
        .len();
    let _ = std::fs::remove_file(&stripped);
    Ok(BuildResult {
        app: app.key.to_string(),
        clean_secs,
        noop_reran,
        noop_dirty,
        noop_attempts,
        noop_meanwhile,
        binary_bytes,
        stripped_bytes,
    })
}

/// From `cargo build -v` output: the packages whose build script ran
/// (`Running `…/build/<package>-<hash>/build-script-build``), and the
/// `Dirty …` lines that say why anything was rebuilt.
pub fn parse_noop(stderr: &str) -> (Vec<String>, Vec<String>) {
    let mut reran = Vec::new();
    let mut dirty = Vec::new();
    for line in stderr.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Running `") {
            let program = rest.split([' ', '`']).next().unwrap_or("");
            let p = PathBuf::from(program);
            if p.file_name().is_some_and(|f| f == "build-script-build") {
                if let Some(dir) = p
                    .parent()
                    .and_then(|d| d.file_name())
                    .and_then(|d| d.to_str())
                {
                    let package = dir.rsplit_once('-').map(|(n, _)| n).unwrap_or(dir);
                    reran.push(package.to_string());
                }
            }
        } else if t.starts_with("Dirty ") {
            dirty.push(t.to_string());
        }
    }
    reran.sort();
    reran.dedup();
    (reran, dirty)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_rerun_build_scripts() {
        let log = "       Fresh libc v0.2.1\n       Dirty compare-hand v1.4.0 (/x): the file `build.rs` has changed\n     Running `/t/release/build/compare-hand-0123abcd/build-script-build`\n     Running `/usr/bin/rustc --crate-name compare_hand`\n";
        let (reran, dirty) = super::parse_noop(log);
        assert_eq!(reran, ["compare-hand"]);
        assert_eq!(dirty.len(), 1);
    }
}
