//! Sealing real binaries and verifying them: the tamper matrix, transplanted
//! and replayed seals, malleable and malformed signatures, build-time
//! signing, the seal at run time, `diff` and `attest`.
//!
//! Expectations come from outside the crate: keys from `openssl genpkey`,
//! key ids from `openssl pkey -outform DER` hashed, section offsets from
//! `readelf`, digests recomputed here from the bytes, signatures checked by
//! `openssl dgst -verify`, commits from `git rev-parse`.

mod common;

#[path = "common/tamper.rs"]
mod tamper;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{files_containing, run, Build, Built, Repo};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The documented domain-separation strings (FORMAT.md).
const SEAL_CONTEXT: &[u8] = b"buildtrace seal v1\0";
const PAYLOAD_CONTEXT: &[u8] = b"buildtrace payload signature v1\0";
use tamper::{write_at, SEAL_DIGEST, SEAL_FIELDS_LEN, SEAL_KEY_ID, SEAL_SIG, SEAL_SIG_LEN};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_buildtrace"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// An ECDSA P-256 key pair made by OpenSSL.
struct Key {
    private: PathBuf,
    public: PathBuf,
}

impl Key {
    fn new(dir: &Path, name: &str) -> Key {
        let (private, public) = common::openssl_key(dir, name);
        Key { private, public }
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo, as OpenSSL encodes it.
    fn id(&self) -> String {
        let out = Command::new("openssl")
            .args(["pkey", "-pubin", "-outform", "DER", "-in"])
            .arg(&self.public)
            .output()
            .unwrap();
        assert!(out.status.success());
        sha256_hex(&out.stdout)
    }
}

/// Everything the tests share: a temporary directory, two keys, and the
/// fixture built once (with the `otel` feature, so it can print its
/// resource).
struct Shared {
    dir: tempfile::TempDir,
    key: Key,
    other_key: Key,
    repo: Repo,
    built: Built,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::new(dir.path(), "release");
        let other_key = Key::new(dir.path(), "other");
        let repo = Repo::new();
        let built = Build::new().features("otel").run(&repo.dir);
        Shared {
            dir,
            key,
            other_key,
            repo,
            built,
        }
    })
}

/// A fresh copy of `exe` under the shared directory.
fn copy(exe: &Path, name: &str) -> PathBuf {
    let dest = shared().dir.path().join(name);
    common::copy_executable(exe, &dest);
    dest
}

fn seal(file: &Path, key: &Key) {
    let out = cli()
        .arg("seal")
        .arg(file)
        .arg("--key")
        .arg(&key.private)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seal failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `verify --json` with the given trusted keys: exit code and report.
fn verify(file: &Path, keys: &[&Key], extra: &[&str]) -> (i32, Value) {
    let mut c = cli();
    c.arg("verify").arg(file).arg("--json").args(extra);
    for k in keys {
        c.arg("--pubkey").arg(&k.public);
    }
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let code = out.status.code().expect("verify was killed by a signal");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("verify printed no JSON ({e}); stderr: {stderr}"));
    (code, json)
}

/// `(file offset, size)` of a section, from `readelf -SW`.
fn section(exe: &Path, name: &str) -> (u64, u64) {
    let table = run(Command::new("readelf").arg("-SW").arg(exe));
    let line = table
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
        .unwrap_or_else(|| panic!("no {name} in readelf -SW:\n{table}"));
    // [Nr] Name Type Address Off Size ...
    let fields: Vec<&str> = line.split(']').nth(1).unwrap().split_whitespace().collect();
    (
        u64::from_str_radix(fields[3], 16).unwrap(),
        u64::from_str_radix(fields[4], 16).unwrap(),
    )
}

/// File offset of the seal slot: the last 256 bytes of the record, whose
/// length is the header's total-length field (FORMAT.md).
fn slot_offset(exe: &Path) -> u64 {
    tamper::slot_offset(exe, section(exe, ".buildtrace").0)
}

/// The seal's digest recomputed here: SHA-256 of the file with the 144
/// seal-field bytes of the slot read as zeros.
fn expected_digest(exe: &Path) -> String {
    let mut bytes = std::fs::read(exe).unwrap();
    let at = (slot_offset(exe) + SEAL_DIGEST) as usize;
    bytes[at..at + SEAL_FIELDS_LEN].fill(0);
    sha256_hex(&bytes)
}

