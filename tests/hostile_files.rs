//! Hostile files through the real command line: every file a user may point
//! the tool at by mistake, or an attacker on purpose, gets a typed,
//! actionable one-line error and the documented exit status (2 for errors, 1
//! for "no record"), never a panic or a signal, within 1 s of wall time and
//! 64 MiB of peak resident memory, measured per child with `wait4`.
//!
//! Each case runs for every subcommand of [`SUBCOMMANDS`]. Run with
//! `--nocapture` to see the measured figures.
#![cfg(all(feature = "cli", unix))]

mod common;
#[path = "common/objects.rs"]
mod objects;

use std::ffi::OsString;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use buildtrace::inspect::{inspect_reader, InspectError, Limits};

const EXE: &str = env!("CARGO_BIN_EXE_buildtrace");

/// How a subcommand answers a file it could read as an executable.
#[derive(Debug, Clone, Copy)]
enum Answers {
    /// As `inspect_reader`: the record (exit 0), "no record" (1) or the
    /// library's error (2), with the messages `inspect` prints.
    AsInspect,
    /// A verdict on stdout, or an error on stderr, with one of these exit
    /// statuses (`verify`: `(&["verify"], Answers::Verdict(&[0, 1, 2, 3, 4]))`).
    Verdict(&'static [i32]),
}

/// The subcommands that read a file: the arguments before the file's path,
/// and how they answer. One line adds a subcommand to every case.
const SUBCOMMANDS: &[(&[&str], Answers)] = &[
    (&["inspect"], Answers::AsInspect),
    (&["verify"], Answers::Verdict(&[0, 1, 2, 3, 4])),
    (&["attest"], Answers::AsInspect),
];

/// The most one run on one hostile file may take: ten times the slowest
/// case on a quiet machine (0.3 s), so that a loaded CI machine never fails
/// it while a hang or a quadratic scan still does. The figures themselves
/// are printed, not asserted: speed is the benchmarks' job.
const MAX_WALL: Duration = Duration::from_secs(10);
const MAX_RSS: u64 = 64 << 20;
/// A run that has not ended by then is killed and reported as hung.
const HUNG: Duration = Duration::from_secs(30);

/// Cuts of the real binary run through the CLI (all of them are checked
/// in-process): every 64th byte of the headers, then this many spread over
/// the file.
const HEADER_CUTS: usize = 4096;
const SPREAD_CUTS: usize = 96;

/// What a run must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect<'a> {
    /// Not an executable at all: exit status 2 and a message containing
    /// this text, from every subcommand.
    Error(&'a str),
    /// A broken executable: `inspect` exits with status 2 and this message.
    Broken(&'a str),
    /// An executable without a record: `inspect` exits with status 1.
    NoRecord,
    /// The intact binary: `inspect` exits with status 0 and prints it.
    Found,
}

const NOT_A_FILE: Expect<'static> =
    Expect::Error("not a regular file; pass the path of an executable file");
const NOT_EXECUTABLE: Expect<'static> = Expect::Error("not an executable (ELF, Mach-O or PE): ");
const UNREADABLE: Expect<'static> = Expect::Error("cannot read the file: ");
const NO_RECORD: &str = "no buildtrace section and no record in ";

/// The fixture application, built as a user builds it (debug profile).
fn real_binary() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let repo = common::Repo::without_git();
        let built = repo.build();
        std::fs::read(&built.exe).unwrap()
    })
}

