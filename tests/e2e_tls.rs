//! TLS, mTLS and bearer-token authentication against the real Collector,
//! which checks them itself (its TLS receivers, `client_ca_file`, the
//! `bearertokenauth` extension): with the right CA, client certificate or
//! token the spans reach Jaeger; with anything wrong the application runs on,
//! exits 0 and says why in one line, and a token never appears in what it
//! prints. Every key and certificate is made here, by the test.

mod common;

#[path = "common/pipeline.rs"]
mod pipeline;

use common::{Build, Repo};
use pipeline::{spans_named, Pipeline};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TOKEN: &str = "s3cr3t-t0k3n-4f9a";

/// The test's own certificate authority and what it signed.
struct Pki {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Pki {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(
    dir: &Path,
    name: &str,
    san: &str,
    issuer: &CertifiedIssuer<'static, KeyPair>,
    expired: bool,
) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![san.to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, san);
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2020, 1, 2);
    }
    let cert = params.signed_by(&key, issuer).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}-key.pem")), key.serialize_pem()).unwrap();
}

fn pki() -> Pki {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let ours = ca("buildtrace test CA");
    std::fs::write(dir.join("ca.pem"), ours.pem()).unwrap();
    std::fs::write(dir.join("other-ca.pem"), ca("another CA").pem()).unwrap();
    // The server certificate names `localhost` only: 127.0.0.1 is a
    // host-name mismatch.
    leaf(&dir, "server", "localhost", &ours, false);
    leaf(&dir, "expired", "localhost", &ours, true);
    leaf(&dir, "client", "buildtrace-client", &ours, false);
    std::fs::write(
        dir.join("garbled.pem"),
        "-----BEGIN CERTIFICATE-----\n%%%\n",
    )
    .unwrap();
    Pki { _dir: tmp, dir }
}

/// Receivers on the extra ports: 1/2 TLS (gRPC/HTTP), 3/4 mTLS, 5/6 TLS +
/// bearer token, 7 HTTP with an expired certificate.
fn collector_config(pki: &Pki) -> String {
    let tls = |cert: &str, mtls: bool| {
        let mut t = format!(
            "{{cert_file: \"{}\", key_file: \"{}\"",
            pki.path(&format!("{cert}.pem")),
            pki.path(&format!("{cert}-key.pem"))
        );
        if mtls {
            t.push_str(&format!(", client_ca_file: \"{}\"", pki.path("ca.pem")));
        }
        t.push('}');
        t
    };
    let endpoint = |n: u8| format!("\"127.0.0.1:${{env:OTELCOL_EXTRA_PORT_{n}}}\"");
    let auth = "auth: {authenticator: bearertokenauth/test}";
    format!(
        r#"
extensions:
  bearertokenauth/test:
    token: "{TOKEN}"
receivers:
  otlp/tls:
    protocols:
      grpc: {{endpoint: {e1}, tls: {server}}}
      http: {{endpoint: {e2}, tls: {server}}}
  otlp/mtls:
    protocols:
      grpc: {{endpoint: {e3}, tls: {mtls}}}
      http: {{endpoint: {e4}, tls: {mtls}}}
  otlp/auth:
    protocols:
      grpc: {{endpoint: {e5}, tls: {server}, {auth}}}
      http: {{endpoint: {e6}, tls: {server}, {auth}}}
  otlp/expired:
    protocols:
      http: {{endpoint: {e7}, tls: {expired}}}
service:
  extensions: [health_check, bearertokenauth/test]
  pipelines:
    traces:
      receivers: [otlp, otlp/tls, otlp/mtls, otlp/auth, otlp/expired]
    logs:
      receivers: [otlp, otlp/tls, otlp/mtls, otlp/auth, otlp/expired]
    metrics:
      receivers: [otlp, otlp/tls, otlp/mtls, otlp/auth, otlp/expired]
"#,
        e1 = endpoint(1),
        e2 = endpoint(2),
        e3 = endpoint(3),
        e4 = endpoint(4),
        e5 = endpoint(5),
        e6 = endpoint(6),
        e7 = endpoint(7),
        server = tls("server", false),
        mtls = tls("server", true),
        expired = tls("expired", false),
    )
}

/// A case: its service name, its environment, and what its one line says.
type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a [&'a str]);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_export(exe: &Path, service: &str, env: &[(&str, String)]) -> Run {
    let mut c = Command::new(exe);
    c.arg("--export").env("OTEL_SERVICE_NAME", service);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn warnings(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("buildtrace: warning:"))
        .collect()
}

