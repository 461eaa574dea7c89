//! `buildtrace::jaeger::Client` against a tiny HTTP server on loopback that
//! answers with JSON this test writes, shaped like Jaeger's query API. This
//! tests the client's requests, decoding and errors; it claims nothing about
//! Jaeger itself (`tests/cli_jaeger.rs` runs against the real one).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use buildtrace::jaeger::{tag, Client, JaegerError, Limits, Search};
use buildtrace::names;
use serde_json::{json, Value};

/// A server on 127.0.0.1 that answers every connection with what
/// `respond` returns for the request target (`/api/traces?…`), then closes
/// it. Each target is sent on `requests` before the answer is written, so
/// it is there once the client has its answer.
struct Server {
    url: String,
    requests: mpsc::Receiver<String>,
}

impl Server {
    fn start(respond: impl Fn(&str) -> Vec<u8> + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (sender, requests) = mpsc::channel();
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(mut socket) = socket else { continue };
                let Some(target) = request_target(&mut socket) else {
                    continue;
                };
                let answer = respond(&target);
                let _ = sender.send(target);
                // The client may hang up first (an oversized answer).
                let _ = socket.write_all(&answer);
            }
        });
        Server { url, requests }
    }

    /// A server that answers every request with `answer`.
    fn answering(answer: Vec<u8>) -> Server {
        Server::start(move |_| answer.clone())
    }

    fn client(&self) -> Client {
        Client::new(&self.url).unwrap()
    }

    /// The next request the server received: its path and decoded query.
    fn request(&self) -> (String, BTreeMap<String, String>) {
        let target = self.requests.recv().unwrap();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let query = (query.split('&'))
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(key), percent_decode(value))
            })
            .collect();
        (path.to_owned(), query)
    }
}

/// Reads the request head; returns the target of its request line.
fn request_target(socket: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut chunk = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 << 10 {
        let n = socket.read(&mut chunk).ok().filter(|&n| n > 0)?;
        head.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_owned();
    let mut words = line.split(' ');
    assert_eq!(words.next(), Some("GET"), "{line}");
    words.next().map(str::to_owned)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                decoded.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                decoded.push(b' ');
                i += 1;
            }
            b => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap()
}

/// An HTTP/1.1 answer that closes the connection.
fn answer(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn json_answer(body: &Value) -> Vec<u8> {
    answer("200 OK", "application/json", &body.to_string())
}

/// A trace in the shape of Jaeger's JSON: one process reporting build
/// `build`, a root span `request` at `start` and a child 500 µs later.
fn jaeger_trace(id: &str, build: &str, start: u64) -> Value {
    json!({
        "traceID": id,
        "spans": [
            {"traceID": id, "spanID": "c", "operationName": "query",
             "references": [{"refType": "CHILD_OF", "traceID": id, "spanID": "r"}],
             "startTime": start + 500, "duration": 100, "processID": "p1",
             "tags": [{"key": "db.rows", "type": "int64", "value": 3}]},
            {"traceID": id, "spanID": "r", "operationName": "request",
             "references": [], "startTime": start, "duration": 2_000, "processID": "p1",
             "logs": [{"timestamp": start + 10, "fields": [
                 {"key": "event", "type": "string", "value": "accepted"}]}]}
        ],
        "processes": {"p1": {"serviceName": "app", "tags": [
            {"key": names::ID, "type": "string", "value": build},
            {"key": names::GIT_DIRTY, "type": "bool", "value": false}]}}
    })
}

/// A port on loopback where nothing listens (bound, then released).
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

fn now_micros() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(since.as_micros()).unwrap()
}

/// Every message names what failed, then a remedy after `; `.
fn assert_has_remedy(error: &JaegerError) {
    let message = error.to_string();
    assert!(message.contains("; "), "no remedy in {message}");
}

