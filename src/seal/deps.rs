//! The packages a binary was built from: the `resolvedDependencies` of its
//! attestation, one entry per package of `Cargo.lock` the build used, with
//! its version, the kind of its source and the lock file's checksum.
//!
//! The record carries the lock file's SHA-256 and package count, not the
//! list: a record is capped at 64 KiB, and a lock file's packages include
//! those of other targets and of features the build did not enable. The list
//! is therefore read from the workspace when the binary is attested, and tied
//! to the binary by that digest:
//!
//! 1. `cargo metadata --no-deps` finds the workspace member the record names
//!    (`service.name`, `service.version`) and the workspace's `Cargo.lock`;
//! 2. the lock file's SHA-256 must equal the record's
//!    `buildtrace.lock.sha256`, or the list would describe another build
//!    ([`DependencyError::LockMismatch`]);
//! 3. `cargo metadata --filter-platform <the record's target>
//!    --no-default-features --features <the record's features>` resolves the
//!    graph of that build; every package reachable from the member through
//!    normal and build dependencies is listed (dev-dependencies are not part
//!    of a build of the binary, and the member itself is the subject);
//! 4. each package's `checksum` comes from the lock file.
//!
//! Sources are reduced to what a reader may see: registry packages carry
//! their checksum (and, off crates.io, the index URL), git packages their
//! commit and repository URL, both without userinfo, query or fragment;
//! path packages are marked `path` and carry no path at all.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

use crate::names;
use crate::provenance::{hex, Record};

/// The crates.io index, as lock files spell it (git and sparse protocols).
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// Where a package came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Source {
    /// A registry; `index` is `None` for crates.io, else the scrubbed index URL.
    Registry {
        /// The index URL, for registries other than crates.io.
        index: Option<String>,
    },
    /// A git repository at a commit.
    Git {
        /// The repository, scrubbed; `None` when it is not a URL (a local path).
        repository: Option<String>,
        /// The commit the lock file pins.
        commit: Option<String>,
    },
    /// A path on the building machine (a workspace member or a path
    /// dependency): part of the source tree, recorded without the path.
    Path,
}

impl Source {
    /// `registry`, `git` or `path`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Registry { .. } => "registry",
            Source::Git { .. } => "git",
            Source::Path => "path",
        }
    }

    /// Reads a `source` string of `Cargo.lock` or `cargo metadata`; `None`
    /// (no source) is a path package.
    pub fn parse(source: Option<&str>) -> Source {
        let Some(source) = source else {
            return Source::Path;
        };
        if CRATES_IO.contains(&source) {
            return Source::Registry { index: None };
        }
        if let Some(url) = source.strip_prefix("git+") {
            let commit = url
                .rsplit_once('#')
                .map(|(_, c)| c)
                .filter(|c| (7..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_ascii_lowercase);
            return Source::Git {
                repository: scrub_url(url),
                commit,
            };
        }
        let index = source
            .strip_prefix("registry+")
            .or_else(|| source.strip_prefix("sparse+"))
            .unwrap_or(source);
        Source::Registry {
            index: Some(scrub_url(index).unwrap_or_else(|| "unknown".to_owned())),
        }
    }
}

/// One package the build used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dependency {
    /// The package name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its source.
    pub source: Source,
    /// The lock file's `checksum` (SHA-256 of the `.crate` file, hex), where
    /// the registry gives one.
    pub checksum: Option<String>,
}

impl Dependency {
    /// The entry of `resolvedDependencies`: an in-toto ResourceDescriptor.
    ///
    /// ```text
    /// {"name":"serde","uri":"pkg:cargo/serde@1.0.228","digest":{"sha256":"…"},
    ///  "annotations":{"version":"1.0.228","source":"registry"}}
    /// ```
    pub fn to_json(&self) -> Value {
        let mut d = Map::new();
        d.insert("name".into(), Value::from(self.name.as_str()));
        let mut annotations = Map::new();
        annotations.insert("version".into(), Value::from(self.version.as_str()));
        annotations.insert("source".into(), Value::from(self.source.kind()));
        let mut digest = Map::new();
        if let Some(sum) = &self.checksum {
            digest.insert("sha256".into(), Value::from(sum.as_str()));
        }
        match &self.source {
            Source::Registry { index: None } => {
                d.insert(
                    "uri".into(),
                    Value::from(format!("pkg:cargo/{}@{}", self.name, self.version)),
                );
            }
            Source::Registry { index: Some(index) } => {
                annotations.insert("registry".into(), Value::from(index.as_str()));
            }
            Source::Git { repository, commit } => {
                if let Some(commit) = commit {
                    digest.insert("gitCommit".into(), Value::from(commit.as_str()));
                }
                if let Some(repo) = repository {
                    let at = commit
                        .as_deref()
                        .map(|c| format!("@{c}"))
                        .unwrap_or_default();
                    d.insert("uri".into(), Value::from(format!("git+{repo}{at}")));
                }
            }
            Source::Path => {}
        }
        if !digest.is_empty() {
            d.insert("digest".into(), Value::Object(digest));
        }
        d.insert("annotations".into(), Value::Object(annotations));
        Value::Object(d)
    }

