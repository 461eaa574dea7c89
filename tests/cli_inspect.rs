//! `buildtrace inspect` end to end: the binary reads its own record, and
//! what it prints agrees with `readelf`, `git` and `rustc`.
#![cfg(feature = "cli")]

#[path = "common/objects.rs"]
mod objects;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use buildtrace::provenance::OwnedValue;

const EXE: &str = env!("CARGO_BIN_EXE_buildtrace");

fn buildtrace(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The object `--json` prints for `path`.
fn json(path: &str) -> serde_json::Map<String, serde_json::Value> {
    let output = buildtrace(&["inspect", "--json", path]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    match serde_json::from_str(&text).unwrap() {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// A line of `command`'s output that starts with `prefix`, without it.
fn line_after(command: &mut Command, prefix: &str) -> Option<String> {
    let output = command.output().ok()?;
    String::from_utf8(output.stdout)
        .ok()?
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
}

fn rustc(prefix: &str) -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    line_after(Command::new(rustc).arg("-vV"), prefix).expect("rustc -vV")
}

/// The error path: exit `code`, nothing on stdout, one line on stderr.
fn assert_fails(args: &[&str], code: i32) -> String {
    let output = buildtrace(args);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {output:?}");
    assert!(output.stdout.is_empty(), "{args:?}: {output:?}");
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
    assert!(message.starts_with("buildtrace: "), "{args:?}: {message}");
    assert!(!message.contains("panicked"), "{args:?}: {message}");
    message
}

#[test]
fn reads_its_own_record() {
    let output = buildtrace(&["inspect", EXE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    let title = lines.next().unwrap();
    assert!(
        title.starts_with(&format!("{EXE}: buildtrace record v1, provenance id ")),
        "{title}"
    );
    let attributes: Vec<&str> = lines.clone().filter(|l| l.starts_with('\t')).collect();
    let keys: Vec<&str> = attributes
        .iter()
        .map(|l| l.split('\t').nth(1).unwrap().trim_end())
        .collect();
    assert_eq!(
        keys,
        json(EXE).keys().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        lines.last(),
        Some(
            format!(
                "found in section `.buildtrace` at offset {} (ELF)",
                section_offset()
            )
            .as_str()
        )
    );
}

/// The file offset of `.buildtrace`, as `readelf -SW` prints it.
fn section_offset() -> u64 {
    let output = Command::new("readelf").args(["-SW", EXE]).output().unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    let line = table
        .lines()
        .find(|l| l.contains(" .buildtrace "))
        .expect("readelf lists .buildtrace");
    // [Nr] Name Type Address Off Size ...
    let fields: Vec<&str> = line.split(']').nth(1).unwrap().split_whitespace().collect();
    u64::from_str_radix(fields[3], 16).unwrap()
}

#[test]
fn json_agrees_with_readelf_git_and_rustc() {
    let attributes = json(EXE);
    let text = |key: &str| attributes.get(key).and_then(|v| v.as_str());

    let build_id = line_after(Command::new("readelf").args(["-n", EXE]), "Build ID:");
    assert_eq!(
        text("process.executable.build_id.gnu").map(str::to_owned),
        build_id
    );

    let head = line_after(
        Command::new("git")
            .args(["rev-parse", "--verify", "-q", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
        "",
    );
    if let (Some(recorded), Some(head)) = (text("vcs.ref.head.revision"), head) {
        assert_eq!(recorded, head);
    }

    assert_eq!(text("process.runtime.version"), Some(&*rustc("release:")));
    assert_eq!(text("buildtrace.target.triple"), Some(&*rustc("host:")));
    assert_eq!(text("process.executable.name"), Some("buildtrace"));
    assert!(attributes
        .values()
        .all(|v| v.is_string() || v.is_boolean() || v.is_i64()));
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn env_decodes_to_the_json_attributes() {
    let output = buildtrace(&["inspect", "--env", EXE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let line = stdout(&output);
    let line = line.strip_suffix('\n').unwrap();
    assert!(!line.contains(['\n', ' ']), "{line}");
    let decoded: Vec<(String, String)> = line
        .split(',')
        .map(|pair| {
            let (key, value) = pair.split_once('=').expect("key=value");
            (percent_decode(key), percent_decode(value))
        })
        .collect();
    let expected: Vec<(String, String)> = json(EXE)
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(s) => (key, s),
            other => (key, other.to_string()),
        })
        .collect();
    assert_eq!(decoded, expected);
}

#[test]
fn a_binary_without_record_exits_1() {
    let plain = ["/bin/true", "/usr/bin/true", "/usr/bin/env"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .expect("a system binary");
    let message = assert_fails(&["inspect", plain], 1);
    assert!(message.contains("buildtrace::embed!()"), "{message}");
}

#[test]
fn unreadable_files_and_bad_usage_exit_2_with_one_line() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let message = assert_fails(&["inspect", manifest], 2);
    assert!(message.contains("not an executable"), "{message}");
    assert_fails(&["inspect", "/nonexistent/app"], 2);
    let message = assert_fails(&["inspect", env!("CARGO_MANIFEST_DIR")], 2);
    assert!(message.contains("a directory"), "{message}");
    assert_fails(&["inspect", "--json", "--env", EXE], 2);
    assert_fails(&["inspect", "--bogus", EXE], 2);
    assert_fails(&["inspect"], 2);
    assert_fails(&[], 2);
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["inspect", "--help"], &["--version"]] {
        let output = buildtrace(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(output.stderr.is_empty(), "{args:?}");
    }
    assert!(stdout(&buildtrace(&["inspect", "--help"])).contains("Exit status:"));
}

#[test]
fn text_from_the_file_is_escaped_for_the_terminal() {
    let mut entries = BTreeMap::new();
    entries.insert(
        "service.name".to_owned(),
        OwnedValue::Str("evil\x1b[2J\u{202e}txt.exe\u{200b}".to_owned()),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.bin");
    std::fs::write(&path, objects::record(&entries)).unwrap();
    let output = buildtrace(&["inspect", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("\tevil\\u{1b}[2J\\u{202e}txt.exe\\u{200b}\n"),
        "{text}"
    );
    assert!(!text.contains(['\x1b', '\u{202e}', '\u{200b}']), "{text}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    // A pipe whose reader has already exited: every write fails with EPIPE.
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let pipe = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    let output = Command::new(EXE)
        .args(["inspect", EXE])
        .stdout(pipe)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}