#[test]
fn a_search_asks_for_the_service_window_and_tags_and_decodes_the_traces() {
    let server = Server::answering(json_answer(&json!({
        "data": [jaeger_trace("b53b", "104b", 1_000_000)],
        "total": 0, "limit": 0, "offset": 0, "errors": null
    })));
    let found = server
        .client()
        .search(&Search {
            service: "app",
            tags: &[(names::ID, "104b"), ("http.route", "/a b&c")],
            limit: 7,
            start_us: 1_000,
            end_us: 2_000,
        })
        .unwrap();

    let (path, query) = server.request();
    assert_eq!(path, "/api/traces");
    assert_eq!(query["service"], "app");
    assert_eq!(query["limit"], "7");
    assert_eq!(
        (query["start"].as_str(), query["end"].as_str()),
        ("1000", "2000")
    );
    let tags: Value = serde_json::from_str(&query["tags"]).unwrap();
    assert_eq!(tags, json!({names::ID: "104b", "http.route": "/a b&c"}));

    assert_eq!(found.len(), 1);
    let trace = &found[0];
    assert_eq!(trace.id, "b53b");
    assert_eq!(trace.spans.len(), 2);
    assert_eq!(trace.extent(), (1_000_000, 1_002_000));
    let root = trace.root().unwrap();
    assert_eq!(root.operation, "request");
    assert_eq!(root.logs[0].timestamp_us, 1_000_010);
    assert_eq!(tag(&root.logs[0].fields, "event"), Some(&json!("accepted")));
    assert_eq!(tag(&trace.spans[0].tags, "db.rows"), Some(&json!(3)));
    let process = trace.process_of(root).unwrap();
    assert_eq!(process.service, "app");
    assert_eq!(tag(&process.tags, names::ID), Some(&json!("104b")));
    assert_eq!(tag(&process.tags, names::GIT_DIRTY), Some(&json!(false)));
}

#[test]
fn the_traces_of_a_build_are_its_own_oldest_first_whatever_the_server_returns() {
    // A server that ignores the tag filter: another build's trace among them.
    let server = Server::answering(json_answer(&json!({"data": [
        jaeger_trace("0002", "b1", 3_000_000),
        jaeger_trace("0003", "b2", 2_000_000),
        jaeger_trace("0001", "b1", 1_000_000),
    ]})));
    let before = now_micros();
    let found = (server.client())
        .traces_of_build("app", "b1", 20, Duration::from_secs(3_600))
        .unwrap();
    let after = now_micros();

    let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["0001", "0002"]);
    let (path, query) = server.request();
    assert_eq!(path, "/api/traces");
    assert_eq!(query["service"], "app");
    assert_eq!(query["limit"], "20");
    let tags: Value = serde_json::from_str(&query["tags"]).unwrap();
    assert_eq!(tags, json!({names::ID: "b1"}));
    let (start, end): (u64, u64) = (
        query["start"].parse().unwrap(),
        query["end"].parse().unwrap(),
    );
    assert!((before..=after).contains(&end), "{before} {end} {after}");
    assert_eq!(end - start, 3_600_000_000);
}

#[test]
fn a_trace_is_fetched_by_its_id() {
    let id = "b53b700e22407350458c18d9ee48d3e0";
    let server = Server::answering(json_answer(&json!({"data": [jaeger_trace(id, "104b", 5)]})));
    let trace = server.client().trace(id).unwrap().unwrap();
    assert_eq!(
        server.request(),
        (format!("/api/traces/{id}"), BTreeMap::new())
    );
    assert_eq!(trace.id, id);
    assert_eq!(trace.root().unwrap().operation, "request");
}

#[test]
fn the_services_are_listed() {
    let server = Server::answering(json_answer(
        &json!({"data": ["app", "gateway"], "total": 2}),
    ));
    assert_eq!(server.client().services().unwrap(), ["app", "gateway"]);
    assert_eq!(server.request().0, "/api/services");
}

#[test]
fn a_404_is_no_such_trace_for_a_trace_and_a_refusal_elsewhere() {
    let not_found = r#"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}"#;
    let server = Server::answering(answer("404 Not Found", "application/json", not_found));
    let client = server.client();
    assert!(client.trace("0123456789abcdef").unwrap().is_none());

    let error = client.services().unwrap_err();
    assert_has_remedy(&error);
    assert!(
        matches!(&error, JaegerError::Refused { status: 404, message, .. }
            if message == "trace not found"),
        "{error:?}"
    );
}