    /// Reads an entry written by [`to_json`](Self::to_json); `None` for the
    /// other entries of `resolvedDependencies` (the source commit, the lock
    /// file).
    pub fn from_json(v: &Value) -> Option<Dependency> {
        let a = v.get("annotations")?;
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let source = match a.get("source")?.as_str()? {
            "registry" => Source::Registry {
                index: s(a, "registry"),
            },
            "git" => Source::Git {
                repository: s(v, "uri").and_then(|u| {
                    let u = u.strip_prefix("git+")?;
                    Some(u.rsplit_once('@').map_or(u, |(r, _)| r).to_owned())
                }),
                commit: v.get("digest").and_then(|d| s(d, "gitCommit")),
            },
            "path" => Source::Path,
            _ => return None,
        };
        Some(Dependency {
            name: s(v, "name")?,
            version: s(a, "version")?,
            source,
            checksum: v.get("digest").and_then(|d| s(d, "sha256")),
        })
    }
}

/// Why the dependency list could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DependencyError {
    /// The record says the build had no lock file.
    #[error("the binary's record has no Cargo.lock digest (buildtrace.lock.sha256 is none), so no lock file can be matched to it; build with a Cargo.lock, or attest without --manifest-path")]
    NoLockInRecord,
    /// The record names no package.
    #[error("the binary's record names no package (service.name, service.version); attest without --manifest-path")]
    NoPackage,
    /// `cargo` could not be started.
    #[error("cannot run `{program} metadata`: {error}; put cargo on PATH or set CARGO")]
    Spawn {
        /// The program.
        program: String,
        /// The error.
        error: std::io::Error,
    },
    /// `cargo metadata` failed.
    #[error("`cargo metadata` failed: {0}; check --manifest-path names the workspace the binary was built in, and that its dependencies are downloaded (`cargo fetch`)")]
    Metadata(String),
    /// `cargo metadata` printed something unexpected.
    #[error(
        "`cargo metadata` printed no usable JSON ({0}); is this a Cargo of the last few years?"
    )]
    BadMetadata(&'static str),
    /// The package the record names is not in the workspace.
    #[error("package {name} {version} is not a member of the workspace of {manifest}; pass the --manifest-path of the workspace the binary was built in")]
    NotInWorkspace {
        /// The package name.
        name: String,
        /// Its version.
        version: String,
        /// The manifest given.
        manifest: PathBuf,
    },
    /// The lock file could not be read.
    #[error("cannot read {path}: {error}; the lock file must be where cargo expects it")]
    ReadLock {
        /// The lock file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// The lock file is not the one the binary was built with.
    #[error("{path} is not the lock file the binary was built with (its sha256 is {found}, the record says {recorded}); check out the commit the binary was built from")]
    LockMismatch {
        /// The lock file.
        path: PathBuf,
        /// Its SHA-256.
        found: String,
        /// The record's.
        recorded: String,
    },
    /// The lock file does not parse.
    #[error("{path} is not a lock file Cargo wrote: {reason}")]
    BadLock {
        /// The lock file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The packages the build of `record` used, read from the workspace of
/// `manifest` with `cargo` (the program to run: `$CARGO` or `cargo`).
///
/// # Errors
/// [`DependencyError`]: cargo not found or failing, the package not in that
/// workspace, or a lock file other than the one the binary was built with.
pub fn resolve(
    cargo: &OsStr,
    manifest: &Path,
    record: &Record<'_>,
) -> Result<Vec<Dependency>, DependencyError> {
    let recorded = record
        .get_str(names::LOCK_SHA256)
        .filter(|l| *l != "none")
        .ok_or(DependencyError::NoLockInRecord)?;
    let (Some(name), Some(version)) = (
        record.get_str(names::SERVICE_NAME),
        record.get_str(names::SERVICE_VERSION),
    ) else {
        return Err(DependencyError::NoPackage);
    };

    let members = metadata(cargo, manifest, &["--no-deps"])?;
    let root = members["workspace_root"]
        .as_str()
        .ok_or(DependencyError::BadMetadata("no workspace_root"))?;
    let package = members["packages"]
        .as_array()
        .ok_or(DependencyError::BadMetadata("no packages"))?
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .ok_or_else(|| DependencyError::NotInWorkspace {
            name: name.to_owned(),
            version: version.to_owned(),
            manifest: manifest.to_path_buf(),
        })?;
    let package_manifest = package["manifest_path"]
        .as_str()
        .ok_or(DependencyError::BadMetadata("no manifest_path"))?;

    let lock_path = Path::new(root).join("Cargo.lock");
    let lock = std::fs::read(&lock_path).map_err(|error| DependencyError::ReadLock {
        path: lock_path.clone(),
        error,
    })?;
    let found = hex(&crate::signing::message_digest(&[&lock]));
    if found != recorded {
        return Err(DependencyError::LockMismatch {
            path: lock_path,
            found,
            recorded: recorded.to_owned(),
        });
    }
    let checksums = lock_checksums(&lock).map_err(|reason| DependencyError::BadLock {
        path: lock_path.clone(),
        reason,
    })?;

    let features: Vec<&str> = record
        .get_str(names::BUILD_FEATURES)
        .map(|f| f.split(',').filter(|f| !f.is_empty()).collect())
        .unwrap_or_default();
    let mut args = vec!["--no-default-features"];
    let joined = features.join(",");
    if !features.is_empty() {
        args.extend(["--features", &joined]);
    }
    if let Some(target) = record.get_str(names::TARGET_TRIPLE) {
        args.extend(["--filter-platform", target]);
    }
    let graph = metadata(cargo, Path::new(package_manifest), &args)?;
    let root_id = graph["resolve"]["root"]
        .as_str()
        .ok_or(DependencyError::BadMetadata("no resolve.root"))?;
    used(&graph, root_id, &checksums)
}

fn metadata(cargo: &OsStr, manifest: &Path, extra: &[&str]) -> Result<Value, DependencyError> {
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(extra)
        .arg("--manifest-path")
        .arg(manifest)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| DependencyError::Spawn {
            program: cargo.to_string_lossy().into_owned(),
            error,
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_else(|| stderr.lines().next().unwrap_or("no message"));
        return Err(DependencyError::Metadata(first.trim().to_owned()));
    }
    serde_json::from_slice(&out.stdout).map_err(|_| DependencyError::BadMetadata("not JSON"))
}

/// `(name, version, source)` → checksum, from the text of a lock file.
fn lock_checksums(lock: &[u8]) -> Result<BTreeMap<(String, String, String), String>, String> {
    let text = std::str::from_utf8(lock).map_err(|_| "not UTF-8".to_owned())?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    let mut sums = BTreeMap::new();
    let packages = match table.get("package") {
        Some(toml::Value::Array(p)) => p.as_slice(),
        Some(_) => return Err("`package` is not an array of tables".into()),
        None => &[],
    };
    for p in packages {
        let s = |k: &str| p.get(k).and_then(toml::Value::as_str);
        if let (Some(name), Some(version), Some(sum)) = (s("name"), s("version"), s("checksum")) {
            let source = s("source").unwrap_or_default();
            sums.insert(
                (name.to_owned(), version.to_owned(), source.to_owned()),
                sum.to_owned(),
            );
        }
    }
    Ok(sums)
}

/// The packages reachable from `root_id` in `cargo metadata`'s resolve
/// through normal and build dependencies, the root left out, sorted.
fn used(
    graph: &Value,
    root_id: &str,
    checksums: &BTreeMap<(String, String, String), String>,
) -> Result<Vec<Dependency>, DependencyError> {
    let nodes: BTreeMap<&str, &Value> = graph["resolve"]["nodes"]
        .as_array()
        .ok_or(DependencyError::BadMetadata("no resolve.nodes"))?
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let packages: BTreeMap<&str, &Value> = graph["packages"]
        .as_array()
        .ok_or(DependencyError::BadMetadata("no packages"))?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let mut seen = BTreeSet::from([root_id]);
    let mut todo = vec![root_id];
    while let Some(id) = todo.pop() {
        let node = nodes
            .get(id)
            .ok_or(DependencyError::BadMetadata("a dependency without a node"))?;
        for dep in node["deps"].as_array().into_iter().flatten() {
            let built = dep["dep_kinds"]
                .as_array()
                .is_none_or(|kinds| kinds.iter().any(|k| k["kind"] != "dev"));
            if let Some(pkg) = dep["pkg"].as_str().filter(|_| built) {
                if seen.insert(pkg) {
                    todo.push(pkg);
                }
            }
        }
    }
    seen.remove(root_id);
    let mut deps = seen
        .into_iter()
        .map(|id| {
            let p = packages
                .get(id)
                .ok_or(DependencyError::BadMetadata("a node without a package"))?;
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            let version = p["version"].as_str().unwrap_or_default().to_owned();
            let raw = p["source"].as_str();
            let checksum = checksums
                .get(&(
                    name.clone(),
                    version.clone(),
                    raw.unwrap_or_default().to_owned(),
                ))
                .cloned();
            Ok(Dependency {
                source: Source::parse(raw),
                name,
                version,
                checksum,
            })
        })
        .collect::<Result<Vec<_>, DependencyError>>()?;
    deps.sort();
    Ok(deps)
}

/// A source URL scrubbed by the build script's rule ([`crate::scrub`]);
/// `None` for anything that is not an `http(s)`, `ssh` or `git` URL (local
/// paths, `file://`).
fn scrub_url(raw: &str) -> Option<String> {
    crate::scrub::scrub_url_with(raw, &["https", "http", "ssh", "git"])
}

/// How one package differs between two dependency lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only in the second list.
    Added(Dependency),
    /// Only in the first.
    Removed(Dependency),
    /// In both under the same name and source kind, with another version,
    /// commit or checksum.
    Changed(Dependency, Dependency),
}

/// The packages that differ between `a` and `b`, by name.
///
/// A name that appears once on each side with a different version (or the
/// same version and another checksum or commit) is a change; anything else
/// is added or removed.
pub fn diff(a: &[Dependency], b: &[Dependency]) -> Vec<Change> {
    let only = |x: &[Dependency], y: &[Dependency]| -> Vec<Dependency> {
        x.iter().filter(|d| !y.contains(d)).cloned().collect()
    };
    let (mut gone, mut new) = (only(a, b), only(b, a));
    let mut changes = Vec::new();
    gone.retain(|old| {
        let same_name = |d: &Dependency| d.name == old.name && d.source.kind() == old.source.kind();
        let twins = (
            gone_count(a, b, old),
            new.iter().filter(|d| same_name(d)).count(),
        );
        if twins == (1, 1) {
            let pos = new.iter().position(same_name).expect("counted above");
            changes.push(Change::Changed(old.clone(), new.remove(pos)));
            false
        } else {
            true
        }
    });
    changes.extend(gone.into_iter().map(Change::Removed));
    changes.extend(new.into_iter().map(Change::Added));
    changes.sort_by(|x, y| change_name(x).cmp(change_name(y)));
    changes
}

/// How many packages named like `old` (same source kind) `a` has that `b` lacks.
fn gone_count(a: &[Dependency], b: &[Dependency], old: &Dependency) -> usize {
    a.iter()
        .filter(|d| d.name == old.name && d.source.kind() == old.source.kind() && !b.contains(d))
        .count()
}

fn change_name(c: &Change) -> &str {
    match c {
        Change::Added(d) | Change::Removed(d) | Change::Changed(d, _) => &d.name,
    }
}

/// `resolvedDependencies` of a statement, the packages only.
pub fn from_statement(statement: &Value) -> Vec<Dependency> {
    let mut deps: Vec<Dependency> = statement["predicate"]["buildDefinition"]
        ["resolvedDependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Dependency::from_json)
        .collect();
    deps.sort();
    deps
}

/// The JSON of `deps`, in order.
pub fn to_json(deps: &[Dependency]) -> Vec<Value> {
    deps.iter().map(Dependency::to_json).collect()
}

#[cfg(test)]
fn used_for_tests(metadata: &Value, lock: &[u8]) -> Result<Vec<Dependency>, String> {
    let sums = lock_checksums(lock)?;
    let root = metadata["resolve"]["root"].as_str().ok_or("no root")?;
    used(metadata, root, &sums).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sources_are_scrubbed_of_credentials_and_paths() {
        assert_eq!(
            Source::parse(Some(
                "git+https://user:ghp_secret@GitHub.com/o/r?branch=main#0123456789abcdef0123456789abcdef01234567"
            )),
            Source::Git {
                repository: Some("https://github.com/o/r".into()),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            }
        );
        assert_eq!(
            Source::parse(Some("git+file:///home/me/src/dep#abcdef0")),
            Source::Git {
                repository: None,
                commit: Some("abcdef0".into())
            }
        );
        assert_eq!(
            Source::parse(Some("sparse+https://token@my.registry.example/index/?x=1")),
            Source::Registry {
                index: Some("https://my.registry.example/index".into())
            }
        );
        assert_eq!(
            Source::parse(CRATES_IO.first().copied()),
            Source::Registry { index: None }
        );
        assert_eq!(Source::parse(None), Source::Path);
    }

    #[test]
    fn a_descriptor_reads_back() {
        let deps = [
            Dependency {
                name: "serde".into(),
                version: "1.0.0".into(),
                source: Source::Registry { index: None },
                checksum: Some("ab".repeat(32)),
            },
            Dependency {
                name: "g".into(),
                version: "0.1.0".into(),
                source: Source::Git {
                    repository: Some("https://example.com/o/g".into()),
                    commit: Some("cd".repeat(20)),
                },
                checksum: None,
            },
            Dependency {
                name: "local".into(),
                version: "0.0.1".into(),
                source: Source::Path,
                checksum: None,
            },
        ];
        for d in &deps {
            assert_eq!(Dependency::from_json(&d.to_json()).as_ref(), Some(d));
        }
        assert_eq!(
            deps[0].to_json()["uri"],
            "pkg:cargo/serde@1.0.0",
            "crates.io packages are named by purl"
        );
        assert!(deps[2].to_json().get("uri").is_none());
    }

    #[test]
    fn the_walk_skips_dev_dependencies_and_the_root() {
        let metadata = json!({
            "packages": [
                {"id": "root", "name": "app", "version": "1.0.0", "source": null},
                {"id": "a", "name": "a", "version": "1.0.0", "source": CRATES_IO[0]},
                {"id": "b", "name": "b", "version": "2.0.0", "source": CRATES_IO[0]},
                {"id": "t", "name": "t", "version": "0.1.0", "source": CRATES_IO[0]},
            ],
            "resolve": {"root": "root", "nodes": [
                {"id": "root", "deps": [
                    {"pkg": "a", "dep_kinds": [{"kind": null}]},
                    {"pkg": "t", "dep_kinds": [{"kind": "dev"}]},
                ]},
                {"id": "a", "deps": [{"pkg": "b", "dep_kinds": [{"kind": "build"}]}]},
                {"id": "b", "deps": []},
                {"id": "t", "deps": []},
            ]},
        });
        let lock = format!(
            "version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{}\"\nchecksum = \"{}\"\n",
            CRATES_IO[0],
            "11".repeat(32)
        );
        let deps = used_for_tests(&metadata, lock.as_bytes()).unwrap();
        let names: Vec<_> = deps
            .iter()
            .map(|d| (d.name.as_str(), d.checksum.is_some()))
            .collect();
        assert_eq!(names, [("a", true), ("b", false)]);
    }

    #[test]
    fn diff_pairs_versions_by_name() {
        let d = |n: &str, v: &str| Dependency {
            name: n.into(),
            version: v.into(),
            source: Source::Registry { index: None },
            checksum: None,
        };
        let a = [d("keep", "1"), d("old", "1"), d("up", "1")];
        let b = [d("keep", "1"), d("new", "1"), d("up", "2")];
        assert_eq!(
            diff(&a, &b),
            [
                Change::Added(d("new", "1")),
                Change::Removed(d("old", "1")),
                Change::Changed(d("up", "1"), d("up", "2")),
            ]
        );
    }
}
