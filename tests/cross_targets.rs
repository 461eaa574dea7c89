//! Every target of `scripts/cross/targets.tsv` that this machine builds,
//! built, run and judged here: Windows x64 and x86 under wine, Linux aarch64
//! under qemu-user, static musl and i686 Linux natively, Mach-O x86_64 and
//! arm64 linked by zig (not run: no macOS here).
//!
//! For each, the fixture is built from one git repository and
//! - `file` says the format the target makes;
//! - the target's own binutils (or macholib for Mach-O) find the record's
//!   section, and the record's magic at its offset;
//! - `buildtrace inspect --json` gives the triple, `rustc --print cfg`'s arch,
//!   OS and env, the semantic-convention `os.type` and `host.arch` of the
//!   table, git's commit, the GNU build-id `readelf -n` reads (ELF only) and
//!   the `htlhash` Python computes from the spec;
//! - run under its runner, the program's resource equals that record;
//! - sealed, it verifies as sealed-and-bound, says so at run time, and every
//!   mutant of the tamper matrix is rejected; its attestation is accepted by
//!   the real cosign;
//! - run under its runner against the real Collector, its startup span
//!   holds the startup events at the times they were recorded.
//!
//! Provenance IDs differ per target and repeat for a second build of the
//! same commit with the same `SOURCE_DATE_EPOCH`.

mod common;

#[path = "common/cross.rs"]
mod cross;
#[path = "common/pipeline.rs"]
mod pipeline;
#[path = "common/tamper.rs"]
mod tamper;
#[path = "common/tools.rs"]
mod tools;

use common::{run, Build, Repo};
use cross::Target;
use pipeline::otlp_attributes as attributes;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The targets this file has a test for (every row built here but the host).
const TESTED: &[&str] = &[
    "x86_64-pc-windows-gnu",
    "i686-pc-windows-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "i686-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];

const SOURCE_DATE_EPOCH: &str = "1700000000";
const NAME: &str = "fx-cross-targets";

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_buildtrace"))
}

fn repo() -> &'static Repo {
    static REPO: OnceLock<Repo> = OnceLock::new();
    REPO.get_or_init(|| Repo::named(NAME))
}

/// The fixture built for a target, and what `inspect --json` reads from it.
struct Fixture {
    exe: PathBuf,
    inspect: BTreeMap<String, String>,
}

fn inspect(exe: &Path) -> BTreeMap<String, String> {
    let json = run(cli().arg("inspect").arg("--json").arg(exe));
    let map: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
    map.into_iter()
        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect()
}

/// Builds the fixture of `repo` for `t`: with telemetry (`export`, `otel`) where it
/// runs here, without where it is only linked.
fn build(repo: &Repo, t: &Target) -> Fixture {
    let mut b = Build::new()
        .target(&t.triple, t.zigbuild())
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH);
    if t.runs() {
        b = b.features("export,otel");
    }
    for (k, v) in t.env() {
        b = b.env(&k, v);
    }
    let started = Instant::now();
    let built = b.run(&repo.dir);
    println!(
        "{}: fixture built in {:.1} s",
        t.triple,
        started.elapsed().as_secs_f64()
    );
    // A Windows program keeps its extension: wine looks at it.
    let exe = if t.is_windows() {
        let with = built.exe.with_extension("exe");
        common::copy_executable(&built.exe, &with);
        with
    } else {
        built.exe
    };
    let inspect = inspect(&exe);
    Fixture { exe, inspect }
}

/// The fixture for `t`, built once per test binary.
fn fixture(t: &Target) -> Arc<Fixture> {
    static BUILT: OnceLock<Mutex<BTreeMap<String, Arc<Fixture>>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    built
        .entry(t.triple.clone())
        .or_insert_with(|| Arc::new(build(repo(), t)))
        .clone()
}

/// `process.executable.build_id.htlhash` by the semantic conventions' text,
/// computed by Python: SHA-256 of the first 4096 bytes, the last 4096 bytes
/// and the length as a big-endian u64, first 16 bytes in hex.
fn htlhash(exe: &Path) -> String {
    let script = "import hashlib, sys\n\
        b = open(sys.argv[1], 'rb').read()\n\
        h = hashlib.sha256(b[:4096] + b[-4096:] + len(b).to_bytes(8, 'big'))\n\
        print(h.hexdigest()[:32])\n";
    run(Command::new("python3").args(["-c", script]).arg(exe))
        .trim()
        .to_owned()
}