#[test]
fn a_404_that_is_not_json_is_something_else_listening() {
    let server = Server::answering(answer(
        "404 Not Found",
        "text/plain; charset=utf-8",
        "404 page not found",
    ));
    let error = server.client().trace("abc").unwrap_err();
    assert_has_remedy(&error);
    assert!(
        matches!(&error, JaegerError::NotJson { what, .. } if what == "HTTP 404 with text/plain"),
        "{error:?}"
    );
}

#[test]
fn an_answer_that_is_not_json_is_not_jaegers() {
    let server = Server::answering(answer("200 OK", "text/html", "<html>UI</html>"));
    let error = server.client().services().unwrap_err();
    assert_has_remedy(&error);
    assert!(
        matches!(&error, JaegerError::NotJson { what, .. } if what == "HTTP 200 with text/html"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("is Jaeger's query API at {}?", server.url)),
        "{error}"
    );
}

#[test]
fn json_of_another_shape_is_a_shape_error() {
    for (body, expected) in [
        (json!({}), "no `data` list"),
        (
            json!({"data": [{"traceID": "a"}]}),
            "a trace without `spans`",
        ),
        (
            json!({"data": [{"traceID": "a", "spans": [{"spanID": "s"}]}]}),
            "a span without `startTime`",
        ),
    ] {
        let server = Server::answering(json_answer(&body));
        let error = server.client().trace("a").unwrap_err();
        assert_has_remedy(&error);
        assert!(
            matches!(&error, JaegerError::Shape { what, .. } if *what == expected),
            "{body}: {error:?}"
        );
    }
}

#[test]
fn an_oversized_answer_is_too_large_and_not_read_further() {
    let mut limits = Limits::default();
    limits.max_answer = 1_000;
    let padding = "x".repeat(4_000);
    let server = Server::start(move |target| {
        if target.starts_with("/api/services") {
            json_answer(&json!({"data": ["app"]}))
        } else {
            json_answer(&json!({"data": [], "padding": padding}))
        }
    });
    let client = Client::with_limits(&server.url, &limits).unwrap();

    let error = client.trace("abc").unwrap_err();
    assert_has_remedy(&error);
    assert!(
        matches!(error, JaegerError::TooLarge { limit: 1_000, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("more than 1000 bytes"),
        "{error}"
    );
    // Within the limit, the same client reads the answer.
    assert_eq!(client.services().unwrap(), ["app"]);
}

#[test]
fn a_server_that_never_answers_times_out_within_the_clients_bound() {
    // Connections complete in the kernel's backlog; nothing is ever read
    // or written.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut limits = Limits::default();
    limits.timeout = Duration::from_millis(250);
    limits.total_timeout = Duration::from_secs(20);
    let client = Client::with_limits(&url, &limits).unwrap();

    let started = Instant::now();
    let error = client.services().unwrap_err();
    let took = started.elapsed();

    assert_has_remedy(&error);
    assert!(
        matches!(&error, JaegerError::Timeout { after, .. } if *after == limits.timeout),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("no answer within 250 ms"),
        "{error}"
    );
    assert!(took >= limits.timeout, "gave up after {took:?}");
    // The per-read bound, not the total one, ended it.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    drop(listener);
}

#[test]
fn where_nothing_listens_the_connection_is_refused() {
    let url = closed_port_url();
    let error = Client::new(&url).unwrap().services().unwrap_err();
    assert_has_remedy(&error);
    assert!(
        matches!(&error, JaegerError::Unreachable { reason, base, .. }
            if reason == "connection refused" && *base == url),
        "{error:?}"
    );
}

#[test]
fn a_trace_id_that_is_not_hex_is_refused_before_any_request() {
    // Nothing listens: a request would be `Unreachable`.
    let client = Client::new(&closed_port_url()).unwrap();
    for bad in ["../api/services", "", "abc?x=1", &"a".repeat(33)] {
        let error = client.trace(bad).unwrap_err();
        assert_has_remedy(&error);
        assert!(
            matches!(&error, JaegerError::NotATraceId { id } if id == bad),
            "{bad}: {error:?}"
        );
    }
}
