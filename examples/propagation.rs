//! Two processes, one trace: this program starts a copy of itself as an
//! HTTP server on loopback, then calls it. The client injects its span's
//! context into the request headers; the server makes its span a child of
//! it. In Jaeger the trace holds both processes, each with its build.
//!
//! ```sh
//! ./scripts/pipeline/pipeline.sh start && set -a && . "${TMPDIR:-/tmp}/buildtrace-pipeline-$(id -u)/pipeline.env" && set +a
//! cargo run --example propagation
//! buildtrace lookup <the printed trace id> --jaeger "$JAEGER_QUERY_URL"
//! ```

use std::io::BufRead as _;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tracing::Instrument as _;

buildtrace::embed!();

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("--serve") {
        return serve().await;
    }
    let _guard = buildtrace::Builder::default()
        .with_service_name("propagation-client")
        .init();
    let exe = std::env::current_exe().expect("own path");
    let mut server = std::process::Command::new(exe)
        .arg("--serve")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("the server's port");
    let port: u16 = line.trim().parse().expect("a port");

    let span = tracing::info_span!("call", peer.port = port);
    async {
        // The one line a client needs: the current span's context, as headers.
        let mut request = hyper::Request::get(format!("http://127.0.0.1:{port}/hello"))
            .body(Empty::<Bytes>::new())
            .expect("a request");
        buildtrace::telemetry::propagation::inject(request.headers_mut());
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        let connection = tokio::spawn(connection);
        let response = sender.send_request(request).await.expect("response");
        println!("server answered {}", response.status());
        // Closing the connection lets the server's one request end.
        drop(sender);
        let _ = connection.await;
    }
    .instrument(span.clone())
    .await;
    use buildtrace::opentelemetry::trace::TraceContextExt as _;
    use buildtrace::tracing_opentelemetry::OpenTelemetrySpanExt as _;
    println!(
        "trace id {}",
        span.context().span().span_context().trace_id()
    );
    let _ = server.wait();
}

/// Answers one request, in a span whose parent came with the request.
async fn serve() {
    let _guard = buildtrace::Builder::default()
        .with_service_name("propagation-server")
        .init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("{}", listener.local_addr().expect("address").port());
    let (stream, _) = listener.accept().await.expect("accept");
    let service = hyper::service::service_fn(
        |request: hyper::Request<hyper::body::Incoming>| async move {
            let span = tracing::info_span!("handle", http.route = "/hello");
            // The one line a server needs: the caller's context as the parent.
            buildtrace::telemetry::propagation::set_parent(&span, request.headers());
            async {
                let _ = request.into_body().collect().await;
                tracing::info!("hello");
            }
            .instrument(span)
            .await;
            Ok::<_, std::convert::Infallible>(hyper::Response::new(Empty::<Bytes>::new()))
        },
    );
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