/// A minimal valid baseline JPEG: an 8×8 mid-grey image, one component,
/// all-ones quantisation, one-code Huffman tables.
fn jpeg() -> Vec<u8> {
    let mut jpeg = Vec::new();
    jpeg.extend_from_slice(b"\xff\xd8"); // SOI
    jpeg.extend_from_slice(b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    jpeg.extend_from_slice(b"\xff\xdb\x00\x43\x00"); // DQT, table 0
    jpeg.extend_from_slice(&[1; 64]);
    // SOF0: 8 bits, 8×8, one component (id 1, 1×1 sampling, table 0).
    jpeg.extend_from_slice(b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00");
    for class in [0x00u8, 0x10] {
        // DHT: DC then AC table 0, one code of length 1 for symbol 0.
        jpeg.extend_from_slice(&[0xff, 0xc4, 0x00, 0x14, class, 1]);
        jpeg.extend_from_slice(&[0; 16]);
    }
    // SOS, then the scan: DC difference 0 ("0"), end of block ("0"),
    // padded with ones.
    jpeg.extend_from_slice(b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00");
    jpeg.push(0b0011_1111);
    jpeg.extend_from_slice(b"\xff\xd9"); // EOI
    jpeg
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::write(path, bytes).unwrap();
    path.to_owned()
}

/// `head`, then zeros up to `len` bytes, without a hole.
fn zeros(path: &Path, head: &[u8], len: u64) -> PathBuf {
    let mut file = File::create(path).unwrap();
    file.write_all(head).unwrap();
    let rest = len - head.len() as u64;
    std::io::copy(&mut std::io::repeat(0).take(rest), &mut file).unwrap();
    path.to_owned()
}

/// `head`, then a hole up to `len` bytes.
fn sparse(path: &Path, head: &[u8], len: u64) -> PathBuf {
    write(path, head);
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
    path.to_owned()
}

/// One finished run of the CLI.
struct Run {
    status: Result<i32, String>,
    stdout: String,
    stderr: String,
    wall: Duration,
    max_rss: u64,
    /// This process's RSS when it forked the child: at most this much of
    /// `max_rss` may be this process's rather than the child's.
    spawner_rss: u64,
}

/// Runs the CLI with `args` and measures its wall time and peak RSS.
///
/// The child is forked, not spawned with `vfork` (an empty `pre_exec` hook
/// does that): on Linux a child's `ru_maxrss` starts from the memory map it
/// replaces at `exec`, which after a fork is a copy of this process's
/// anonymous memory, after a `vfork` this process's whole map and its peak.
/// The figure is therefore an upper bound that may include up to
/// [`Run::spawner_rss`] of this process's memory.
///
/// The child is waited for with `waitid(WNOWAIT)`, which leaves it a zombie
/// until a watchdog that kills it after [`HUNG`] is out of the way; `wait4`
/// then reaps it and returns its resource usage.
fn run(args: &[OsString]) -> Run {
    let spawner_rss = own_rss();
    let stdout = tempfile::tempfile().unwrap();
    let stderr = tempfile::tempfile().unwrap();
    let mut command = Command::new(EXE);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().unwrap())
        .stderr(stderr.try_clone().unwrap());
    // SAFETY: the hook does nothing, which is async-signal-safe.
    unsafe { command.pre_exec(|| Ok(())) };
    let started = Instant::now();
    let child = command.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let (done, ended) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let hung = ended.recv_timeout(HUNG) == Err(mpsc::RecvTimeoutError::Timeout);
        if hung {
            // SAFETY: `pid` is our child and not reaped yet (WNOWAIT), so it
            // names no other process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        hung
    });
    // SAFETY: a zeroed siginfo_t is a valid out-parameter.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid out-parameter; `pid` is our child.
    let waited = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    };
    assert_eq!(waited, 0, "waitid: {}", std::io::Error::last_os_error());
    let wall = started.elapsed();
    drop(done);
    let hung = watchdog.join().unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-parameters; reaps our exited child.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    let status = if hung {
        Err(format!("hung: killed after {HUNG:?}"))
    } else if libc::WIFEXITED(status) {
        Ok(libc::WEXITSTATUS(status))
    } else {
        Err(format!("killed by signal {}", libc::WTERMSIG(status)))
    };
    Run {
        status,
        stdout: read_all(stdout),
        stderr: read_all(stderr),
        wall,
        max_rss: max_rss_bytes(usage.ru_maxrss),
        spawner_rss,
    }
}