/// `rustc --print cfg --target T`: `key -> value` of the `key="value"` lines.
fn rustc_cfg(triple: &str) -> BTreeMap<String, String> {
    run(Command::new("rustc").args(["--print", "cfg", "--target", triple]))
        .lines()
        .filter_map(|l| l.split_once("=\""))
        .map(|(k, v)| (k.to_owned(), v.trim_end_matches('"').to_owned()))
        .collect()
}

/// The program's resource, as it reads it from its own memory at run time.
fn runtime_resource(t: &Target, exe: &Path) -> BTreeMap<String, String> {
    run(t.command(exe).arg("--resource"))
        .lines()
        .filter_map(|l| l.strip_prefix("resource\t"))
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn check(triple: &str) {
    let Some(t) = cross::target(triple) else {
        return;
    };
    let f = fixture(&t);
    let exe = &f.exe;
    let j = &f.inspect;

    // The file is what the target makes.
    let file = run(Command::new("file").arg("-b").arg(exe));
    for want in t.file_says() {
        assert!(file.contains(want), "{triple}: `file` says {file}");
    }

    // The record's section, by the format's own tools, holds the record.
    let (record_section, _) = t.section_names();
    let (record, size) = t.section(exe, record_section);
    let bytes = std::fs::read(exe).unwrap();
    assert!(size >= 64, "{triple}: {record_section} is {size} bytes");
    assert_eq!(
        &bytes[record as usize..record as usize + 8],
        b"\x89BTRACE\x1a",
        "{triple}: no record at {record_section}'s file offset {record:#x}"
    );

    // What inspect reads, against rustc, the table, git and the spec.
    let cfg = rustc_cfg(triple);
    assert_eq!(j["buildtrace.target.triple"], triple);
    assert_eq!(j["buildtrace.target.arch"], cfg["target_arch"], "{triple}");
    assert_eq!(j["buildtrace.target.os"], cfg["target_os"], "{triple}");
    assert_eq!(
        j.get("buildtrace.target.env")
            .map(String::as_str)
            .unwrap_or(""),
        cfg.get("target_env").map(String::as_str).unwrap_or(""),
        "{triple}"
    );
    assert_eq!(
        j["buildtrace.target.pointer_width"], cfg["target_pointer_width"],
        "{triple}"
    );
    assert_eq!(j["os.type"], t.os_type, "{triple}");
    assert_eq!(j["host.arch"], t.host_arch, "{triple}");
    assert_eq!(
        j["vcs.ref.head.revision"],
        repo().git(&["rev-parse", "HEAD"])
    );
    assert_eq!(
        j.get("process.executable.build_id.gnu"),
        t.gnu_build_id(exe).as_ref(),
        "{triple}: the GNU build-id against readelf -n"
    );
    if t.is_elf() {
        assert!(
            j.contains_key("process.executable.build_id.gnu"),
            "{triple}: the linker wrote no build-id"
        );
    }
    assert_eq!(j["process.executable.build_id.htlhash"], htlhash(exe));

    // At run time, the program says what the file says.
    if t.runs() {
        assert_eq!(
            &runtime_resource(&t, exe),
            j,
            "{triple}: runtime vs inspect"
        );
    }

    seal_verify_attest(&t, exe);
    if t.runs() {
        startup_span(&t, exe);
    }
}

/// Seals a copy, verifies it with the public key, runs the tamper matrix on
/// it, and has cosign judge its attestation.
fn seal_verify_attest(t: &Target, exe: &Path) {
    let triple = &t.triple;
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = common::openssl_key(dir.path(), "release");
    let name = exe.file_name().unwrap();
    let golden = dir.path().join(name);
    common::copy_executable(exe, &golden);
    // As a release does: strip first (here the debug information, which
    // puts a debug PE over cosign's 128 MiB limit), then seal.
    if let Some(strip) = t.strip() {
        run(Command::new(strip).arg("--strip-debug").arg(&golden));
    }
    run(cli().arg("seal").arg(&golden).arg("--key").arg(&key));
    let verify = |f: &Path| {
        let out = cli()
            .arg("verify")
            .arg(f)
            .args(["--json", "--require", "sealed", "--pubkey"])
            .arg(&public)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("verify printed no JSON ({e}): {stderr}"));
        (out.status.code().unwrap(), json)
    };
    let (code, v) = verify(&golden);
    assert_eq!(code, 0, "{triple}: {v}");
    assert_eq!(v["verdict"], "sealed-and-bound", "{triple}");
    let sealed = inspect(&golden);
    if t.runs() {
        // The running program reads the seal from its own memory.
        let at_run = runtime_resource(t, &golden);
        assert_eq!(at_run["buildtrace.seal.state"], "sealed", "{triple}");
        assert_eq!(
            at_run["buildtrace.seal.digest"], sealed["buildtrace.seal.digest"],
            "{triple}"
        );
    }

    let (record_section, text_section) = t.section_names();
    let layout = tamper::Layout {
        record: t.section(&golden, record_section).0,
        text: t.section(&golden, text_section),
        header: t.header_fields(&golden),
        strip: t.strip(),
    };
    let n = std::sync::atomic::AtomicU32::new(0);
    tamper::check_matrix(
        &golden,
        &layout,
        |f| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let to = dir
                .path()
                .join(format!("mutant-{i}-{}", name.to_string_lossy()));
            common::copy_executable(f, &to);
            to
        },
        verify,
    );

    // The attestation names this file and this target; cosign accepts it.
    let statement: Value = serde_json::from_str(&run(cli().arg("attest").arg(&golden))).unwrap();
    let sha: String = Sha256::digest(std::fs::read(&golden).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(statement["subject"][0]["digest"]["sha256"], sha);
    assert_eq!(
        statement["predicate"]["buildDefinition"]["externalParameters"]["target"],
        triple.as_str()
    );
    let Some(cosign) = tools::cosign() else {
        return;
    };
    let bundle = dir.path().join("bundle.json");
    run(cli()
        .arg("attest")
        .arg(&golden)
        .arg("--key")
        .arg(&key)
        .arg("-o")
        .arg(&bundle));
    let out = Command::new(cosign)
        .arg("verify-blob-attestation")
        .arg("--key")
        .arg(&public)
        .arg("--bundle")
        .arg(&bundle)
        .args(["--type", "slsaprovenance1", "--insecure-ignore-tlog=true"])
        .arg(&golden)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{triple}: cosign rejected the attestation: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `--export` under the target's runner against the real Collector
/// (its file exporter): the startup span holds the three startup events,
/// each at a time inside the interval the program measured around it.
fn startup_span(t: &Target, exe: &Path) {
    let triple = &t.triple;
    let Some(pipeline) = pipeline::Pipeline::start_with(&[("PIPELINE_FILE_EXPORT", "1")]) else {
        return;
    };
    let path = pipeline.var("PIPELINE_FILE_EXPORT_PATH").to_owned();
    let service = format!("cross-{triple}");
    let out = t
        .command(exe)
        .arg("--export")
        .envs(pipeline.otlp_env("grpc"))
        .env("OTEL_SERVICE_NAME", &service)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{triple}: {stdout}\n{stderr}");
    assert!(!stderr.contains("warning"), "{triple}: {stderr}");
    let marks: BTreeMap<&str, (u128, u128)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("mark\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0], (f[1].parse().unwrap(), f[2].parse().unwrap()))
        })
        .collect();
    assert_eq!(marks.len(), 3, "{triple}: {stdout}");

    let deadline = Instant::now() + Duration::from_secs(20);
    let (resource, startup) = loop {
        if let Some(found) = startup_of(&path, &service) {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "{triple}: no startup span of {service} reached the Collector"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        resource["vcs.ref.head.revision"],
        repo().git(&["rev-parse", "HEAD"])
    );
    assert_eq!(resource["host.arch"], t.host_arch);
    assert_eq!(resource["os.type"], t.os_type);
    let attrs = attributes(&startup["attributes"]);
    let source = &attrs["buildtrace.startup.start_source"];
    // The OS start time comes from /proc on Linux; elsewhere the span starts
    // at embed!'s constructor, before main.
    let want = if t.os_type == "linux" {
        "os"
    } else {
        "constructor"
    };
    assert_eq!(source, want, "{triple}: {attrs:?}");
    let error_ns: u128 = attrs["buildtrace.startup.clock_error_ns"]
        .parse::<f64>()
        .map(|e| e as u128)
        .unwrap_or(0);
    // Marks are whole microseconds read by the program around each event.
    let slack = error_ns + 2_000;
    let events = startup["events"].as_array().cloned().unwrap_or_default();
    for (name, (before, after)) in &marks {
        let e = events
            .iter()
            .find(|e| e["name"] == *name)
            .unwrap_or_else(|| panic!("{triple}: no {name} event in {startup}"));
        let at: u128 = e["timeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(
            at + slack >= before * 1000 && at <= after * 1000 + 1000 + slack,
            "{triple}: {name} at {at} ns, recorded between {before} and {after} µs (clock error {error_ns} ns)"
        );
    }
}

/// The resource and the `startup` span of `service` in the file exporter's
/// output, once there.
fn startup_of(path: &str, service: &str) -> Option<(BTreeMap<String, String>, Value)> {
    let text = std::fs::read_to_string(path).ok()?;
    for line in text.lines() {
        let Ok(request) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        for r in request["resourceSpans"].as_array().into_iter().flatten() {
            let attrs = attributes(&r["resource"]["attributes"]);
            if attrs.get("service.name").map(String::as_str) != Some(service) {
                continue;
            }
            for s in r["scopeSpans"].as_array().into_iter().flatten() {
                for span in s["spans"].as_array().into_iter().flatten() {
                    if span["name"] == "startup" {
                        return Some((attrs, span.clone()));
                    }
                }
            }
        }
    }
    None
}

#[test]
fn x86_64_pc_windows_gnu() {
    check("x86_64-pc-windows-gnu");
}

#[test]
fn i686_pc_windows_gnu() {
    check("i686-pc-windows-gnu");
}

#[test]
fn aarch64_unknown_linux_gnu() {
    check("aarch64-unknown-linux-gnu");
}

#[test]
fn x86_64_unknown_linux_musl() {
    check("x86_64-unknown-linux-musl");
}

#[test]
fn i686_unknown_linux_gnu() {
    check("i686-unknown-linux-gnu");
}

#[test]
fn x86_64_apple_darwin() {
    check("x86_64-apple-darwin");
}

#[test]
fn aarch64_apple_darwin() {
    check("aarch64-apple-darwin");
}

#[test]
fn every_target_built_here_has_a_test() {
    let host = common::rustc_field("host");
    let built_here: BTreeSet<String> = cross::table()
        .into_iter()
        .filter(|t| t.here != "-" && t.triple != host)
        .map(|t| t.triple)
        .collect();
    let tested: BTreeSet<String> = TESTED.iter().map(|s| s.to_string()).collect();
    assert_eq!(built_here, tested);
}

/// Provenance IDs: one per target (the target is among the build's inputs),
/// and the same again when the same commit is built a second time, from
/// another directory, with the same `SOURCE_DATE_EPOCH`.
#[test]
fn provenance_ids_differ_per_target_and_repeat_across_builds() {
    let targets: Vec<Target> = TESTED.iter().filter_map(|t| cross::target(t)).collect();
    if targets.is_empty() {
        eprintln!("SKIPPED: no cross target is set up (scripts/cross/setup.sh)");
        return;
    }
    let host = Build::new()
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .run(&repo().dir);
    let mut ids = BTreeMap::new();
    ids.insert(
        common::rustc_field("host"),
        inspect(&host.exe)["buildtrace.id"].clone(),
    );
    let twin = Repo::named(NAME);
    assert_eq!(
        twin.git(&["rev-parse", "HEAD"]),
        repo().git(&["rev-parse", "HEAD"]),
        "the twin repository is the same commit"
    );
    for t in &targets {
        let id = fixture(t).inspect["buildtrace.id"].clone();
        let again = build(&twin, t).inspect["buildtrace.id"].clone();
        assert_eq!(id, again, "{}: a second build, another ID", t.triple);
        println!("{:<28} {id}", t.triple);
        ids.insert(t.triple.clone(), id);
    }
    let distinct: BTreeSet<&String> = ids.values().collect();
    assert_eq!(distinct.len(), ids.len(), "shared IDs: {ids:?}");
}
