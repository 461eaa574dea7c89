//! A running program publishes its resource as an OpenTelemetry process
//! context (OTEP 4719) that a reader written here from the OTEP text alone
//! decodes, attribute for attribute what `buildtrace inspect --json` reads
//! from its file; `inspect --pid` agrees with that reader, finds nothing in
//! a forked child, with `OTEL_SDK_DISABLED` or with the builder's switch
//! off, and meets hostile processes and hostile contexts (made by Python,
//! an independent producer) with its documented exit code and one line.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use common::{clean_env, run, Build, Repo};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;

const EXE: &str = env!("CARGO_BIN_EXE_buildtrace");

/// `opentelemetry.proto.processcontext.v1development.ProcessContext`, from
/// `process_context.proto`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProcessContext {
    #[prost(message, optional, tag = "1")]
    resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    attributes: Vec<KeyValue>,
}

/// The fixture, built once with the `context` feature, and its repository.
fn fixture() -> &'static (Repo, PathBuf) {
    static FIXTURE: OnceLock<(Repo, PathBuf)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let repo = Repo::new();
        let built = Build::new().features("context").run(&repo.dir);
        (repo, built.exe)
    })
}

/// A child process killed and reaped when dropped.
struct Held {
    child: Child,
    lines: BTreeMap<String, String>,
}

impl Held {
    fn pid(&self) -> u32 {
        self.lines["pid"].parse().unwrap()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the fixture in `mode` (with `env`) until it prints `ready`.
fn hold(mode: &str, env: &[(&str, &str)]) -> Held {
    let mut cmd = Command::new(&fixture().1);
    clean_env(&mut cmd)
        .arg(mode)
        // Export to a closed port: telemetry is on, nothing is listening.
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
        .env("OTEL_LOGS_EXPORTER", "none")
        .env("OTEL_METRICS_EXPORTER", "none")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BTreeMap::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "fixture exited early"
        );
        let line = line.trim_end();
        if line == "ready" {
            break;
        }
        if let Some((k, v)) = line.split_once('\t') {
            lines.insert(k.to_owned(), v.to_owned());
        }
    }
    Held { child, lines }
}

/// What the OTEP's reader finds: header fields and decoded payload.
#[derive(Debug)]
struct Read {
    mapping: String,
    version: u32,
    payload_size: u32,
    published_at: u64,
    context: ProcessContext,
}

/// The OTEP's reading protocol, from its text: the `OTEL_CTX` mapping in
/// `/proc/PID/maps`, its 32-byte header through `/proc/PID/mem`, the
/// payload where the header points, the timestamp again.
fn otep_read(pid: u32) -> Option<Read> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let (start, name) = maps.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let name = fields.get(5..).map(|n| n.join(" ")).unwrap_or_default();
        let named = matches!(
            name.as_str(),
            "[anon_shmem:OTEL_CTX]"
                | "[anon:OTEL_CTX]"
                | "/memfd:OTEL_CTX"
                | "/memfd:OTEL_CTX (deleted)"
        );
        (named && !fields[1].contains('x')).then(|| {
            let start = u64::from_str_radix(fields[0].split('-').next().unwrap(), 16).unwrap();
            (start, name)
        })
    })?;
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut header = [0u8; 32];
    mem.read_exact_at(&mut header, start).unwrap();
    assert_eq!(&header[0..8], b"OTEL_CTX", "signature");
    let version = u32::from_le_bytes(header[8..12].try_into().unwrap());
    assert_eq!(version, 2, "version");
    let payload_size = u32::from_le_bytes(header[12..16].try_into().unwrap());
    let published_at = u64::from_le_bytes(header[16..24].try_into().unwrap());
    let payload_at = u64::from_le_bytes(header[24..32].try_into().unwrap());
    assert_ne!(published_at, 0, "published");
    assert!(payload_size > 0 && payload_size <= 65536, "{payload_size}");
    let mut payload = vec![0u8; payload_size as usize];
    mem.read_exact_at(&mut payload, payload_at).unwrap();
    let mut again = [0u8; 32];
    mem.read_exact_at(&mut again, start).unwrap();
    assert_eq!(again[16..24], header[16..24], "stable timestamp");
    // CLOCK_BOOTTIME: not later than now.
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (published_at as f64) / 1e9 <= uptime + 1.0,
        "{published_at} vs uptime {uptime}"
    );
    Some(Read {
        mapping: name,
        version,
        payload_size,
        published_at,
        context: ProcessContext::decode(payload.as_slice()).expect("a ProcessContext"),
    })
}

fn json_of(value: &AnyValue) -> serde_json::Value {
    match value.value.as_ref().unwrap() {
        any_value::Value::StringValue(s) => s.clone().into(),
        any_value::Value::BoolValue(b) => (*b).into(),
        any_value::Value::IntValue(i) => (*i).into(),
        any_value::Value::DoubleValue(d) => (*d).into(),
        other => panic!("unexpected value {other:?}"),
    }
}

