//! `buildtrace attest --format bundle` judged by the real cosign (built by
//! `scripts/tools/cosign.sh`): cosign accepts the bundle of a sealed fixture
//! and rejects it after one byte of the binary changes, with another key,
//! and with a predicate edited after signing; `verify-attestation` agrees
//! with cosign on each. `resolvedDependencies` is, package for package,
//! what `cargo metadata` resolves and `Cargo.lock` checksums, both read
//! here, and holds no local path.
//!
//! Expectations come from outside the crate: keys from `openssl genpkey`,
//! the key hint from `openssl pkey -outform DER` hashed here, verdicts from
//! cosign, the dependency graph from `cargo metadata`, checksums from the
//! lock file parsed here with the `toml` crate.

mod common;
#[path = "common/tools.rs"]
mod tools;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use base64::Engine as _;
use common::{copy_executable, openssl_key, run, Repo};
use serde_json::Value;
use sha2::{Digest, Sha256};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_buildtrace"))
}

/// The fixture, built and sealed once for every test of this file.
struct Shared {
    repo: Repo,
    dir: tempfile::TempDir,
    exe: PathBuf,
    key: (PathBuf, PathBuf),
    other: (PathBuf, PathBuf),
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let repo = Repo::new();
        let built = repo.build();
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("app");
        copy_executable(&built.exe, &exe);
        let key = openssl_key(dir.path(), "release");
        let other = openssl_key(dir.path(), "other");
        run(cli().arg("seal").arg(&exe).arg("--key").arg(&key.0));
        Shared {
            repo,
            dir,
            exe,
            key,
            other,
        }
    })
}

/// `cosign verify-blob-attestation` of a keyed bundle without a log entry.
fn cosign_verify(cosign: &Path, public: &Path, bundle: &Path, file: &Path) -> Output {
    Command::new(cosign)
        .arg("verify-blob-attestation")
        .arg("--key")
        .arg(public)
        .arg("--bundle")
        .arg(bundle)
        .args(["--type", "slsaprovenance1", "--insecure-ignore-tlog=true"])
        .arg(file)
        .output()
        .unwrap()
}

fn verify_attestation(public: &Path, bundle: &Path, file: &Path) -> Option<i32> {
    cli()
        .arg("verify-attestation")
        .arg(file)
        .arg("--bundle")
        .arg(bundle)
        .arg("--pubkey")
        .arg(public)
        .output()
        .unwrap()
        .status
        .code()
}

