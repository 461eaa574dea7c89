//! One trace across two processes built from two commits: a client calls a
//! server over loopback HTTP with the context in W3C `traceparent`; in the
//! real Jaeger the server's span is the child of the client's, and each
//! span's process carries its own build (compared with `git rev-parse HEAD`
//! of each repository). `buildtrace lookup` names the build of each hop.

mod common;

#[path = "common/pipeline.rs"]
mod pipeline;

use common::{run, Build, Repo};
use pipeline::{spans_named, tags, Pipeline};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn a_trace_crosses_two_processes_and_each_hop_names_its_build() {
    let Some(pipeline) = Pipeline::start() else {
        return;
    };
    let server_repo = Repo::new();
    let client_repo = Repo::new();
    let server = Build::new().features("export").run(&server_repo.dir);
    let client = Build::new().features("export").run(&client_repo.dir);

    // The server over gRPC, the client over HTTP/protobuf: both transports
    // carry the same trace.
    let mut serving = Command::new(&server.exe)
        .arg("--serve-http")
        .envs(pipeline.otlp_env("grpc"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serving.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port = first
        .strip_prefix("listening\t")
        .expect("listening line")
        .to_owned();

    let called = run(Command::new(&client.exe)
        .args(["--call-http", &port])
        .envs(pipeline.otlp_env("http/protobuf")));
    assert!(called.contains("status\tHTTP/1.1 200 OK"), "{called}");
    let traceparent = called
        .lines()
        .find_map(|l| l.strip_prefix("header\ttraceparent\t"))
        .unwrap_or_else(|| panic!("no traceparent header sent:\n{called}"))
        .to_owned();
    // version-traceid-parentid-flags (W3C Trace Context).
    let fields: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(fields.len(), 4, "{traceparent}");
    let (trace_id, parent_id) = (fields[1], fields[2]);

    let served: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(serving.wait().unwrap().success());
    assert!(served.contains(&"joined\ttrue".to_owned()), "{served:?}");

    let traces = pipeline.traces_until(&client_repo.name, Duration::from_secs(20), |t| {
        !spans_named(t, "call").is_empty() && !spans_named(t, "handle").is_empty()
    });
    let calls = spans_named(&traces, "call");
    let handles = spans_named(&traces, "handle");
    assert_eq!((calls.len(), handles.len()), (1, 1), "{traces:#?}");
    let ((call, call_process), (handle, handle_process)) = (calls[0], handles[0]);

    // One trace, the id the header carried; the server's span is the child
    // of the client's span, whose id the header carried as the parent.
    assert_eq!(call["traceID"], trace_id);
    assert_eq!(handle["traceID"], trace_id);
    assert_eq!(call["spanID"], parent_id);
    let reference = &handle["references"][0];
    assert_eq!(
        (reference["refType"].as_str(), reference["spanID"].as_str()),
        (Some("CHILD_OF"), Some(parent_id))
    );

    // Each hop with its own build.
    for (process, repo) in [(call_process, &client_repo), (handle_process, &server_repo)] {
        assert_eq!(process["serviceName"], repo.name.as_str());
        let tags = tags(&process["tags"]);
        assert_eq!(
            tags["vcs.ref.head.revision"],
            repo.git(&["rev-parse", "HEAD"]).trim()
        );
    }
    let (client_id, server_id) = (
        tags(&call_process["tags"])["buildtrace.id"].clone(),
        tags(&handle_process["tags"])["buildtrace.id"].clone(),
    );
    assert_ne!(client_id, server_id);

    // `buildtrace lookup` shows both builds.
    let lookup = run(Command::new(env!("CARGO_BIN_EXE_buildtrace")).args([
        "lookup",
        trace_id,
        "--jaeger",
        pipeline.var("JAEGER_QUERY_URL"),
    ]));
    for id in [&client_id, &server_id] {
        assert!(lookup.contains(id.as_str()), "{id} not in:\n{lookup}");
    }
    for repo in [&client_repo, &server_repo] {
        assert!(
            lookup.contains(&repo.name),
            "{} not in:\n{lookup}",
            repo.name
        );
    }
}