/// A 64-byte `r ‖ s` signature as DER, for OpenSSL.
fn der_signature(sig: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let mut v: Vec<u8> = x.iter().copied().skip_while(|&b| b == 0).collect();
        if v.first().is_none_or(|&b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let (r, s) = (int(&sig[..32]), int(&sig[32..]));
    let mut out = vec![0x30, (r.len() + s.len()) as u8];
    out.extend(r);
    out.extend(s);
    out
}

/// Whether OpenSSL accepts `der` as `key`'s signature of SHA-256(`message`).
fn openssl_verifies(key: &Key, message: &[u8], der: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (msg, sig) = (dir.path().join("msg"), dir.path().join("sig"));
    std::fs::write(&msg, message).unwrap();
    std::fs::write(&sig, der).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&key.public)
        .arg("-signature")
        .arg(&sig)
        .arg(&msg)
        .output()
        .unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

/// P-256's group order, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `N - s`: the other valid encoding of the same signature.
fn negate(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = d.rem_euclid(256) as u8;
    }
    out
}

#[test]
fn a_sealed_binary_is_bound_and_its_seal_checks_out_with_openssl() {
    let s = shared();
    let exe = copy(&s.built.exe, "bound");
    let (code, before) = verify(&exe, &[&s.key], &[]);
    assert_eq!((code, before["verdict"].as_str()), (4, Some("unsigned")));
    let unsealed = std::fs::read(&exe).unwrap();

    seal(&exe, &s.key);
    let (code, v) = verify(&exe, &[&s.key], &["--require", "sealed"]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (0, Some("sealed-and-bound")),
        "{v}"
    );

    // The digest is the file's SHA-256 with the seal fields zeroed, computed
    // here; only the slot changed.
    let sealed_digest = v["seal"]["sealed_digest"].as_str().unwrap();
    assert_eq!(sealed_digest, expected_digest(&exe));
    let sealed = std::fs::read(&exe).unwrap();
    let slot = slot_offset(&exe) as usize;
    assert_eq!(sealed.len(), unsealed.len());
    let changed: Vec<usize> = (0..sealed.len())
        .filter(|&i| sealed[i] != unsealed[i])
        .collect();
    assert!(changed.iter().all(|&i| (slot..slot + 256).contains(&i)));

    // Key id and signature, as OpenSSL sees them.
    let key_id = &sealed[slot + SEAL_KEY_ID as usize..slot + SEAL_KEY_ID as usize + 32];
    assert_eq!(hex(key_id), s.key.id());
    assert_eq!(v["seal"]["signature"]["key_id"], s.key.id());
    let sig = &sealed[slot + SEAL_SIG as usize..slot + SEAL_SIG as usize + 64];
    let mut message = SEAL_CONTEXT.to_vec();
    message.extend(unhex(sealed_digest));
    message.extend(key_id);
    assert!(openssl_verifies(&s.key, &message, &der_signature(sig)));
    assert!(!openssl_verifies(
        &s.other_key,
        &message,
        &der_signature(sig)
    ));

    // Without a trusted key the digest still matches; the key is unknown.
    let (code, v) = verify(&exe, &[], &[]);
    assert_eq!((code, v["verdict"].as_str()), (3, Some("untrusted-key")));
    // The wrong key: untrusted, not valid.
    let (code, v) = verify(&exe, &[&s.other_key], &[]);
    assert_eq!((code, v["verdict"].as_str()), (3, Some("untrusted-key")));
    // Sealing again (another key) replaces the seal and keeps the digest.
    seal(&exe, &s.other_key);
    let (code, v) = verify(&exe, &[&s.other_key], &[]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("sealed-and-bound")));
    assert_eq!(v["seal"]["sealed_digest"].as_str(), Some(sealed_digest));
    let (code, _) = verify(&exe, &[&s.key], &[]);
    assert_eq!(code, 3);
}

#[test]
fn the_tamper_matrix_reports_no_mutant_as_bound() {
    let s = shared();
    let golden = copy(&s.built.exe, "golden");
    seal(&golden, &s.key);
    assert_eq!(verify(&golden, &[&s.key], &[]).0, 0);
    let layout = tamper::Layout {
        record: section(&golden, ".buildtrace").0,
        text: section(&golden, ".text"),
        header: vec![
            ("ELF header: entry point".into(), 24),
            ("ELF header: section table offset".into(), 0x28 + 2),
        ],
        strip: Some("strip".into()),
    };
    tamper::check_matrix(
        &golden,
        &layout,
        |f| copy(f, "mutant"),
        |f| verify(f, &[&s.key], &["--require", "sealed"]),
    );
}

