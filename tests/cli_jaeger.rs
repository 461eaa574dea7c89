//! `buildtrace traces` and `buildtrace lookup` against the real Collector and
//! Jaeger: a build's traces are exactly those Jaeger's API holds for its
//! `buildtrace.id`, another build of the same service is not among them, and
//! a trace leads back to the commit and the startup events that produced it.
//! Without a pipeline: the errors when Jaeger is not there, or is not Jaeger.

mod common;

#[path = "common/pipeline.rs"]
mod pipeline;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{run, Build, Repo};
use pipeline::{spans_named, tags, Pipeline};
use serde_json::Value;

const EXE: &str = env!("CARGO_BIN_EXE_buildtrace");

fn buildtrace(args: &[&str]) -> Output {
    Command::new(EXE).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The output of a run that must succeed.
fn ok(args: &[&str]) -> String {
    let out = buildtrace(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    text(&out.stdout)
}

/// The error path: exit `code`, nothing on stdout, one line on stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = buildtrace(args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
    let message = text(&out.stderr);
    assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
    assert!(message.starts_with("buildtrace: "), "{message}");
    message
}

/// Runs the fixture's export mode: startup events, init, one request span.
fn run_fixture(exe: &Path, env: &[(String, String)]) {
    let out = Command::new(exe)
        .arg("--export")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The ids of the traces in which a process reports build `id`.
fn traces_of(traces: &[Value], id: &str) -> BTreeSet<String> {
    traces
        .iter()
        .filter(|t| {
            t["processes"]
                .as_object()
                .into_iter()
                .flatten()
                .any(|(_, p)| tags(&p["tags"]).get("buildtrace.id").map(String::as_str) == Some(id))
        })
        .map(|t| t["traceID"].as_str().unwrap().to_owned())
        .collect()
}

/// UTC, millisecond precision, from coreutils' `date`.
fn date_utc(micros: u64) -> String {
    run(Command::new("date")
        .env("TZ", "UTC")
        .arg("-u")
        .arg(format!(
            "-d@{}.{:06}",
            micros / 1_000_000,
            micros % 1_000_000
        ))
        .arg("+%Y-%m-%dT%H:%M:%S.%3NZ"))
}

/// The rows of the startup timeline: (offset in ms as printed, label).
fn timeline_rows(lookup: &str) -> Vec<(String, String)> {
    lookup
        .lines()
        .skip_while(|l| !l.starts_with("startup: "))
        .filter_map(|l| {
            let (offset, rest) = l.trim_start().strip_prefix('+')?.split_once(" ms  ▏")?;
            // The bar is 24 cells, then two spaces.
            let after_bar: String = rest.chars().skip(24 + 2).collect();
            let label = after_bar.split("  ").next().unwrap_or_default().to_owned();
            Some((offset.trim().to_owned(), label))
        })
        .collect()
}

#[test]
fn traces_and_lookup_follow_a_build_through_jaeger() {
    let Some(pipeline) = Pipeline::start() else {
        return;
    };
    let jaeger = pipeline.var("JAEGER_QUERY_URL").to_owned();
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);
    let other = Build::new().features("export,alpha").run(&repo.dir);
    let (exe, other_exe) = (built.exe.to_str().unwrap(), other.exe.to_str().unwrap());
    let id = common::report(&built.exe)["buildtrace.id"].clone();
    let other_id = common::report(&other.exe)["buildtrace.id"].clone();
    assert_ne!(id, other_id, "a feature changes the provenance id");

    // Both builds report under one service name that is not the file's.
    let service = format!("{}-svc", repo.name);
    let mut env = pipeline.otlp_env("grpc");
    env.push(("OTEL_SERVICE_NAME".into(), service.clone()));
    run_fixture(&built.exe, &env);
    run_fixture(&built.exe, &env);
    run_fixture(&other.exe, &env);

    // Independently, through Jaeger's API: each run sends a startup trace
    // and a request trace.
    let all = pipeline.traces_until(&service, Duration::from_secs(15), |t| {
        traces_of(t, &id).len() == 4 && traces_of(t, &other_id).len() == 2
    });
    let expected = traces_of(&all, &id);
    let expected_other = traces_of(&all, &other_id);
    assert_eq!(
        (expected.len(), expected_other.len()),
        (4, 2),
        "not in Jaeger within 15 s"
    );

    // traces: exactly this build's, each line true to Jaeger.
    let listing = ok(&["traces", exe, "--jaeger", &jaeger, "--service", &service]);
    let listed: BTreeSet<String> = listing
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(listed, expected, "{listing}");
    assert_eq!(listing.lines().count(), 4, "{listing}");
    assert!(listed.is_disjoint(&expected_other), "{listing}");
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let trace = all.iter().find(|t| t["traceID"] == fields[0]).unwrap();
        let spans = trace["spans"].as_array().unwrap();
        let start = spans
            .iter()
            .map(|s| s["startTime"].as_u64().unwrap())
            .min()
            .unwrap();
        assert_eq!(fields[1], date_utc(start), "{line}");
        let root = spans
            .iter()
            .find(|s| s["references"].as_array().is_none_or(Vec::is_empty))
            .unwrap();
        assert_eq!(fields[2], root["operationName"], "{line}");
        assert_eq!(fields[3], spans.len().to_string(), "{line}");
    }
    let roots: Vec<&str> = listing
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(roots.iter().filter(|r| **r == "startup").count(), 2);
    assert_eq!(roots.iter().filter(|r| **r == "request").count(), 2);

    // The other build lists its own traces only.
    let listing = ok(&[
        "traces",
        other_exe,
        "--jaeger",
        &jaeger,
        "--service",
        &service,
    ]);
    let listed: BTreeSet<String> = listing
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(listed, expected_other, "{listing}");

    // --json: one array, the same traces.
    let json: Value = serde_json::from_str(&ok(&[
        "traces",
        exe,
        "--jaeger",
        &jaeger,
        "--service",
        &service,
        "--json",
    ]))
    .unwrap();
    let from_json: BTreeSet<String> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["traceID"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(from_json, expected);

    // Under the file's own service name there is nothing: say so, suggest
    // --service, exit 1.
    let message = fails(&["traces", exe, "--jaeger", &jaeger], 1);
    assert!(message.contains(&format!("\"{}\"", repo.name)), "{message}");
    assert!(message.contains("--service"), "{message}");

    // lookup: the commit of the fixture repository, the startup events in
    // the order and at the offsets Jaeger holds.
    let (startup, process) = spans_named(&all, "startup")
        .into_iter()
        .find(|(_, p)| tags(&p["tags"])["buildtrace.id"] == id)
        .unwrap();
    let trace_id = startup["traceID"].as_str().unwrap();
    let shown = ok(&["lookup", trace_id, "--jaeger", &jaeger]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let value_of = |key: &str| {
        shown
            .lines()
            .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(' ').map(str::trim))
            .map(str::to_owned)
    };
    assert_eq!(
        value_of("vcs.ref.head.revision").as_deref(),
        Some(head.as_str()),
        "{shown}"
    );
    assert_eq!(value_of("buildtrace.id").as_deref(), Some(id.as_str()));
    assert_eq!(value_of("service.name").as_deref(), Some(service.as_str()));
    for group in [
        "build",
        "compiler",
        "target",
        "build settings",
        "executable",
        "service",
    ] {
        assert!(
            shown.lines().any(|l| l == group),
            "no group {group}: {shown}"
        );
    }
    let start = startup["startTime"].as_u64().unwrap();
    let mut logs: Vec<(u64, String)> = startup["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["timestamp"].as_u64().unwrap(),
                tags(&l["fields"])["event"].clone(),
            )
        })
        .collect();
    logs.sort();
    let expected_rows: Vec<(String, String)> = logs
        .iter()
        .map(|(at, name)| (format!("{:.1}", (at - start) as f64 / 1e3), name.clone()))
        .collect();
    let rows: Vec<(String, String)> = timeline_rows(&shown)
        .into_iter()
        .filter(|(_, label)| !label.starts_with('['))
        .collect();
    assert_eq!(rows, expected_rows, "{shown}");
    let names: Vec<&str> = rows.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "config.loaded",
            "cache.warmed",
            "listener.bound",
            "about to initialise telemetry"
        ],
        "{shown}"
    );
    let all_rows = timeline_rows(&shown);
    assert_eq!(all_rows.first().unwrap().1, "[process start]", "{shown}");
    assert_eq!(all_rows.last().unwrap().1, "[init]", "{shown}");

    // lookup --json: the process tags, typed, equal to what `inspect --json`
    // reads from the file (the service name aside).
    let object: serde_json::Map<String, Value> =
        serde_json::from_str(&ok(&["lookup", "--json", trace_id, "--jaeger", &jaeger])).unwrap();
    let offline: serde_json::Map<String, Value> =
        serde_json::from_str(&ok(&["inspect", "--json", exe])).unwrap();
    for (key, value) in &offline {
        if key != "service.name" {
            assert_eq!(object.get(key), Some(value), "{key}");
        }
    }
    assert_eq!(object["service.name"], service.as_str());
    assert_eq!(
        object["service.instance.id"].as_str(),
        tags(&process["tags"])
            .get("service.instance.id")
            .map(String::as_str)
    );

    // A trace Jaeger does not have: exit 1.
    let message = fails(
        &[
            "lookup",
            "0123456789abcdef0123456789abcdef",
            "--jaeger",
            &jaeger,
        ],
        1,
    );
    assert!(message.contains("has no trace"), "{message}");
}