fn attributes(read: &Read) -> serde_json::Map<String, serde_json::Value> {
    read.context
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), json_of(kv.value.as_ref().unwrap())))
        .collect()
}

fn buildtrace(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn json(output: &Output) -> serde_json::Map<String, serde_json::Value> {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The error path: exit `code`, nothing on stdout, one line on stderr
/// (returned) that is no panic.
fn assert_fails(output: &Output, code: i32) -> String {
    let message = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{message}");
    assert!(output.stdout.is_empty(), "{output:?}");
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.starts_with("buildtrace: "), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    message
}

fn inspect_pid(pid: &str, json: bool) -> Output {
    let mut args = vec!["inspect", "--pid", pid];
    if json {
        args.push("--json");
    }
    buildtrace(&args)
}

#[test]
fn init_publishes_the_resource_that_an_otep_reader_and_inspect_pid_read() {
    let (repo, exe) = fixture();
    let held = hold("--hold", &[]);
    let read = otep_read(held.pid()).expect("an OTEL_CTX mapping");
    let runtime = attributes(&read);

    // The provenance attributes are what the file holds.
    let file = json(&buildtrace(&["inspect", "--json", exe.to_str().unwrap()]));
    for (key, value) in &file {
        assert_eq!(runtime.get(key), Some(value), "{key}");
    }
    assert_eq!(
        runtime["vcs.ref.head.revision"],
        repo.git(&["rev-parse", "HEAD"]).as_str()
    );
    assert_eq!(runtime["service.name"], repo.name.as_str());
    let instance = runtime["service.instance.id"].as_str().unwrap();
    assert_eq!(instance.len(), 36, "a UUID: {instance}");
    assert!(runtime.contains_key("telemetry.sdk.name"));
    assert!(read.context.attributes.is_empty());

    // inspect --pid reads the same attributes and header.
    let mut cli = json(&inspect_pid(&held.pid().to_string(), true));
    let facts = cli.remove("process_context").unwrap();
    assert_eq!(cli, runtime);
    assert_eq!(facts["pid"], held.pid());
    assert_eq!(facts["version"], read.version);
    assert_eq!(facts["payload_size"], read.payload_size);
    assert_eq!(facts["published_at_ns"], read.published_at);
    assert_eq!(facts["mapping"], read.mapping.as_str());

    // The text and env outputs carry them too.
    let text = run(Command::new(EXE).args(["inspect", "--pid", &held.pid().to_string()]));
    assert!(
        text.starts_with(&format!(
            "process {}: OpenTelemetry process context v2\n",
            held.pid()
        )),
        "{text}"
    );
    assert!(text.contains("\tservice.instance.id"), "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("found in mapping `"),
        "{text}"
    );
    let env = run(Command::new(EXE).args(["inspect", "--env", "--pid", &held.pid().to_string()]));
    assert!(
        env.contains(&format!("service.instance.id={instance}")),
        "{env}"
    );
}

#[test]
fn a_forked_child_has_no_mapping() {
    let held = hold("--hold-fork", &[]);
    assert!(otep_read(held.pid()).is_some(), "the parent publishes");
    let child = &held.lines["child"];
    let maps = std::fs::read_to_string(format!("/proc/{child}/maps")).unwrap();
    assert!(!maps.contains("OTEL_CTX"), "{maps}");
    let message = assert_fails(&inspect_pid(child, false), 1);
    assert!(
        message.contains("publishes no OpenTelemetry process context"),
        "{message}"
    );
}

#[test]
fn otel_sdk_disabled_publishes_nothing() {
    let held = hold("--hold", &[("OTEL_SDK_DISABLED", "true")]);
    assert!(otep_read(held.pid()).is_none());
    assert_fails(&inspect_pid(&held.pid().to_string(), false), 1);
}

#[test]
fn the_builder_switch_alone_turns_publishing_off() {
    let held = hold("--hold-without-context", &[]);
    assert!(otep_read(held.pid()).is_none());
    assert_fails(&inspect_pid(&held.pid().to_string(), true), 1);
}

#[test]
fn hostile_pids_get_their_exit_code_and_one_line() {
    // A PID that was a process and is no more.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id().to_string();
    gone.wait().unwrap();
    let message = assert_fails(&inspect_pid(&pid, false), 5);
    assert!(message.contains("no process"), "{message}");

    for usage in ["0", "abc", "-5", "4294967296", ""] {
        assert_fails(&inspect_pid(usage, false), 2);
    }
    assert_fails(&buildtrace(&["inspect", "--pid", "1", EXE]), 2);
    assert_fails(&buildtrace(&["inspect"]), 2);

    // A live process that publishes nothing.
    let mut sleeping = Command::new("sleep").arg("30").spawn().unwrap();
    let message = assert_fails(&inspect_pid(&sleeping.id().to_string(), false), 1);
    assert!(message.contains("buildtrace::init()"), "{message}");

    // Another user's process.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED the permission case: it needs root to run the reader as `nobody`");
    } else if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("SKIPPED the permission case: no setpriv");
    } else {
        let output = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                EXE,
                "inspect",
                "--pid",
            ])
            .arg(sleeping.id().to_string())
            .output()
            .unwrap();
        let message = assert_fails(&output, 6);
        assert!(message.contains("CAP_SYS_PTRACE"), "{message}");
    }
    sleeping.kill().unwrap();
    sleeping.wait().unwrap();
}

/// A Python process that maps a memfd named `OTEL_CTX`, writes the header
/// (`signature`, `version`, `size` or the payload's length, `timestamp`,
/// the payload's address) and the payload after it, prints its PID and
/// waits.
fn python_context(
    signature: &str,
    version: u32,
    size: Option<u32>,
    timestamp: u64,
    payload: &[u8],
) -> Option<Held> {
    const SCRIPT: &str = r#"
import ctypes, mmap, os, struct, sys
sig, ver, size, ts, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), bytes.fromhex(sys.argv[5])
fd = os.memfd_create("OTEL_CTX")
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
m[32:32 + len(payload)] = payload
size = len(payload) if size == "-" else int(size)
m[0:32] = sig.encode().ljust(8, b"\0")[:8] + struct.pack("<IIQQ", ver, size, ts, addr + 32)
print("pid\t%d" % os.getpid())
print("ready", flush=True)
sys.stdin.read()
"#;
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    let child = Command::new("python3")
        .args(["-c", SCRIPT, signature, &version.to_string()])
        .arg(size.map_or("-".to_owned(), |s| s.to_string()))
        .args([timestamp.to_string(), hex])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("SKIPPED the hostile contexts: no python3");
        return None;
    };
    let mut lines = BTreeMap::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        if let Some((k, v)) = line.split_once('\t') {
            lines.insert(k.to_owned(), v.to_owned());
        }
    }
    Some(Held { child, lines })
}

/// `ProcessContext { resource { attributes: [service.name = "py"] } }`,
/// encoded by hand from the protobuf wire format.
const PY_PAYLOAD: &[u8] = b"\x0a\x16\x0a\x14\x0a\x0cservice.name\x12\x04\x0a\x02py";

#[test]
fn a_context_from_another_producer_is_read() {
    let Some(held) = python_context("OTEL_CTX", 2, None, 123_456_789, PY_PAYLOAD) else {
        return;
    };
    let read = otep_read(held.pid()).unwrap();
    assert_eq!(attributes(&read)["service.name"], "py");
    let mut cli = json(&inspect_pid(&held.pid().to_string(), true));
    let facts = cli.remove("process_context").unwrap();
    assert_eq!(cli, attributes(&read));
    assert_eq!(facts["published_at_ns"], 123_456_789);
    assert_eq!(facts["mapping"], "/memfd:OTEL_CTX (deleted)");
}

/// A crafted context: what is wrong, signature, version, declared payload
/// size (`None`: the payload's), timestamp, payload.
type Crafted = (
    &'static str,
    &'static str,
    u32,
    Option<u32>,
    u64,
    &'static [u8],
);

#[test]
fn hostile_contexts_get_exit_code_7_and_one_line() {
    let cases: [Crafted; 6] = [
        ("bad signature", "OTEL_CTY", 2, None, 1, PY_PAYLOAD),
        ("bad version", "OTEL_CTX", 3, None, 1, PY_PAYLOAD),
        ("size 0", "OTEL_CTX", 2, Some(0), 1, PY_PAYLOAD),
        (
            "size over the limit",
            "OTEL_CTX",
            2,
            Some(65_537),
            1,
            PY_PAYLOAD,
        ),
        ("timestamp 0 forever", "OTEL_CTX", 2, None, 0, PY_PAYLOAD),
        (
            "garbage payload",
            "OTEL_CTX",
            2,
            None,
            1,
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        ),
    ];
    let expected = [
        "signature",
        "header version 3",
        "payload of 0 bytes",
        "payload of 65537 bytes",
        "being changed",
        "not a ProcessContext",
    ];
    for ((what, sig, version, size, ts, payload), words) in cases.into_iter().zip(expected) {
        let Some(held) = python_context(sig, version, size, ts, payload) else {
            return;
        };
        let message = assert_fails(&inspect_pid(&held.pid().to_string(), false), 7);
        assert!(message.contains(words), "{what}: {message}");
        assert!(message.contains(": "), "{what}: a remedy: {message}");
        drop(held);
    }
}

/// How long publishing takes, from the library directly (printed; no
/// bound asserted).
#[test]
fn publishing_time_is_reported() {
    let resource = buildtrace::opentelemetry_sdk::Resource::builder().build();
    let started = std::time::Instant::now();
    let first = buildtrace::process_context::publish(&resource).unwrap();
    let publish = started.elapsed();
    let started = std::time::Instant::now();
    let second = buildtrace::process_context::publish(&resource).unwrap();
    let update = started.elapsed();
    eprintln!(
        "process context: first publication {} µs, update {} µs",
        publish.as_micros(),
        update.as_micros()
    );
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert_eq!(maps.matches("OTEL_CTX").count(), 1, "{maps}");
    drop((first, second));
}
