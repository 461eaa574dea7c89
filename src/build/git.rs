//! What git says about the package's source tree.
//!
//! Every question is a plain `git` command run in the package directory with
//! `GIT_OPTIONAL_LOCKS=0`, so asking never rewrites the index (which would make
//! the next build rerun the build script for nothing). Any failure — git
//! missing, refusing the repository, or broken — becomes an [`Outcome`]; it
//! never fails the build.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Facts git gave.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub(crate) revision: Option<String>,
    pub(crate) ref_name: Option<String>,
    pub(crate) ref_type: Option<&'static str>,
    pub(crate) commit_time: Option<u64>,
    pub(crate) dirty: bool,
    pub(crate) dirty_digest: Option<String>,
    pub(crate) remote: Option<String>,
    /// Files whose change must rerun the build script.
    pub(crate) watch: Vec<PathBuf>,
}

/// What asking git came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The package is in a git repository that tracks it.
    Facts(Facts),
    /// No repository around the package.
    NotARepo,
    /// A repository encloses the package but does not track it.
    Unrelated,
    /// git is missing, refuses the repository or failed: the warning to show.
    Failed(String),
}

struct Git<'a> {
    program: &'a str,
    dir: &'a Path,
}

enum RunError {
    Spawn(std::io::Error),
    Status(String),
}

impl Git<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.program);
        c.arg("-C").arg(self.dir).args(args);
        c.env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null());
        c
    }

    fn output(&self, args: &[&str]) -> Result<Output, RunError> {
        let out = self.command(args).output().map_err(RunError::Spawn)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(RunError::Status(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        }
    }

    fn text(&self, args: &[&str]) -> Result<String, RunError> {
        let out = self.output(args)?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .trim_end_matches(['\n', '\r'])
            .to_owned())
    }

    fn opt(&self, args: &[&str]) -> Option<String> {
        self.text(args).ok().filter(|s| !s.is_empty())
    }
}

/// Asks `program` (usually `git`) about the package in `dir`.
pub(crate) fn inspect(program: &str, dir: &Path, out_dir: &Path) -> Outcome {
    let git = Git { program, dir };
    let toplevel = match git.text(&["rev-parse", "--show-toplevel"]) {
        Ok(t) => PathBuf::from(t),
        Err(RunError::Spawn(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Outcome::Failed(format!(
                "`{program}` not found: VCS facts come from the fallbacks (install git, or set BUILDTRACE_GIT)"
            ))
        }
        Err(RunError::Spawn(e)) => return Outcome::Failed(format!("could not run `{program}`: {e}")),
        Err(RunError::Status(err)) if err.contains("not a git repository") => return Outcome::NotARepo,
        Err(RunError::Status(err)) if err.contains("dubious ownership") => {
            return Outcome::Failed(
                "git refuses the repository (dubious ownership): build as the owner of the checkout, or run \
                 `git config --global --add safe.directory <checkout>`; VCS facts come from the fallbacks"
                    .to_owned(),
            )
        }
        Err(RunError::Status(err)) => return Outcome::Failed(format!("git failed: {}", first_line(&err))),
    };

    // A repository that encloses the package without tracking it is someone
    // else's (a crate unpacked inside an unrelated checkout): its commit says
    // nothing about this source.
    let own_root = same_dir(&toplevel, dir);
    if !own_root
        && git
            .output(&["ls-files", "--error-unmatch", "--", "Cargo.toml"])
            .is_err()
    {
        return Outcome::Unrelated;
    }

    let mut facts = Facts {
        revision: git.opt(&["rev-parse", "--verify", "-q", "HEAD^{commit}"]),
        ..Facts::default()
    };
    if let Some(branch) = git.opt(&["symbolic-ref", "-q", "--short", "HEAD"]) {
        if facts.revision.is_some() {
            facts.ref_name = Some(branch);
            facts.ref_type = Some("branch");
        }
    } else if let Some(tag) = git.opt(&["describe", "--tags", "--exact-match", "HEAD"]) {
        facts.ref_name = Some(tag);
        facts.ref_type = Some("tag");
    }
    if facts.revision.is_some() {
        facts.commit_time = git
            .opt(&["show", "-s", "--format=%ct", "HEAD"])
            .and_then(|t| t.parse().ok());
    }
    facts.remote = remote(
        &git,
        facts.ref_type == Some("branch"),
        facts.ref_name.as_deref(),
    );

    // Dirty, as Go defines it: modified, staged or untracked; ignored files
    // do not count.
    let status = git
        .output(&[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=none",
        ])
        .map(|o| o.stdout)
        .unwrap_or_default();
    facts.dirty = !status.is_empty();
    let tracked = git
        .output(&["ls-files", "-z", "--full-name"])
        .map(|o| o.stdout)
        .unwrap_or_default();
    let untracked = git
        .output(&[
            "ls-files",
            "-z",
            "--full-name",
            "--others",
            "--exclude-standard",
        ])
        .map(|o| o.stdout)
        .unwrap_or_default();
    if facts.dirty {
        facts.dirty_digest = Some(dirty_digest(
            &git,
            &toplevel,
            facts.revision.is_some(),
            &untracked,
        ));
    }

    // Freshness: the resolved git paths (HEAD and its reflog, the current
    // ref, packed-refs, the index; per worktree where git keeps them apart)
    // and the source tree.
    let current_ref = git.opt(&["symbolic-ref", "-q", "HEAD"]);
    let mut git_paths = vec!["HEAD", "logs/HEAD", "index", "packed-refs"];
    if let Some(r) = current_ref.as_deref() {
        git_paths.push(r);
    }
    let mut args = vec!["rev-parse"];
    for p in &git_paths {
        args.extend(["--git-path", p]);
    }
    if let Ok(paths) = git.text(&args) {
        for (i, p) in paths.lines().enumerate() {
            let p = Path::new(p);
            let p = if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            };
            // A ref that is only packed becomes a loose file on the next
            // commit: watch the directory it will appear in.
            if i == 4 && !p.exists() {
                facts.watch.extend(p.parent().map(Path::to_path_buf));
            } else {
                facts.watch.push(p);
            }
        }
    }
    let files = tracked
        .split(|&b| b == 0)
        .chain(untracked.split(|&b| b == 0));
    facts.watch.extend(tree_watch(&toplevel, out_dir, files));
    Outcome::Facts(facts)
}