#[test]
fn cosign_accepts_the_bundle_of_a_sealed_fixture_and_rejects_every_tampering() {
    let Some(cosign) = tools::cosign() else {
        return;
    };
    eprintln!(
        "judge: {}\n{}",
        cosign.display(),
        run(Command::new(&cosign).arg("version"))
    );
    let s = shared();
    let bundle = s.dir.path().join("app.sigstore.json");
    run(cli()
        .arg("attest")
        .arg(&s.exe)
        .arg("--key")
        .arg(&s.key.0)
        .arg("--manifest-path")
        .arg(s.repo.dir.join("Cargo.toml"))
        .arg("-o")
        .arg(&bundle));

    // The key hint is what cosign writes: base64 of SHA-256 of the DER SPKI.
    let doc: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(
        doc["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let der = Command::new("openssl")
        .args(["pkey", "-pubin", "-outform", "DER", "-in"])
        .arg(&s.key.1)
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        doc["verificationMaterial"]["publicKey"]["hint"],
        B64.encode(Sha256::digest(&der))
    );

    let ok = cosign_verify(&cosign, &s.key.1, &bundle, &s.exe);
    assert!(
        ok.status.success(),
        "cosign rejected the bundle: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("Verified OK"));
    assert_eq!(verify_attestation(&s.key.1, &bundle, &s.exe), Some(0));

    // One byte of the binary changed.
    let tampered = s.dir.path().join("app-tampered");
    copy_executable(&s.exe, &tampered);
    let mut bytes = std::fs::read(&tampered).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&tampered, &bytes).unwrap();
    let out = cosign_verify(&cosign, &s.key.1, &bundle, &tampered);
    assert!(!out.status.success(), "cosign accepted a changed binary");
    assert_eq!(verify_attestation(&s.key.1, &bundle, &tampered), Some(1));

    // Another key.
    let out = cosign_verify(&cosign, &s.other.1, &bundle, &s.exe);
    assert!(!out.status.success(), "cosign accepted another key");
    assert_eq!(verify_attestation(&s.other.1, &bundle, &s.exe), Some(3));

    // The predicate edited after signing (the subject still names the file).
    let mut edited = doc.clone();
    let payload = B64
        .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let mut statement: Value = serde_json::from_slice(&payload).unwrap();
    statement["predicate"]["buildDefinition"]["externalParameters"]["profile"] =
        Value::from("release");
    edited["dsseEnvelope"]["payload"] =
        Value::from(B64.encode(serde_json::to_vec(&statement).unwrap()));
    let edited_path = s.dir.path().join("edited.sigstore.json");
    std::fs::write(&edited_path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let out = cosign_verify(&cosign, &s.key.1, &edited_path, &s.exe);
    assert!(!out.status.success(), "cosign accepted an edited predicate");
    assert_eq!(verify_attestation(&s.key.1, &edited_path, &s.exe), Some(1));
}

/// `(name, version, source kind, checksum)`.
type Package = (String, String, String, Option<String>);

fn kind(source: Option<&str>) -> &'static str {
    match source {
        None => "path",
        Some(s) if s.starts_with("git+") => "git",
        Some(_) => "registry",
    }
}

/// What Cargo says the fixture's build uses: the packages `cargo metadata`
/// resolves for the host with the build's features (none), reachable from
/// the fixture through normal and build dependencies, with the checksum the
/// lock file gives each.
fn expected_packages(dir: &Path, features: &str) -> BTreeSet<Package> {
    let mut c = Command::new(env!("CARGO"));
    common::clean_env(&mut c);
    let metadata: Value = serde_json::from_str(&run(c.current_dir(dir).args([
        "metadata",
        "--format-version=1",
        "--offline",
        "--locked",
        "--no-default-features",
        "--features",
        features,
        "--filter-platform",
        &common::rustc_field("host"),
    ])))
    .unwrap();
    let lock: toml::Table = std::fs::read_to_string(dir.join("Cargo.lock"))
        .unwrap()
        .parse()
        .unwrap();
    let checksum = |name: &str, version: &str| -> Option<String> {
        lock["package"].as_array().unwrap().iter().find_map(|p| {
            (p["name"].as_str() == Some(name) && p["version"].as_str() == Some(version))
                .then(|| {
                    p.get("checksum")
                        .and_then(|c| c.as_str())
                        .map(str::to_owned)
                })
                .flatten()
        })
    };
    let root = metadata["resolve"]["root"].as_str().unwrap().to_owned();
    let nodes = metadata["resolve"]["nodes"].as_array().unwrap();
    let mut seen = BTreeSet::from([root.clone()]);
    let mut todo = vec![root.clone()];
    while let Some(id) = todo.pop() {
        let node = nodes.iter().find(|n| n["id"] == id.as_str()).unwrap();
        for dep in node["deps"].as_array().unwrap() {
            let kinds = dep["dep_kinds"].as_array().unwrap();
            if kinds.iter().all(|k| k["kind"] == "dev") {
                continue;
            }
            let pkg = dep["pkg"].as_str().unwrap().to_owned();
            if seen.insert(pkg.clone()) {
                todo.push(pkg);
            }
        }
    }
    seen.remove(&root);
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| seen.contains(p["id"].as_str().unwrap()))
        .map(|p| {
            let (name, version) = (p["name"].as_str().unwrap(), p["version"].as_str().unwrap());
            (
                name.to_owned(),
                version.to_owned(),
                kind(p["source"].as_str()).to_owned(),
                checksum(name, version),
            )
        })
        .collect()
}

fn attested_packages(statement: &Value) -> BTreeSet<Package> {
    statement["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["annotations"]["source"].is_string())
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["annotations"]["version"].as_str().unwrap().to_owned(),
                d["annotations"]["source"].as_str().unwrap().to_owned(),
                d["digest"]["sha256"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k);
            strings(v, out)
        }),
        _ => {}
    }
}