#[test]
fn a_seal_transplanted_or_replayed_is_not_bound() {
    let s = shared();
    // A valid sealed record copied into a different binary (a build of the
    // same package with other features), the way objcopy would.
    let a = copy(&s.built.exe, "transplant-source");
    seal(&a, &s.key);
    assert_eq!(verify(&a, &[&s.key], &[]).0, 0);
    let other = Build::new().features("otel alpha").run(&s.repo.dir);
    let b = copy(&other.exe, "transplant-target");
    let sealed_record = common::objcopy_section(&a, ".buildtrace");
    let record_file = shared().dir.path().join("sealed-record.bin");
    std::fs::write(&record_file, &sealed_record).unwrap();
    run(Command::new("objcopy")
        .arg("--update-section")
        .arg(format!(".buildtrace={}", record_file.display()))
        .arg(&b));
    assert_eq!(common::objcopy_section(&b, ".buildtrace"), sealed_record);
    let (code, v) = verify(&b, &[&s.key], &["--require", "sealed"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("invalid")), "{v}");
    assert_eq!(v["seal"]["matches"], false);

    // An older sealed record replayed into a newer build of the same size.
    let repo = Repo::new();
    let old = repo.build();
    let old_exe = copy(&old.exe, "replay-old");
    seal(&old_exe, &s.key);
    std::fs::write(repo.dir.join("NEWS"), "a newer commit\n").unwrap();
    repo.git(&["add", "NEWS"]);
    repo.git(&["commit", "-q", "-m", "newer"]);
    let new = repo.build();
    let new_exe = copy(&new.exe, "replay-new");
    let (old_at, old_len) = section(&old_exe, ".buildtrace");
    let (new_at, new_len) = section(&new_exe, ".buildtrace");
    assert_eq!(old_len, new_len, "both records have the same length");
    let old_record =
        &std::fs::read(&old_exe).unwrap()[old_at as usize..(old_at + old_len) as usize];
    write_at(&new_exe, new_at, old_record);
    let (code, v) = verify(&new_exe, &[&s.key], &["--require", "sealed"]);
    assert_eq!((code, v["verdict"].as_str()), (1, Some("invalid")), "{v}");
    // The newer build sealed on its own is bound (the control).
    let control = copy(&new.exe, "replay-control");
    seal(&control, &s.key);
    assert_eq!(verify(&control, &[&s.key], &[]).0, 0);
}

#[test]
fn malleable_and_malformed_signatures_are_invalid_with_or_without_the_key() {
    let s = shared();
    let golden = copy(&s.built.exe, "sig-golden");
    seal(&golden, &s.key);
    let slot = slot_offset(&golden);
    let bytes = std::fs::read(&golden).unwrap();
    let sig_at = (slot + SEAL_SIG) as usize;
    let sig = bytes[sig_at..sig_at + 64].to_vec();

    let high_s = {
        let mut v = sig[..32].to_vec();
        v.extend(negate(&sig[32..]));
        v
    };
    // The high-S twin is a mathematically valid signature: OpenSSL accepts
    // it, the verifier must not.
    let digest = &bytes[(slot + SEAL_DIGEST) as usize..(slot + SEAL_DIGEST) as usize + 32];
    let key_id = &bytes[(slot + SEAL_KEY_ID) as usize..(slot + SEAL_KEY_ID) as usize + 32];
    let mut message = SEAL_CONTEXT.to_vec();
    message.extend(digest);
    message.extend(key_id);
    assert!(openssl_verifies(&s.key, &message, &der_signature(&high_s)));

    let mut truncated = sig.clone();
    truncated[63] = 0;
    let cases: Vec<(&str, Vec<u8>, Option<u8>, &str)> = vec![
        ("high-S", high_s, None, "low-S"),
        ("zero", vec![0; 64], None, "malformed"),
        (
            "r = n",
            [N.to_vec(), sig[32..].to_vec()].concat(),
            None,
            "malformed",
        ),
        ("truncated to 63 bytes", truncated, Some(63), "expected 64"),
    ];
    for (name, bad, len, message) in cases {
        let f = copy(&golden, "bad-sig");
        write_at(&f, slot + SEAL_SIG, &bad);
        if let Some(len) = len {
            write_at(&f, slot + SEAL_SIG_LEN, &[len]);
        }
        for keys in [vec![&s.key], vec![]] {
            let (code, v) = verify(&f, &keys, &[]);
            assert_eq!(
                (code, v["verdict"].as_str()),
                (1, Some("invalid")),
                "{name}: {v}"
            );
            assert!(v.to_string().contains(message), "{name}: {v}");
        }
    }
}