fn read_all(mut file: File) -> String {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_end(&mut bytes).unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `ru_maxrss` is in bytes on macOS, in KiB elsewhere.
fn max_rss_bytes(ru_maxrss: libc::c_long) -> u64 {
    let value = u64::try_from(ru_maxrss).unwrap_or(0);
    if cfg!(target_os = "macos") {
        value
    } else {
        value * 1024
    }
}

/// This process's current RSS; zero where `/proc` does not say.
fn own_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// The runs so far: the largest figures, and what they were seen on.
#[derive(Default)]
struct Runs {
    count: usize,
    wall: (Duration, String),
    rss: (u64, String),
    spawner_rss: u64,
    /// Print the figures of every run.
    each: bool,
    /// What was wrong with them.
    wrong: Vec<String>,
}

impl Runs {
    /// Runs subcommand `args` on `path`, which is expected to get `expect`,
    /// and notes what is wrong with the answer.
    fn check(
        &mut self,
        (args, answers): (&[&str], Answers),
        case: &str,
        path: &Path,
        expect: Expect<'_>,
    ) {
        let mut argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        argv.push(path.into());
        let run = run(&argv);
        let what = format!("{} {case}", args.join(" "));
        self.note(&run, &what);
        let mut fail = |problem: String| self.wrong.push(format!("{what}: {problem}"));

        let code = match &run.status {
            Ok(code) => *code,
            Err(signal) => return fail(signal.clone()),
        };
        if run.stderr.contains("panicked") || run.stderr.contains("RUST_BACKTRACE") {
            fail(format!("panicked: {}", run.stderr));
        }
        if run.wall > MAX_WALL {
            fail(format!("took {:?} (at most {MAX_WALL:?})", run.wall));
        }
        if run.max_rss > MAX_RSS {
            fail(format!(
                "peak RSS {:.1} MiB (at most {} MiB; up to {:.1} MiB of it may be the test process's)",
                mib(run.max_rss),
                MAX_RSS >> 20,
                mib(run.spawner_rss)
            ));
        }
        // An error: exit status 2 and one line on stderr, naming the file.
        let error = |class: &str| {
            let line = run.stderr.strip_suffix('\n').unwrap_or(&run.stderr);
            let prefix = format!("buildtrace: {}: ", path.display());
            let mut wrong = Vec::new();
            if code != 2 {
                wrong.push(format!("exit {code}, expected 2"));
            }
            if !run.stdout.is_empty() {
                wrong.push(format!("printed on stdout: {}", run.stdout));
            }
            if line.contains('\n') || !line.starts_with(&prefix) || !line.contains(class) {
                wrong.push(format!(
                    "expected one line `{prefix}…{class}…`, got {:?}",
                    run.stderr
                ));
            }
            wrong
        };
        let wrong = match (expect, answers) {
            (Expect::Error(class), _) | (Expect::Broken(class), Answers::AsInspect) => error(class),
            (Expect::NoRecord, Answers::AsInspect) => {
                let mut wrong = error(NO_RECORD);
                if code == 1 {
                    wrong.retain(|w| !w.starts_with("exit "));
                } else {
                    wrong.push(format!("exit {code}, expected 1"));
                }
                wrong
            }
            (Expect::Found, Answers::AsInspect) if code != 0 || run.stdout.is_empty() => {
                vec![format!("exit {code} and no record printed: {}", run.stderr)]
            }
            (Expect::Found, Answers::AsInspect) => Vec::new(),
            (Expect::Broken(_) | Expect::NoRecord | Expect::Found, Answers::Verdict(codes)) => {
                if !codes.contains(&code) {
                    vec![format!("exit {code}, expected one of {codes:?}")]
                } else if code == 2 {
                    error("")
                } else if run.stdout.is_empty() {
                    vec![format!(
                        "exit {code} and no verdict printed: {}",
                        run.stderr
                    )]
                } else {
                    Vec::new()
                }
            }
        };
        for problem in wrong {
            fail(problem);
        }
    }

    fn note(&mut self, run: &Run, what: &str) {
        if self.each {
            println!(
                "  {what:<60} {:<8} {:>8.1} ms {:>5.1} MiB",
                format!("{:?}", run.status),
                run.wall.as_secs_f64() * 1e3,
                mib(run.max_rss)
            );
        }
        self.count += 1;
        self.spawner_rss = self.spawner_rss.max(run.spawner_rss);
        if run.wall > self.wall.0 {
            self.wall = (run.wall, what.to_owned());
        }
        if run.max_rss > self.rss.0 {
            self.rss = (run.max_rss, what.to_owned());
        }
    }

    fn report(&self) {
        println!(
            "{} runs; slowest {:.1} ms ({}); largest peak RSS {:.1} MiB ({}), an upper bound \
             (a child starts from a copy of the test process's memory, at most {:.1} MiB)",
            self.count,
            self.wall.0.as_secs_f64() * 1e3,
            self.wall.1,
            mib(self.rss.0),
            self.rss.1,
            mib(self.spawner_rss),
        );
    }
}

/// Held by each test for its duration: the runs are timed, and the other
/// test's work would skew their figures.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The error `inspect_reader` gives for the real binary cut at `cut`; every
/// cut short of the end is an error.
fn cut_error(cut: usize) -> InspectError {
    let bytes = real_binary();
    match inspect_reader(Cursor::new(&bytes[..cut]), &Limits::default()) {
        Ok(_) => panic!("the binary cut at {cut} of {} was accepted", bytes.len()),
        Err(error) => error,
    }
}

/// Every run of the CLI is in this one test, which fails only at its end: a
/// failure's backtrace swells this process, and children forked after it
/// would carry that into their figures.
#[test]
fn hostile_files_get_a_typed_error_quickly_and_in_little_memory() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);

    let directory = at("a-directory");
    std::fs::create_dir(&directory).unwrap();
    let fifo = at("a-fifo");
    let c_fifo = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_fifo.as_ptr(), 0o600) }, 0);
    let (loop_a, loop_b) = (at("loop-a"), at("loop-b"));
    std::os::unix::fs::symlink(&loop_a, &loop_b).unwrap();
    std::os::unix::fs::symlink(&loop_b, &loop_a).unwrap();
    let no_record = objects::object_without_record();

    let cases: Vec<(&str, PathBuf, Expect<'static>)> = vec![
        ("empty file", write(&at("empty"), b""), NOT_EXECUTABLE),
        ("one byte", write(&at("one-byte"), b"\x7f"), NOT_EXECUTABLE),
        (
            "100 MB of zeros",
            zeros(&at("zeros"), b"", 100 << 20),
            NOT_EXECUTABLE,
        ),
        (
            "4 GiB sparse file",
            sparse(&at("sparse"), b"", 4 << 30),
            NOT_EXECUTABLE,
        ),
        ("a directory", directory, NOT_A_FILE),
        ("a FIFO", fifo, NOT_A_FILE),
        ("a symlink loop", loop_a, UNREADABLE),
        ("a missing file", at("missing"), UNREADABLE),
        ("a JPEG", write(&at("photo.jpg"), &jpeg()), NOT_EXECUTABLE),
        (
            "text",
            write(&at("notes.txt"), b"just text\n"),
            NOT_EXECUTABLE,
        ),
        // Executables without a record: the file is scanned for the magic,
        // up to the scan limit.
        (
            "an object without a record",
            write(&at("plain.o"), &no_record),
            Expect::NoRecord,
        ),
        (
            "an object without a record, then 100 MB of zeros",
            zeros(&at("plain-zeros.o"), &no_record, 100 << 20),
            Expect::NoRecord,
        ),
        (
            "an object without a record, then a 4 GiB hole",
            sparse(&at("plain-sparse.o"), &no_record, 4 << 30),
            Expect::NoRecord,
        ),
        (
            "the intact real binary",
            write(&at("app"), real_binary()),
            Expect::Found,
        ),
    ];
    let mut runs = Runs {
        each: true,
        ..Runs::default()
    };
    println!("hostile files (exit status, wall time, peak RSS):");
    for &subcommand in SUBCOMMANDS {
        for (case, path, expect) in &cases {
            runs.check(subcommand, case, path, *expect);
        }
    }
    runs.report();

    // The real binary cut short, a sample: every 64th byte of the headers,
    // then offsets spread over the file. Each gets the library's error.
    let bytes = real_binary();
    let len = bytes.len();
    let mut cuts: Vec<usize> = (0..HEADER_CUTS.min(len)).step_by(64).collect();
    let step = (len / SPREAD_CUTS).next_multiple_of(64).max(64);
    cuts.extend((HEADER_CUTS..len).step_by(step));
    cuts.push(len - 1);
    let path = at("cut");
    let mut cut_runs = Runs::default();
    for &cut in &cuts {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let error = cut_error(cut);
        let message = error.to_string();
        let expect = if error.is_no_record() {
            Expect::NoRecord
        } else {
            Expect::Broken(&message)
        };
        for &subcommand in SUBCOMMANDS {
            cut_runs.check(subcommand, &format!("cut at {cut}"), &path, expect);
        }
    }
    println!("the {len}-byte real binary cut at {} offsets:", cuts.len());
    cut_runs.report();

    let wrong = [runs.wrong, cut_runs.wrong].concat();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_real_binary_cut_at_every_64th_byte_is_an_error() {
    let _serial = serial();
    let bytes = real_binary();
    // In-process, every cut: an error, never a panic, and of a kind that
    // says the file is broken, not that it is fine or unreadable.
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for cut in (0..bytes.len()).step_by(64) {
        let kind = match cut_error(cut) {
            InspectError::NotExecutable { .. } => "not an executable",
            InspectError::Malformed { .. } => "malformed",
            InspectError::BadRecord { .. } => "bad record",
            InspectError::DigestMismatch { .. } => "digest mismatch",
            InspectError::EmptySection { .. } => "empty section",
            error if error.is_no_record() => "no record",
            error => panic!("cut at {cut}: {error:?}"),
        };
        *kinds.entry(kind).or_default() += 1;
    }
    println!(
        "the {}-byte real binary cut at every 64th byte, in-process: {kinds:?}",
        bytes.len()
    );
}