/// What to watch so that editing, adding or removing a file reruns the build
/// script: the shallowest directory above each file that does not hold the
/// target directory (Cargo scans a watched directory recursively, and the
/// target directory changes on every build), else the file itself. A file
/// added directly in a directory that holds the target directory is the one
/// change this misses until the next rerun.
fn tree_watch<'a>(
    toplevel: &Path,
    out_dir: &Path,
    files: impl Iterator<Item = &'a [u8]>,
) -> Vec<PathBuf> {
    let mut watch = std::collections::BTreeSet::new();
    for name in files
        .filter_map(|n| std::str::from_utf8(n).ok())
        .filter(|n| !n.is_empty())
    {
        let mut chosen = toplevel.join(name);
        let mut dir = toplevel.to_path_buf();
        let mut parts = Path::new(name).components().peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                break; // the file itself
            }
            dir.push(part);
            if !out_dir.starts_with(&dir) {
                chosen = dir.clone();
                break;
            }
        }
        watch.insert(chosen);
    }
    watch.into_iter().collect()
}

fn remote(git: &Git<'_>, on_branch: bool, branch: Option<&str>) -> Option<String> {
    let upstream = if on_branch {
        branch.and_then(|b| git.opt(&["config", "--get", &format!("branch.{b}.remote")]))
    } else {
        None
    };
    let names = git.opt(&["remote"]).unwrap_or_default();
    let name = upstream
        .or_else(|| names.lines().find(|n| *n == "origin").map(str::to_owned))
        .or_else(|| names.lines().next().map(str::to_owned))?;
    let raw = git.opt(&["config", "--get", &format!("remote.{name}.url")])?;
    crate::scrub::canonical_remote(&raw)
}

/// SHA-256 over the tracked changes against HEAD (binary diff, staged and
/// unstaged) and the content of each untracked file; names enter the hash,
/// never the record.
fn dirty_digest(git: &Git<'_>, toplevel: &Path, has_head: bool, untracked: &[u8]) -> String {
    const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    let base = if has_head { "HEAD" } else { EMPTY_TREE };
    let mut h = Sha256::new();
    h.update(b"buildtrace dirty v1\0");
    if let Ok(out) = git.output(&["diff", "--binary", "--no-ext-diff", "--no-textconv", base]) {
        h.update(&out.stdout);
    }
    let mut names: Vec<&[u8]> = untracked
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .collect();
    names.sort_unstable();
    for name in names {
        h.update(b"\0untracked\0");
        h.update(name);
        h.update(b"\0");
        if let Ok(name) = std::str::from_utf8(name) {
            if let Ok(bytes) = std::fs::read(toplevel.join(name)) {
                h.update(Sha256::digest(&bytes));
            }
        }
    }
    crate::provenance::hex(&h.finalize())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn first_line(s: &str) -> String {
    let line = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_the_shallowest_directory_that_does_not_hold_the_target_dir() {
        let top = Path::new("/r");
        let out = Path::new("/r/target/debug/build/x-1/out");
        let files: [&[u8]; 5] = [
            b"Cargo.toml",
            b"src/main.rs",
            b"src/a/b.rs",
            b"target/junk",
            b"tests/t.rs",
        ];
        let w = tree_watch(top, out, files.into_iter());
        let w: Vec<_> = w.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(w, ["/r/Cargo.toml", "/r/src", "/r/target/junk", "/r/tests"]);
    }
}