#[test]
fn build_time_signing_is_payload_authentic_and_keeps_the_key_out_of_target() {
    let s = shared();
    let repo = Repo::new();
    let built = Build::new()
        .features("sign")
        .env(
            "BUILDTRACE_SIGNING_KEY",
            s.key.private.display().to_string(),
        )
        .run(&repo.dir);
    let exe = copy(&built.exe, "signed");
    let (code, v) = verify(&exe, &[&s.key], &[]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (0, Some("payload-authentic")),
        "{v}"
    );
    assert_eq!(v["payload_signature"]["key_id"], s.key.id());
    assert_eq!(verify(&exe, &[&s.key], &["--require", "signed"]).0, 0);
    assert_eq!(verify(&exe, &[&s.key], &["--require", "sealed"]).0, 4);
    assert_eq!(verify(&exe, &[], &[]).1["verdict"], "untrusted-key");
    assert_eq!(verify(&exe, &[&s.other_key], &[]).0, 3);

    // OpenSSL agrees: the signature covers the record header.
    let bytes = std::fs::read(&exe).unwrap();
    let (record, _) = section(&exe, ".buildtrace");
    let slot = slot_offset(&exe) as usize;
    let mut message = PAYLOAD_CONTEXT.to_vec();
    message.extend(&bytes[record as usize..record as usize + 64]);
    let sig = &bytes[slot + 41..slot + 105];
    assert!(openssl_verifies(&s.key, &message, &der_signature(sig)));

    // Payload-authentic is not bound: the signed record copied into another
    // build still verifies as payload-authentic, never as sealed.
    let (code, v) = verify(&exe, &[&s.key], &["--require", "sealed"]);
    assert_eq!(
        (code, v["verdict"].as_str()),
        (4, Some("payload-authentic"))
    );

    // Sealing keeps the build-time signature.
    seal(&exe, &s.key);
    let (code, v) = verify(&exe, &[&s.key], &[]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("sealed-and-bound")));
    assert_eq!(v["payload_signature"]["check"], "valid");

    // The key never reaches the binary, OUT_DIR or the target directory: its
    // PEM body, its DER encoding, the private scalar in raw and hex form.
    let pem = std::fs::read_to_string(&s.key.private).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = Command::new("openssl")
        .args(["pkey", "-outform", "DER", "-in"])
        .arg(&s.key.private)
        .output()
        .unwrap()
        .stdout;
    let text = run(Command::new("openssl")
        .args(["pkey", "-noout", "-text", "-in"])
        .arg(&s.key.private));
    let scalar_hex: String = text
        .split("priv:")
        .nth(1)
        .unwrap()
        .split("pub:")
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let scalar = unhex(&scalar_hex);
    let scalar = &scalar[scalar.len() - 32..];
    let lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let needles: Vec<&[u8]> = vec![
        body.as_bytes(),
        lines[0].as_bytes(),
        &der,
        scalar,
        scalar_hex.as_bytes(),
    ];
    let bin = std::fs::read(&built.exe).unwrap();
    for n in &needles {
        assert!(memchr::memmem::find(&bin, n).is_none());
    }
    let hits = files_containing(built.out_dir.as_deref().unwrap(), &needles);
    assert!(hits.is_empty(), "key material in OUT_DIR: {hits:?}");
    let hits = files_containing(&common::target_dir(), &needles);
    assert!(hits.is_empty(), "key material under target/: {hits:?}");
}

#[test]
fn an_unusable_signing_key_fails_the_build_with_a_remedy() {
    let s = shared();
    let repo = Repo::new();
    let missing = s.dir.path().join("no-such-key.pem");
    let out: Output = Build::new()
        .features("sign")
        .env("BUILDTRACE_SIGNING_KEY", missing.display().to_string())
        .output(&repo.dir);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("BUILDTRACE_SIGNING_KEY"), "{stderr}");
    assert!(stderr.contains("no-such-key.pem"), "{stderr}");
    // A public key where the private key is needed.
    let out = Build::new()
        .features("sign")
        .env("BUILDTRACE_SIGNING_KEY", s.key.public.display().to_string())
        .output(&repo.dir);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("public key where a private key is needed")
    );
}