#[test]
fn tls_mtls_and_tokens_against_the_real_collector() {
    let pki = pki();
    let config = pki.dir.join("collector-tls.yaml");
    std::fs::write(&config, collector_config(&pki)).unwrap();
    let Some(pipeline) = Pipeline::start_with(&[
        ("PIPELINE_EXTRA_CONFIG", config.to_str().unwrap()),
        ("PIPELINE_EXTRA_PORTS", "7"),
    ]) else {
        return;
    };
    let port = |n: u8| pipeline.var(&format!("PIPELINE_EXTRA_PORT_{n}")).to_owned();
    let repo = Repo::new();
    let built = Build::new().features("export").run(&repo.dir);

    let ca = ("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.path("ca.pem"));
    let client = [
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            pki.path("client.pem"),
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", pki.path("client-key.pem")),
    ];
    let grpc = |p: u8| {
        [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("https://localhost:{}", port(p)),
            ),
        ]
    };
    let http = |p: u8| {
        [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("https://localhost:{}", port(p)),
            ),
        ]
    };
    let bearer = |t: &str| {
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("authorization=Bearer%20{t}"),
        )
    };

    // Delivered: (service, env).
    let good: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("tls-grpc", [grpc(1).to_vec(), vec![ca.clone()]].concat()),
        ("tls-http", [http(2).to_vec(), vec![ca.clone()]].concat()),
        (
            "mtls-grpc",
            [grpc(3).to_vec(), vec![ca.clone()], client.to_vec()].concat(),
        ),
        (
            "mtls-http",
            [http(4).to_vec(), vec![ca.clone()], client.to_vec()].concat(),
        ),
        (
            "token-grpc",
            [grpc(5).to_vec(), vec![ca.clone(), bearer(TOKEN)]].concat(),
        ),
        (
            "token-http",
            [http(6).to_vec(), vec![ca.clone(), bearer(TOKEN)]].concat(),
        ),
        // gRPC without a scheme is TLS by default (OTEL_EXPORTER_OTLP_INSECURE=false).
        (
            "tls-grpc-bare",
            vec![
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("localhost:{}", port(1)),
                ),
                ca.clone(),
            ],
        ),
    ];
    for (service, env) in &good {
        let run = run_export(&built.exe, service, env);
        assert_eq!(run.code, Some(0), "{service}: {}", run.stderr);
        assert!(warnings(&run).is_empty(), "{service}: {}", run.stderr);
    }
    for (service, _) in &good {
        let traces = pipeline.traces_until(service, Duration::from_secs(20), |t| {
            !spans_named(t, "request").is_empty()
        });
        assert!(
            !spans_named(&traces, "request").is_empty(),
            "{service}: no span in Jaeger"
        );
        // Nothing of the token in what Jaeger keeps: spans, events, tags.
        let stored = serde_json::to_string(&traces).unwrap();
        assert!(
            !stored.contains(TOKEN),
            "{service}: the token reached Jaeger"
        );
    }

    // Refused: (service, env, what the one line must say).
    let bad: Vec<Case> = vec![
        (
            "mtls-grpc-no-client-cert",
            [grpc(3).to_vec(), vec![ca.clone()]].concat(),
            &[],
        ),
        (
            "mtls-http-no-client-cert",
            [http(4).to_vec(), vec![ca.clone()]].concat(),
            &[],
        ),
        (
            "token-grpc-wrong",
            [grpc(5).to_vec(), vec![ca.clone(), bearer("wrong-token-77")]].concat(),
            &["Unauthenticated", "not retried"],
        ),
        (
            "token-http-wrong",
            [http(6).to_vec(), vec![ca.clone(), bearer("wrong-token-77")]].concat(),
            &["HTTP 401", "not retried"],
        ),
        (
            "wrong-ca",
            [
                http(2).to_vec(),
                vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.path("other-ca.pem"))],
            ]
            .concat(),
            &["certificate"],
        ),
        ("system-roots", http(2).to_vec(), &["certificate"]),
        (
            "expired",
            [http(7).to_vec(), vec![ca.clone()]].concat(),
            &["xpired"],
        ),
        (
            "name-mismatch",
            vec![
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    format!("https://127.0.0.1:{}", port(2)),
                ),
                ca.clone(),
            ],
            &["certificate"],
        ),
        (
            "missing-ca-file",
            [
                grpc(1).to_vec(),
                vec![("OTEL_EXPORTER_OTLP_CERTIFICATE", pki.path("nope.pem"))],
            ]
            .concat(),
            &[
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                "nope.pem",
                "export is off",
            ],
        ),
        (
            "garbled-ca-file",
            [
                http(2).to_vec(),
                vec![(
                    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                    pki.path("garbled.pem"),
                )],
            ]
            .concat(),
            &[
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                "garbled.pem",
                "export is off",
            ],
        ),
        (
            "garbled-client-key",
            [
                grpc(3).to_vec(),
                vec![
                    ca.clone(),
                    (
                        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                        pki.path("client.pem"),
                    ),
                    ("OTEL_EXPORTER_OTLP_CLIENT_KEY", pki.path("garbled.pem")),
                ],
            ]
            .concat(),
            &[
                "OTEL_EXPORTER_OTLP_CLIENT_KEY",
                "garbled.pem",
                "export is off",
            ],
        ),
    ];
    for (service, env, says) in &bad {
        let run = run_export(&built.exe, service, env);
        assert_eq!(run.code, Some(0), "{service}: {}", run.stderr);
        assert!(
            !run.stderr.contains("panicked"),
            "{service}: {}",
            run.stderr
        );
        let lines = warnings(&run);
        assert!(
            (1..=2).contains(&lines.len()),
            "{service}: one warning (and at most one count of lost spans) expected:\n{}",
            run.stderr
        );
        let first = lines[0];
        for word in *says {
            assert!(first.contains(word), "{service}: {word:?} not in {first:?}");
        }
        for output in [&run.stdout, &run.stderr] {
            assert!(!output.contains(TOKEN), "{service}: the token leaked");
            assert!(
                !output.contains("wrong-token-77"),
                "{service}: the token leaked"
            );
        }
    }
}
