//! The build-script side: record the build's provenance in `OUT_DIR`.
//!
//! Call [`capture`] from the application's `build.rs`; [`embed!`](crate::embed!)
//! in the binary then places the record in its dedicated section.
//!
//! ```ignore
//! // build.rs
//! fn main() {
//!     buildtrace::build::capture();
//! }
//! ```
//!
//! # What is recorded, and where each fact comes from
//!
//! - **Source control**, through a fallback chain that records which source
//!   answered in `buildtrace.vcs.source`: `git` (commit, branch or tag, commit
//!   time, dirty state with a digest of the dirty diff, the scrubbed remote) →
//!   `cargo_vcs_info` (`.cargo_vcs_info.json` of a published crate) → `ci`
//!   (`GITHUB_SHA`, `CI_COMMIT_SHA`, `BUILDKITE_COMMIT`, `CIRCLE_SHA1`,
//!   `GIT_COMMIT`) → `override` (`BUILDTRACE_VCS_*`) → `none`. A git
//!   repository that encloses the package but does not track its `Cargo.toml`
//!   is not asked: its commit says nothing about this source.
//! - **Compiler**: `$RUSTC -vV`, the compiler Cargo actually runs.
//! - **Target, profile, opt-level, debug, features**: Cargo's build-script
//!   environment.
//! - **`Cargo.lock`**: the SHA-256 and package count of the lock file of the
//!   workspace the package is built in (`none` without one).
//! - **CI run**: the platform as `built` detects it, and its documented
//!   variables for pipeline, run id, attempt and run page.
//! - **Time**: source time is `SOURCE_DATE_EPOCH`, else the commit time; build
//!   time is `SOURCE_DATE_EPOCH`, else the clock; each with its source. An
//!   invalid `SOURCE_DATE_EPOCH` is a Cargo warning and an `invalid` marker,
//!   never a silent fallback.
//!
//! Nothing else from the environment is read, and no absolute path or host
//! name is recorded, so the record is free of secrets and reproducible.
//!
//! # Freshness
//!
//! The build script reruns when, and only when, a recorded fact can have
//! changed: the resolved git paths (`HEAD`, the current ref, `packed-refs`, the
//! index, per worktree), every tracked and untracked file, `Cargo.lock`, and
//! the variables above.

mod ci;
mod git;
mod rustc;

use crate::names;
use crate::provenance::{self, OwnedValue};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Environment variables that override the VCS facts when nothing else answers.
pub const OVERRIDE_REVISION: &str = "BUILDTRACE_VCS_REVISION";
/// Override of `vcs.ref.head.name`.
pub const OVERRIDE_REF_NAME: &str = "BUILDTRACE_VCS_REF_NAME";
/// Override of `vcs.ref.head.type` (`branch` or `tag`).
pub const OVERRIDE_REF_TYPE: &str = "BUILDTRACE_VCS_REF_TYPE";
/// Override of `vcs.repository.url.full` (scrubbed like a git remote).
pub const OVERRIDE_URL: &str = "BUILDTRACE_VCS_URL";
/// The git executable to run.
pub const GIT: &str = "BUILDTRACE_GIT";
/// `GIT`'s default.
pub const GIT_DEFAULT: &str = "git";
/// The reproducible-builds time variable.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
/// The path of a PKCS#8 PEM private key (ECDSA P-256) to sign the record
/// with at build time. A relative path is taken from the package directory.
/// The key is read by the build script only: it never reaches `OUT_DIR`,
/// `target/` or the binary. Needs the `build-sign` feature: without it, a
/// set key fails the build, saying so (a record is never left unsigned
/// behind the back of whoever asked for a signature).
pub const SIGNING_KEY: &str = "BUILDTRACE_SIGNING_KEY";
/// Name of the record file in `OUT_DIR`, which `embed!()` includes.
pub const RECORD_FILE: &str = "buildtrace.bin";