#[test]
fn a_signing_key_without_build_sign_fails_the_build_naming_the_feature() {
    // The fixture's build script uses buildtrace with `build` alone: the
    // curve's crates are not compiled, and a key asked for is not ignored.
    let s = shared();
    let repo = Repo::new();
    let out: Output = Build::new()
        .env(
            "BUILDTRACE_SIGNING_KEY",
            s.key.private.display().to_string(),
        )
        .output(&repo.dir);
    assert!(!out.status.success(), "built an unsigned record");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("BUILDTRACE_SIGNING_KEY"), "{stderr}");
    assert!(stderr.contains("`build-sign` feature"), "{stderr}");
    assert!(
        !stderr.contains("BEGIN PRIVATE KEY"),
        "the key's content in the output: {stderr}"
    );
    let tree = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-e", "normal,build", "-i", "p256"])
        .current_dir(&repo.dir)
        .output()
        .unwrap();
    assert!(
        !tree.status.success()
            && String::from_utf8_lossy(&tree.stderr).contains("did not match any packages"),
        "p256 in the fixture's tree without build-sign (or cargo tree failed): {}{}",
        String::from_utf8_lossy(&tree.stdout),
        String::from_utf8_lossy(&tree.stderr)
    );
}

#[test]
fn the_running_program_reports_the_seal_it_carries() {
    let s = shared();
    let exe = copy(&s.built.exe, "runtime");
    let resource = |exe: &Path| -> std::collections::BTreeMap<String, String> {
        run(Command::new(exe).arg("--resource"))
            .lines()
            .filter_map(|l| l.strip_prefix("resource\t"))
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let before = resource(&exe);
    assert_eq!(before["buildtrace.seal.state"], "unsigned");
    assert!(!before.contains_key("buildtrace.seal.digest"));
    seal(&exe, &s.key);
    let after = resource(&exe);
    assert_eq!(after["buildtrace.seal.state"], "sealed");
    assert_eq!(after["buildtrace.seal.digest"], expected_digest(&exe));
    assert_eq!(after["buildtrace.seal.key_id"], s.key.id());
    // And inspect reads the same from the file.
    let json: Value =
        serde_json::from_str(&run(cli().arg("inspect").arg("--json").arg(&exe))).unwrap();
    assert_eq!(
        json["buildtrace.seal.digest"],
        after["buildtrace.seal.digest"].as_str()
    );
}

#[test]
fn attest_states_the_file_digest_and_the_build_and_its_envelope_verifies_with_openssl() {
    let s = shared();
    let exe = copy(&s.built.exe, "attested");
    seal(&exe, &s.key);
    let file_sha = sha256_hex(&std::fs::read(&exe).unwrap());
    let head = s.repo.git(&["rev-parse", "HEAD"]);

    let statement: Value = serde_json::from_str(&run(cli().arg("attest").arg(&exe))).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(statement["subject"][0]["name"], "attested");
    assert_eq!(statement["subject"][0]["digest"]["sha256"], file_sha);
    let def = &statement["predicate"]["buildDefinition"];
    assert_eq!(def["externalParameters"]["source"]["revision"], head);
    assert_eq!(def["resolvedDependencies"][0]["digest"]["gitCommit"], head);
    assert_eq!(
        def["externalParameters"]["features"],
        serde_json::json!(["otel"])
    );
    assert_eq!(
        def["externalParameters"]["target"],
        common::rustc_field("host")
    );
    let lock = sha256_hex(&std::fs::read(s.repo.dir.join("Cargo.lock")).unwrap());
    assert_eq!(def["resolvedDependencies"][1]["digest"]["sha256"], lock);
    let byproduct = &statement["predicate"]["runDetails"]["byproducts"][0];
    assert_eq!(
        byproduct["annotations"]["sealDigest"],
        expected_digest(&exe)
    );

    // DSSE: PAE(type, payload) signed; OpenSSL checks the DER signature.
    let out_file = s.dir.path().join("attested.intoto.jsonl");
    run(cli()
        .arg("attest")
        .arg(&exe)
        .arg("--key")
        .arg(&s.key.private)
        .args(["--format", "dsse", "-o"])
        .arg(&out_file));
    let envelope: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let ty = envelope["payloadType"].as_str().unwrap();
    assert_eq!(ty, "application/vnd.in-toto+json");
    assert_eq!(
        serde_json::from_slice::<Value>(&payload).unwrap(),
        statement
    );
    let mut pae = format!("DSSEv1 {} {} {} ", ty.len(), ty, payload.len()).into_bytes();
    pae.extend(&payload);
    let sig = b64
        .decode(envelope["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    assert!(openssl_verifies(&s.key, &pae, &sig));
    assert!(!openssl_verifies(&s.other_key, &pae, &sig));
    assert_eq!(envelope["signatures"][0]["keyid"], s.key.id());
}

#[test]
fn diff_names_exactly_the_facts_that_differ() {
    let s = shared();
    let a = copy(&s.built.exe, "diff-a");
    let release = Build::new()
        .features("otel")
        .profile("release")
        .run(&s.repo.dir);
    let b = copy(&release.exe, "diff-b");

    let out = cli()
        .args(["diff", "--json"])
        .arg(&a)
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let same: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(same["same"], true);

    let out = cli()
        .args(["diff", "--json"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = d["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    for k in [
        "buildtrace.build.profile",
        "buildtrace.build.opt_level",
        "buildtrace.id",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    for k in [
        "vcs.ref.head.revision",
        "buildtrace.build.features",
        "process.runtime.version",
    ] {
        assert!(!keys.contains(&k), "{k} reported as different: {keys:?}");
    }
    let profile = d["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "buildtrace.build.profile")
        .unwrap();
    assert_eq!(
        (profile["a"].as_str(), profile["b"].as_str()),
        (Some("dev"), Some("release"))
    );

    // Sealing one side shows up as a seal difference.
    seal(&b, &s.key);
    let text = run_status(cli().arg("diff").arg(&a).arg(&b), 1);
    assert!(text.contains("buildtrace.seal.state"), "{text}");
    assert!(text.contains("buildtrace.seal.digest"), "{text}");
}

fn run_status(cmd: &mut Command, want: i32) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(want),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn keygen_writes_a_private_key_only_the_owner_reads_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let out = run(cli().arg("keygen").arg("--out").arg(&key));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "private key mode {mode:o}");
    }
    // OpenSSL reads both, and derives the same public key and id.
    let public = dir.path().join("k.pem.pub");
    let derived = run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key));
    assert_eq!(
        derived.trim(),
        std::fs::read_to_string(&public).unwrap().trim()
    );
    let k = Key {
        private: key.clone(),
        public,
    };
    assert!(out.contains(&k.id()), "{out}");
    let before = std::fs::read(&key).unwrap();
    let again = cli().arg("keygen").arg("--out").arg(&key).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwritten"));
    assert_eq!(std::fs::read(&key).unwrap(), before);
}

#[test]
fn bad_keys_and_files_get_clear_errors_and_exit_2() {
    let s = shared();
    let dir = tempfile::tempdir().unwrap();
    let sec1 = dir.path().join("sec1.pem");
    run(Command::new("openssl")
        .args(["ec", "-in"])
        .arg(&s.key.private)
        .arg("-out")
        .arg(&sec1));
    let exe = copy(&s.built.exe, "badkeys");
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec![
                "seal".into(),
                exe.clone().into(),
                "--key".into(),
                sec1.clone().into(),
            ],
            "openssl pkcs8 -topk8",
        ),
        (
            vec![
                "seal".into(),
                exe.clone().into(),
                "--key".into(),
                s.key.public.clone().into(),
            ],
            "public key where a private key",
        ),
        (
            vec![
                "seal".into(),
                exe.clone().into(),
                "--key".into(),
                dir.path().join("none").into(),
            ],
            "cannot read",
        ),
        (
            vec![
                "verify".into(),
                exe.clone().into(),
                "--pubkey".into(),
                exe.clone().into(),
            ],
            "PUBLIC KEY",
        ),
        (
            vec![
                "seal".into(),
                dir.path().into(),
                "--key".into(),
                s.key.private.clone().into(),
            ],
            "directory",
        ),
    ];
    let before = std::fs::read(&exe).unwrap();
    for (args, message) in cases {
        let out = cli().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    assert_eq!(
        std::fs::read(&exe).unwrap(),
        before,
        "a failed seal left the file unchanged"
    );
    // No record: verify says absent (exit 4), seal refuses (exit 1: not found).
    let plain = dir.path().join("plain");
    common::copy_executable(Path::new("/bin/true"), &plain);
    let (code, v) = verify(&plain, &[&s.key], &[]);
    assert_eq!((code, v["verdict"].as_str()), (4, Some("absent")));
    let out = cli()
        .arg("seal")
        .arg(&plain)
        .arg("--key")
        .arg(&s.key.private)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("embed!()"));
}
