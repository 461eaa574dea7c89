//! cargo-auditable side by side with buildtrace: a fixture built with
//! `cargo auditable build` (the tool installed by
//! `scripts/tools/auditable.sh`) carries both sections; `rust-audit-info`
//! reads the same dependency list before and after `buildtrace seal`;
//! `buildtrace inspect` counts the packages rust-audit-info lists; the
//! seal's verdicts (sealed, one byte changed, another key) are those of a
//! plain build; and the attestation's `resolvedDependencies` names exactly
//! the packages cargo-auditable recorded, the root aside.

mod common;
#[path = "common/tools.rs"]
mod tools;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_executable, readelf_sections, run, Build, Repo};
use serde_json::Value;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_buildtrace"))
}

fn verdict(exe: &Path, public: &Path) -> (Option<i32>, String) {
    let out = cli()
        .arg("verify")
        .arg(exe)
        .arg("--pubkey")
        .arg(public)
        .args(["--require", "sealed", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code(), v["verdict"].as_str().unwrap().to_owned())
}

/// The verdicts on `exe` sealed, with one byte changed, and with another key.
fn verdicts(exe: &Path, dir: &Path, key: &Path, other_pub: &Path) -> Vec<(Option<i32>, String)> {
    run(cli().arg("seal").arg(exe).arg("--key").arg(key));
    let public = PathBuf::from(format!("{}.pub", key.display()));
    let tampered = dir.join(format!(
        "{}-tampered",
        exe.file_name().unwrap().to_string_lossy()
    ));
    copy_executable(exe, &tampered);
    let mut bytes = std::fs::read(&tampered).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap();
    vec![
        verdict(exe, &public),
        verdict(&tampered, &public),
        verdict(exe, other_pub),
    ]
}

/// `(name, version)` of each package rust-audit-info prints, and the root's name.
fn audit_packages(json: &str) -> (BTreeSet<(String, String)>, String) {
    let v: Value = serde_json::from_str(json).unwrap();
    let packages = v["packages"].as_array().unwrap();
    let root = packages
        .iter()
        .find(|p| p["root"] == true)
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .unwrap();
    let all = packages
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (all, root)
}

/// A section's bytes, allocated or not, as binutils' objcopy dumps them.
fn dumped_section(exe: &Path, section: &str) -> Vec<u8> {
    let out = tempfile::NamedTempFile::new().unwrap();
    run(Command::new("objcopy")
        .arg(format!("--dump-section={section}={}", out.path().display()))
        .arg(exe)
        .arg(tempfile::NamedTempFile::new().unwrap().path()));
    std::fs::read(out.path()).unwrap()
}

#[test]
fn both_records_side_by_side_and_neither_changes_the_other() {
    let Some(tools) = tools::auditable() else {
        return;
    };
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    let auditable = dir.path().join("auditable");
    copy_executable(
        &Build::new()
            .auditable(&tools.cargo_auditable)
            .run(&repo.dir)
            .exe,
        &auditable,
    );
    let plain = dir.path().join("plain");
    copy_executable(&Build::new().run(&repo.dir).exe, &plain);

    // Both sections are in the file, as readelf lists them.
    let sections = readelf_sections(&auditable);
    assert!(sections.contains(" .dep-v0 "), "{sections}");
    assert!(sections.contains(" .buildtrace "), "{sections}");
    assert!(!readelf_sections(&plain).contains(" .dep-v0 "));

    // rust-audit-info reads it, and inspect counts what it lists.
    let info = |exe: &Path| run(Command::new(&tools.rust_audit_info).arg(exe));
    let before = info(&auditable);
    let (listed, root) = audit_packages(&before);
    assert_eq!(root, repo.name);
    let inspected: Value =
        serde_json::from_str(&run(cli().args(["inspect", "--json"]).arg(&auditable))).unwrap();
    assert_eq!(
        inspected["buildtrace.auditable.packages"],
        listed.len() as u64
    );
    let human = run(cli().arg("inspect").arg(&auditable));
    assert!(
        human.contains(&format!(
            "cargo-auditable section `.dep-v0` ({} bytes): {} packages",
            dumped_section(&auditable, ".dep-v0").len(),
            listed.len()
        )),
        "{human}"
    );
    let plain_json: Value =
        serde_json::from_str(&run(cli().args(["inspect", "--json"]).arg(&plain))).unwrap();
    assert!(plain_json.get("buildtrace.auditable.packages").is_none());

    // Sealing leaves cargo-auditable's list as it was, and the verdicts on
    // the auditable build are those on the plain one.
    run(cli()
        .args(["keygen", "--out"])
        .arg(dir.path().join("release.pem")));
    run(cli()
        .args(["keygen", "--out"])
        .arg(dir.path().join("other.pem")));
    let key = dir.path().join("release.pem");
    let other = dir.path().join("other.pem.pub");
    let with_dep_v0 = verdicts(&auditable, dir.path(), &key, &other);
    let without = verdicts(&plain, dir.path(), &key, &other);
    assert_eq!(with_dep_v0, without);
    assert_eq!(
        with_dep_v0,
        [
            (Some(0), "sealed-and-bound".to_owned()),
            (Some(1), "invalid".to_owned()),
            (Some(3), "untrusted-key".to_owned()),
        ]
    );
    assert_eq!(
        info(&auditable),
        before,
        "rust-audit-info reads another list after sealing"
    );

    // The attestation's packages are those cargo-auditable recorded.
    let bundle = dir.path().join("auditable.sigstore.json");
    run(cli()
        .arg("attest")
        .arg(&auditable)
        .arg("--key")
        .arg(&key)
        .arg("--manifest-path")
        .arg(repo.dir.join("Cargo.toml"))
        .arg("-o")
        .arg(&bundle));
    let out = cli()
        .arg("verify-attestation")
        .arg(&auditable)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--pubkey")
        .arg(dir.path().join("release.pem.pub"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    let attested: BTreeSet<(String, String)> = statement["predicate"]["buildDefinition"]
        ["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["annotations"]["version"].is_string())
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["annotations"]["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected = listed.clone();
    expected.retain(|(name, _)| *name != repo.name);
    assert_eq!(attested, expected);
}