/// `verify-attestation` reads its bundle as hostile input: every document
/// below is an error (exit 2) in one line of stderr, within the same time and
/// memory bounds, never a panic, and never a verdict.
#[test]
fn hostile_attestations_get_a_typed_error_quickly_and_in_little_memory() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let app = write(&at("app"), real_binary());
    let key = at("k.pem");
    let made = Command::new(EXE)
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(made.status.success());
    let bundle = |content: &str| {
        format!(
            r#"{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{{"publicKey":{{"hint":"x"}}}},"dsseEnvelope":{content}}}"#
        )
    };
    let many_signatures = format!(
        r#"{{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[{}]}}"#,
        vec![r#"{"sig":"AAAA"}"#; 10_000].join(",")
    );
    let cases: Vec<(&str, PathBuf)> = vec![
        ("empty", write(&at("empty"), b"")),
        ("the binary itself", write(&at("binary"), real_binary())),
        ("a directory", dir.path().to_owned()),
        ("/dev/zero", PathBuf::from("/dev/zero")),
        ("1 GiB sparse, past the size limit", sparse(&at("sparse"), b"{", 1 << 30)),
        ("17 MiB of zeros", zeros(&at("zeros"), b"{\"a\":\"", 17 << 20)),
        ("nested a million deep", write(&at("deep"), "[".repeat(1 << 20).as_bytes())),
        ("bundle v0.4", write(&at("v04"), br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json"}"#)),
        (
            "keyless bundle",
            write(
                &at("keyless"),
                br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":""}},"dsseEnvelope":{}}"#,
            ),
        ),
        ("message signature bundle", write(&at("msg"), bundle("null").replace(",\"dsseEnvelope\":null", "").as_bytes())),
        (
            "payload not base64",
            write(
                &at("b64"),
                bundle(r#"{"payloadType":"application/vnd.in-toto+json","payload":"%%%","signatures":[{"sig":""}]}"#).as_bytes(),
            ),
        ),
        ("other payload type", write(&at("type"), bundle(r#"{"payloadType":"text/plain","payload":"","signatures":[]}"#).as_bytes())),
        ("10 000 signatures", write(&at("many"), many_signatures.as_bytes())),
        ("invalid UTF-8", write(&at("utf8"), b"{\"payloadType\":\"\xff\xfe\"}")),
    ];
    let mut wrong = Vec::new();
    println!("hostile attestations (exit status, wall time, peak RSS):");
    for (case, path) in &cases {
        let args: Vec<OsString> = vec![
            "verify-attestation".into(),
            app.clone().into(),
            "--bundle".into(),
            path.into(),
            "--pubkey".into(),
            key.clone().into(),
        ];
        let r = run(&args);
        println!(
            "  {case}: {:?}, {:?}, {:.1} MiB",
            r.status,
            r.wall,
            mib(r.max_rss)
        );
        let mut fail = |problem: String| wrong.push(format!("{case}: {problem}"));
        if r.status != Ok(2) {
            fail(format!(
                "exit {:?}, expected 2; stdout {}",
                r.status, r.stdout
            ));
        }
        if r.stderr.contains("panicked") || r.stderr.lines().count() != 1 {
            fail(format!("stderr is not one line: {}", r.stderr));
        }
        if !r.stdout.is_empty() {
            fail(format!("a verdict on stdout: {}", r.stdout));
        }
        if r.wall > MAX_WALL {
            fail(format!("took {:?} (at most {MAX_WALL:?})", r.wall));
        }
        if r.max_rss > MAX_RSS {
            fail(format!("peak RSS {:.1} MiB", mib(r.max_rss)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