#[test]
fn resolved_dependencies_are_what_cargo_metadata_and_the_lock_file_say() {
    let s = shared();
    let statement: Value = serde_json::from_str(&run(cli()
        .arg("attest")
        .arg(&s.exe)
        .arg("--manifest-path")
        .arg(s.repo.dir.join("Cargo.toml"))))
    .unwrap();
    let expected = expected_packages(&s.repo.dir, "");
    let attested = attested_packages(&statement);
    assert_eq!(attested, expected);

    // The lock names more than this build used (other targets, features the
    // build did not enable), and every registry package has its checksum.
    let lock = std::fs::read_to_string(s.repo.dir.join("Cargo.lock")).unwrap();
    let in_lock = lock.lines().filter(|l| l.trim() == "[[package]]").count();
    assert!(
        expected.len() + 1 < in_lock,
        "{} of {in_lock}",
        expected.len()
    );
    assert!(expected
        .iter()
        .filter(|p| p.2 == "registry")
        .all(|p| p.3.as_deref().is_some_and(|c| c.len() == 64)));
    assert!(expected.contains(&(
        "buildtrace".into(),
        env!("CARGO_PKG_VERSION").into(),
        "path".into(),
        None
    )));

    // No local path anywhere in the statement.
    let mut all = Vec::new();
    strings(&statement, &mut all);
    let home = std::env::var("HOME").unwrap_or_else(|_| "/nonexistent".into());
    for text in all {
        assert!(
            !text.starts_with('/')
                && !text.contains(&*s.repo.tmp.path().to_string_lossy())
                && !text.contains(&*common::buildtrace_root().to_string_lossy())
                && !text.contains(&home),
            "a local path in the statement: {text}"
        );
    }
}

#[test]
fn a_lock_file_other_than_the_builds_is_refused() {
    let s = shared();
    let other = tempfile::tempdir().unwrap();
    let dir = other.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["Cargo.toml", "build.rs", "Cargo.lock"] {
        std::fs::copy(s.repo.dir.join(f), dir.join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(s.repo.dir.join("src/main.rs"), dir.join("src/main.rs")).unwrap();
    // Same packages, one more byte: another lock file.
    let mut lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    lock.push('\n');
    std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
    let out = cli()
        .arg("attest")
        .arg(&s.exe)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not the lock file the binary was built with"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn diff_names_the_packages_two_attested_builds_differ_in() {
    let s = shared();
    let otel = s.dir.path().join("app-otel");
    copy_executable(
        &common::Build::new().features("otel").run(&s.repo.dir).exe,
        &otel,
    );
    for exe in [&s.exe, &otel] {
        run(cli()
            .arg("attest")
            .arg(exe)
            .arg("--key")
            .arg(&s.key.0)
            .arg("--manifest-path")
            .arg(s.repo.dir.join("Cargo.toml"))
            .arg("-o")
            .arg(format!("{}.sigstore.json", exe.display())));
    }
    let out = cli()
        .args(["diff", "--json"])
        .arg(&s.exe)
        .arg(&otel)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["dependencies"]["from"], "attestations");
    let added: BTreeSet<(String, String)> = d["dependencies"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["change"], "added", "{c}");
            (
                c["b"]["name"].as_str().unwrap().to_owned(),
                c["b"]["annotations"]["version"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let names = |p: BTreeSet<Package>| -> BTreeSet<(String, String)> {
        p.into_iter().map(|(n, v, _, _)| (n, v)).collect()
    };
    let before = names(expected_packages(&s.repo.dir, ""));
    let after = names(expected_packages(&s.repo.dir, "otel"));
    assert_eq!(added, after.difference(&before).cloned().collect());
    assert!(added.iter().any(|(n, _)| n == "opentelemetry"));

    // Without attestations beside them: the lock digests, which agree.
    let (a, b) = (s.dir.path().join("bare-a"), s.dir.path().join("bare-b"));
    copy_executable(&s.exe, &a);
    copy_executable(&otel, &b);
    let out = cli()
        .args(["diff", "--json"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        d["dependencies"],
        serde_json::json!({ "from": "lock", "same": true })
    );
}