/// A port on loopback where nothing listens (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn where_nothing_listens_both_commands_exit_2_with_one_line() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    for args in [
        &["traces", EXE, "--jaeger", &url][..],
        &["lookup", "0123456789abcdef", "--jaeger", &url],
    ] {
        let message = fails(args, 2);
        assert!(message.contains("connection refused"), "{message}");
        assert!(
            message.contains(&format!("is Jaeger's query API at {url}?")),
            "{message}"
        );
    }
}

/// An HTTP/1.1 answer that closes the connection.
fn answer(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Serves one connection with `answer`, after reading the request.
fn serve_once(answer: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = [0; 4096];
        let _ = socket.read(&mut request);
        let _ = socket.write_all(answer.as_bytes());
    });
    url
}

#[test]
fn an_answer_that_is_not_jaegers_is_an_error_exit_2() {
    let url = serve_once(answer("200 OK", "text/html", "<html>UI</html>"));
    let message = fails(&["lookup", "abc", "--jaeger", &url], 2);
    assert!(
        message.contains("text/html, not Jaeger's JSON"),
        "{message}"
    );

    let url = serve_once(answer("200 OK", "application/json", "{}"));
    let message = fails(&["traces", EXE, "--jaeger", &url], 2);
    assert!(message.contains("not a Jaeger answer"), "{message}");

    // Escape sequences in Jaeger's words do not reach the terminal.
    let refusal = r#"{"data":null,"errors":[{"code":400,"msg":"bad\u001b[2J"}]}"#;
    let url = serve_once(answer("400 Bad Request", "text/plain", refusal));
    let message = fails(&["lookup", "abc", "--jaeger", &url], 2);
    assert!(message.contains("HTTP 400: bad\\u{1b}[2J"), "{message}");
}

#[test]
fn a_server_that_never_answers_times_out_in_seconds() {
    // Accepted by the kernel's backlog, never answered.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let started = Instant::now();
    let message = fails(&["lookup", "abc", "--jaeger", &url], 2);
    let took = started.elapsed();
    assert!(message.contains("no answer within 5 s"), "{message}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    drop(listener);
}

#[test]
fn help_documents_the_exit_codes_of_every_command() {
    for command in ["traces", "lookup"] {
        let help = ok(&[command, "--help"]);
        assert!(help.contains("Exit status:"), "{help}");
        assert!(help.contains("--jaeger <URL>"), "{help}");
    }
}