/// Why a record could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaptureError {
    /// A variable Cargo always sets for build scripts is missing.
    NotInBuildScript(&'static str),
    /// Writing the record to `OUT_DIR` failed.
    Write(std::io::Error),
    /// [`SIGNING_KEY`] is set but the key cannot be used.
    Signing(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NotInBuildScript(var) => write!(
                f,
                "{var} is not set: buildtrace::build::capture() must be called from a Cargo build script (build.rs)"
            ),
            CaptureError::Write(e) => write!(f, "cannot write the record to OUT_DIR: {e}; check the target directory is writable"),
            CaptureError::Signing(e) => write!(f, "{SIGNING_KEY}: {e} (unset {SIGNING_KEY} to build an unsigned record)"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// The outcome of a capture.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Where the record was written (`$OUT_DIR/buildtrace.bin`).
    pub path: PathBuf,
    /// The provenance ID.
    pub id: String,
    /// The encoded record, as it will appear in the binary.
    pub bytes: Vec<u8>,
}

/// Records the build's provenance for [`embed!`](crate::embed!). Never fails
/// for lack of git or CI: missing facts are recorded as unknown, with a Cargo
/// warning where something looks broken.
///
/// # Panics
/// Outside a build script, or when `OUT_DIR` cannot be written, with a
/// message saying which.
pub fn capture() -> Captured {
    match try_capture() {
        Ok(c) => c,
        Err(e) => panic!("buildtrace: {e}"),
    }
}

/// Like [`capture`], returning the error instead of panicking.
///
/// # Errors
/// [`CaptureError`] outside a build script or when `OUT_DIR` is not writable.
pub fn try_capture() -> Result<Captured, CaptureError> {
    capture_printing(&|k| std::env::var(k).ok())
}

/// buildtrace's own build script: its record is never signed, whatever
/// [`SIGNING_KEY`] says (a key set for the application being built is that
/// application's).
#[doc(hidden)]
#[allow(dead_code)] // used by build.rs, which includes this module
pub(crate) fn capture_unsigned() -> Captured {
    capture_printing(&|k| (k != SIGNING_KEY).then(|| std::env::var(k).ok()).flatten())
        .unwrap_or_else(|e| panic!("buildtrace: {e}"))
}

/// Captures with `env` and prints the `cargo:` lines for cargo, whatever
/// the outcome (the rerun triggers matter on failure too).
fn capture_printing(env: &dyn Fn(&str) -> Option<String>) -> Result<Captured, CaptureError> {
    let mut out = Cargo::default();
    let result = capture_with(env, &mut out);
    print!("{}", out.lines);
    result
}

/// Collects the `cargo:` lines to print.
#[derive(Default)]
struct Cargo {
    lines: String,
}

impl Cargo {
    fn warn(&mut self, msg: &str) {
        // One line per warning; Cargo shows each.
        let msg = msg.replace(['\n', '\r'], " ");
        self.lines
            .push_str(&format!("cargo:warning=buildtrace: {msg}\n"));
    }
    fn rerun_if_changed(&mut self, path: &Path) {
        if let Some(p) = path.to_str().filter(|p| !p.contains('\n')) {
            self.lines
                .push_str(&format!("cargo:rerun-if-changed={p}\n"));
        }
    }
    fn rerun_if_env_changed(&mut self, var: &str) {
        self.lines
            .push_str(&format!("cargo:rerun-if-env-changed={var}\n"));
    }
}

struct Record(BTreeMap<String, OwnedValue>);

impl Record {
    fn str(&mut self, key: &str, value: impl Into<String>) {
        let v = value.into();
        if !v.is_empty() {
            self.0.insert(key.to_owned(), OwnedValue::Str(v));
        }
    }
    fn opt(&mut self, key: &str, value: Option<impl Into<String>>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn capture_with(
    env: &dyn Fn(&str) -> Option<String>,
    cargo: &mut Cargo,
) -> Result<Captured, CaptureError> {
    let need = |k: &'static str| env(k).ok_or(CaptureError::NotInBuildScript(k));
    let out_dir = PathBuf::from(need("OUT_DIR")?);
    let manifest_dir = PathBuf::from(need("CARGO_MANIFEST_DIR")?);
    let mut r = Record(BTreeMap::new());

    r.str(names::SERVICE_NAME, need("CARGO_PKG_NAME")?);
    r.str(names::SERVICE_VERSION, need("CARGO_PKG_VERSION")?);
    r.str(names::TELEMETRY_DISTRO_NAME, "buildtrace");
    r.str(names::TELEMETRY_DISTRO_VERSION, env!("CARGO_PKG_VERSION"));

    for var in [
        GIT,
        OVERRIDE_REVISION,
        OVERRIDE_REF_NAME,
        OVERRIDE_REF_TYPE,
        OVERRIDE_URL,
        SOURCE_DATE_EPOCH,
        SIGNING_KEY,
    ] {
        cargo.rerun_if_env_changed(var);
    }
    for var in ci::VARIABLES {
        cargo.rerun_if_env_changed(var);
    }

    let commit_time = vcs(env, &manifest_dir, &out_dir, &mut r, cargo);
    compiler(env, &mut r, cargo);
    target_and_profile(env, &out_dir, &mut r);
    lock(env, &manifest_dir, &mut r, cargo);

    if let Some(run) = ci::run(built::util::detect_ci(), env) {
        r.str(names::CI_PROVIDER, run.provider);
        r.opt(names::CICD_PIPELINE_NAME, run.pipeline);
        r.opt(names::CICD_PIPELINE_RUN_ID, run.run_id);
        r.opt(names::CI_RUN_ATTEMPT, run.attempt);
        r.opt(names::CICD_PIPELINE_RUN_URL_FULL, run.url);
    }

    times(env, commit_time, &mut r, cargo);

    let id = provenance::provenance_id(&r.0, sha256);
    r.str(names::ID, id.clone());
    let mut bytes = provenance::encode_record(&provenance::encode_payload(&r.0), sha256);
    if let Some(key) = env(SIGNING_KEY).filter(|k| !k.is_empty()) {
        let key = manifest_dir.join(key);
        cargo.rerun_if_changed(&key);
        sign_record(&mut bytes, &key)?;
    }
    let path = out_dir.join(RECORD_FILE);
    // Rewrite only on change, so that a rerun with the same facts does not
    // make the binary look changed to tools that watch mtimes.
    if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(&path, &bytes).map_err(CaptureError::Write)?;
    }
    Ok(Captured { path, id, bytes })
}

/// Signs the record header (which carries the payload digest) into the
/// seal slot. Deterministic (RFC 6979), so reproducible builds stay so.
#[cfg(feature = "build-sign")]
fn sign_record(record: &mut [u8], key: &Path) -> Result<(), CaptureError> {
    let key = crate::signing::signing_key_from_file(key)
        .map_err(|e| CaptureError::Signing(e.to_string()))?;
    let header = &record[..provenance::HEADER_LEN];
    let sig = crate::signing::sign(&key, &[crate::slot::PAYLOAD_CONTEXT, header]);
    let key_id = crate::signing::key_id(key.verifying_key());
    let slot_at = record.len() - provenance::SEAL_LEN;
    let slot: &mut [u8; provenance::SEAL_LEN] = (&mut record[slot_at..])
        .try_into()
        .expect("the record ends with its slot");
    crate::slot::write_payload_signature(slot, &key_id, &sig);
    Ok(())
}

/// Without the `build-sign` feature: a key was asked for, and this build of
/// buildtrace cannot sign.
#[cfg(not(feature = "build-sign"))]
fn sign_record(_: &mut [u8], _: &Path) -> Result<(), CaptureError> {
    Err(CaptureError::Signing(
        "this build of buildtrace cannot sign: add its `build-sign` feature to the build-dependency (features = [\"build\", \"build-sign\"])".to_owned(),
    ))
}

/// The VCS fallback chain. Returns the commit time when known.
fn vcs(
    env: &dyn Fn(&str) -> Option<String>,
    manifest_dir: &Path,
    out_dir: &Path,
    r: &mut Record,
    cargo: &mut Cargo,
) -> Option<u64> {
    let git_program = env(GIT)
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| GIT_DEFAULT.to_owned());
    match git::inspect(&git_program, manifest_dir, out_dir) {
        git::Outcome::Facts(f) if f.revision.is_some() || f.dirty => {
            r.str(names::VCS_SOURCE, "git");
            r.opt(names::VCS_REF_HEAD_REVISION, f.revision);
            r.opt(names::VCS_REF_HEAD_NAME, f.ref_name);
            r.opt(names::VCS_REF_HEAD_TYPE, f.ref_type);
            r.opt(names::VCS_REPOSITORY_URL_FULL, f.remote);
            r.0.insert(names::GIT_DIRTY.to_owned(), OwnedValue::Bool(f.dirty));
            r.opt(names::GIT_DIRTY_DIGEST, f.dirty_digest);
            r.opt(names::GIT_COMMIT_TIME, f.commit_time.map(rfc3339));
            for p in f.watch.iter().filter(|p| p.exists()) {
                cargo.rerun_if_changed(p);
            }
            return f.commit_time;
        }
        git::Outcome::Facts(f) => {
            // A repository with no commit and a clean tree: watch it so the
            // first commit is picked up, then fall back.
            for p in f.watch.iter().filter(|p| p.exists()) {
                cargo.rerun_if_changed(p);
            }
        }
        git::Outcome::Failed(warning) => cargo.warn(&warning),
        git::Outcome::NotARepo | git::Outcome::Unrelated => {}
    }

    let vcs_info = manifest_dir.join(".cargo_vcs_info.json");
    if vcs_info.exists() {
        cargo.rerun_if_changed(&vcs_info);
        match std::fs::read_to_string(&vcs_info).map(|s| parse_cargo_vcs_info(&s)) {
            Ok(Some((sha, dirty))) => {
                r.str(names::VCS_SOURCE, "cargo_vcs_info");
                r.str(names::VCS_REF_HEAD_REVISION, sha);
                if let Some(d) = dirty {
                    r.0.insert(names::GIT_DIRTY.to_owned(), OwnedValue::Bool(d));
                }
                return None;
            }
            _ => cargo.warn(".cargo_vcs_info.json has no usable git.sha1; ignoring it"),
        }
    }

    if let Some(c) = ci::commit(env) {
        r.str(names::VCS_SOURCE, "ci");
        r.str(names::VCS_REF_HEAD_REVISION, c.revision);
        r.opt(names::VCS_REF_HEAD_NAME, c.ref_name);
        r.opt(names::VCS_REF_HEAD_TYPE, c.ref_type);
        return None;
    }

    let revision = env(OVERRIDE_REVISION).filter(|s| !s.is_empty());
    if let Some(rev) = revision {
        if ci::is_object_name(rev.trim()) {
            r.str(names::VCS_SOURCE, "override");
            r.str(
                names::VCS_REF_HEAD_REVISION,
                rev.trim().to_ascii_lowercase(),
            );
            r.opt(
                names::VCS_REF_HEAD_NAME,
                env(OVERRIDE_REF_NAME).filter(|s| !s.is_empty()),
            );
            match env(OVERRIDE_REF_TYPE).as_deref() {
                Some(t @ ("branch" | "tag")) => r.str(names::VCS_REF_HEAD_TYPE, t),
                Some(other) if !other.is_empty() => cargo.warn(&format!(
                    "{OVERRIDE_REF_TYPE} must be `branch` or `tag`; ignoring {other:?}"
                )),
                _ => {}
            }
            r.opt(
                names::VCS_REPOSITORY_URL_FULL,
                env(OVERRIDE_URL)
                    .as_deref()
                    .and_then(crate::scrub::canonical_remote),
            );
            return None;
        }
        cargo.warn(&format!(
            "{OVERRIDE_REVISION} is not a hex commit id; ignoring it"
        ));
    }

    r.str(names::VCS_SOURCE, "none");
    None
}

/// `(sha1, dirty)` from a `.cargo_vcs_info.json`.
fn parse_cargo_vcs_info(json: &str) -> Option<(String, Option<bool>)> {
    // The file is Cargo's own, with a fixed shape; a full JSON parser in every
    // build script would cost more than it buys.
    let after = json.split_once("\"sha1\"")?.1;
    let value = after.split_once('"')?.1.split_once('"')?.0;
    if !ci::is_object_name(value) {
        return None;
    }
    let dirty = json.split_once("\"dirty\"").and_then(|(_, rest)| {
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        if rest.starts_with("true") {
            Some(true)
        } else if rest.starts_with("false") {
            Some(false)
        } else {
            None
        }
    });
    Some((value.to_ascii_lowercase(), dirty.or(Some(false))))
}

fn compiler(env: &dyn Fn(&str) -> Option<String>, r: &mut Record, cargo: &mut Cargo) {
    let rustc = env("RUSTC").unwrap_or_else(|| "rustc".to_owned());
    r.str(names::PROCESS_RUNTIME_NAME, "rustc");
    match rustc::query(&rustc) {
        Ok(v) => {
            r.str(names::PROCESS_RUNTIME_DESCRIPTION, v.description());
            r.opt(names::PROCESS_RUNTIME_VERSION, v.release);
            r.opt(names::RUSTC_COMMIT_HASH, v.commit_hash);
            r.opt(names::RUSTC_COMMIT_DATE, v.commit_date);
            r.opt(names::RUSTC_HOST, v.host);
            r.opt(names::RUSTC_LLVM_VERSION, v.llvm_version);
        }
        Err(e) => cargo.warn(&e),
    }
}

fn target_and_profile(env: &dyn Fn(&str) -> Option<String>, out_dir: &Path, r: &mut Record) {
    r.opt(names::TARGET_TRIPLE, env("TARGET"));
    r.opt(names::TARGET_ARCH, env("CARGO_CFG_TARGET_ARCH"));
    r.opt(names::TARGET_OS, env("CARGO_CFG_TARGET_OS"));
    r.opt(names::TARGET_ENV, env("CARGO_CFG_TARGET_ENV"));
    if let Some(w) = env("CARGO_CFG_TARGET_POINTER_WIDTH").and_then(|w| w.parse().ok()) {
        r.0.insert(names::TARGET_POINTER_WIDTH.to_owned(), OwnedValue::Int(w));
    }
    r.opt(
        names::BUILD_PROFILE,
        profile_name(out_dir).or_else(|| env("PROFILE")),
    );
    r.opt(names::BUILD_OPT_LEVEL, env("OPT_LEVEL"));
    if let Some(d) = env("DEBUG") {
        // Cargo says `true`/`false`, or a level on old versions.
        r.0.insert(
            names::BUILD_DEBUG.to_owned(),
            OwnedValue::Bool(!matches!(d.as_str(), "false" | "0" | "none")),
        );
    }
    r.str(names::BUILD_FEATURES, features(env));
}

/// The Cargo profile: the directory of `target/` the build lands in
/// (`OUT_DIR` is `<target>/[<triple>/]<profile>/build/<pkg>-<hash>/out`);
/// Cargo names the `dev` profile's directory `debug`.
fn profile_name(out_dir: &Path) -> Option<String> {
    let dir = out_dir.ancestors().nth(3)?.file_name()?.to_str()?;
    Some(if dir == "debug" { "dev" } else { dir }.to_owned())
}

/// Enabled features, sorted, comma-separated, as spelled in `Cargo.toml`.
fn features(env: &dyn Fn(&str) -> Option<String>) -> String {
    // CARGO_CFG_FEATURE keeps the original spelling (Cargo ≥ 1.80).
    if let Some(list) = env("CARGO_CFG_FEATURE") {
        let mut v: Vec<&str> = list.split(',').filter(|f| !f.is_empty()).collect();
        v.sort_unstable();
        v.dedup();
        return v.join(",");
    }
    let mut v: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter_map(|k| {
            k.strip_prefix("CARGO_FEATURE_")
                .map(|f| f.to_ascii_lowercase().replace('_', "-"))
        })
        .collect();
    v.sort_unstable();
    v.join(",")
}

fn lock(
    env: &dyn Fn(&str) -> Option<String>,
    manifest_dir: &Path,
    r: &mut Record,
    cargo: &mut Cargo,
) {
    let path = workspace_root(env, manifest_dir)
        .unwrap_or_else(|| manifest_dir.to_path_buf())
        .join("Cargo.lock");
    match std::fs::read(&path) {
        Ok(bytes) => {
            cargo.rerun_if_changed(&path);
            r.str(names::LOCK_SHA256, provenance::hex(&sha256(&bytes)));
            let packages = bytes
                .split(|&b| b == b'\n')
                .filter(|l| l.trim_ascii() == b"[[package]]")
                .count();
            r.0.insert(
                names::LOCK_PACKAGES.to_owned(),
                OwnedValue::Int(packages as i64),
            );
        }
        Err(_) => r.str(names::LOCK_SHA256, "none"),
    }
}

/// The root of the workspace Cargo is building, which holds the lock file
/// actually used.
fn workspace_root(env: &dyn Fn(&str) -> Option<String>, manifest_dir: &Path) -> Option<PathBuf> {
    let cargo = env("CARGO")?;
    let out = std::process::Command::new(cargo)
        .args([
            "locate-project",
            "--workspace",
            "--message-format",
            "plain",
            "--offline",
        ])
        .current_dir(manifest_dir)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let manifest = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    manifest.parent().map(Path::to_path_buf)
}

fn times(
    env: &dyn Fn(&str) -> Option<String>,
    commit_time: Option<u64>,
    r: &mut Record,
    cargo: &mut Cargo,
) {
    match env(SOURCE_DATE_EPOCH) {
        Some(raw) if !raw.is_empty() => match parse_source_date_epoch(&raw) {
            Some(t) => {
                r.str(names::SOURCE_TIME, rfc3339(t));
                r.str(names::SOURCE_TIME_SOURCE, "source_date_epoch");
                r.str(names::BUILD_TIME, rfc3339(t));
                r.str(names::BUILD_TIME_SOURCE, "source_date_epoch");
                return;
            }
            None => {
                cargo.warn(&format!(
                    "SOURCE_DATE_EPOCH={:?} is not a non-negative whole number of seconds; recording it as invalid \
                     and using the commit time and the clock instead",
                    raw.chars().take(40).collect::<String>()
                ));
                r.str(names::SOURCE_TIME, "invalid");
                r.str(names::SOURCE_TIME_SOURCE, "source_date_epoch_invalid");
                r.str(names::BUILD_TIME, rfc3339(now()));
                r.str(names::BUILD_TIME_SOURCE, "clock_source_date_epoch_invalid");
                return;
            }
        },
        _ => {}
    }
    match commit_time {
        Some(t) => {
            r.str(names::SOURCE_TIME, rfc3339(t));
            r.str(names::SOURCE_TIME_SOURCE, "commit");
        }
        None => r.str(names::SOURCE_TIME_SOURCE, "none"),
    }
    r.str(names::BUILD_TIME, rfc3339(now()));
    r.str(names::BUILD_TIME_SOURCE, "clock");
}

/// `SOURCE_DATE_EPOCH` per the reproducible-builds specification: ASCII
/// digits only, no sign, no fraction.
fn parse_source_date_epoch(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 12 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_accepts_digits_only() {
        assert_eq!(parse_source_date_epoch("1700000000"), Some(1_700_000_000));
        for bad in ["", "-1", "+5", "1.5", "abc", " 1", "9999999999999"] {
            assert_eq!(parse_source_date_epoch(bad), None, "{bad:?}");
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn profile_comes_from_the_target_layout() {
        let p = |s: &str| profile_name(Path::new(s));
        assert_eq!(p("/t/debug/build/x-1/out").as_deref(), Some("dev"));
        assert_eq!(
            p("/t/x86_64-unknown-linux-gnu/release/build/x-1/out").as_deref(),
            Some("release")
        );
        assert_eq!(p("/t/fat/build/x-1/out").as_deref(), Some("fat"));
    }

    #[test]
    fn cargo_vcs_info_is_read() {
        let json = r#"{ "git": { "sha1": "0123456789abcdef0123456789abcdef01234567", "dirty": true }, "path_in_vcs": "" }"#;
        assert_eq!(
            parse_cargo_vcs_info(json),
            Some((
                "0123456789abcdef0123456789abcdef01234567".to_owned(),
                Some(true)
            ))
        );
        assert_eq!(parse_cargo_vcs_info(r#"{"git":{"sha1":"nothex"}}"#), None);
    }
}
