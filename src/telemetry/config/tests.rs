//! The tests of [`resolve`](super::resolve) as a whole: the rules that span
//! settings (a disabled SDK or a non-OTLP exporter silences warnings, code
//! wins everywhere), the defaults, and what no warning or `Debug` output may
//! ever contain.

use super::test_support::*;
use super::*;

#[test]
fn disabled_sdk_reports_no_warnings() {
    let invalid = [
        (OTEL_EXPORTER_OTLP_TIMEOUT, "soon"),
        (OTEL_BSP_MAX_QUEUE_SIZE, "lots"),
    ];
    let (config, warnings) = run(&invalid, &Overrides::default());
    assert!(!config.disabled);
    assert_eq!(warnings.len(), 2, "{warnings:?}");

    let mut pairs = invalid.to_vec();
    pairs.push((OTEL_SDK_DISABLED, "true"));
    let (config, warnings) = run(&pairs, &Overrides::default());
    assert!(config.disabled);
    assert!(warnings.is_empty(), "{warnings:?}");
    // Still resolved in full.
    assert_eq!(config.timeout, OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT);
}

#[test]
fn otlp_warnings_are_dropped_for_other_exporters() {
    let pairs = [
        (OTEL_EXPORTER_OTLP_TIMEOUT, "soon"),
        (OTEL_EXPORTER_OTLP_PROTOCOL, "carrier-pigeon"),
        (OTEL_TRACES_SAMPLER, "sometimes"),
    ];
    let (_, warnings) = run(&pairs, &Overrides::default());
    assert_eq!(
        vars(&warnings),
        [
            OTEL_EXPORTER_OTLP_PROTOCOL,
            OTEL_EXPORTER_OTLP_TIMEOUT,
            OTEL_TRACES_SAMPLER
        ]
    );
    let mut with_console = pairs.to_vec();
    with_console.push((OTEL_TRACES_EXPORTER, "console"));
    // Logs and metrics still use OTLP: the generic variables still matter.
    let (config, warnings) = run(&with_console, &Overrides::default());
    assert_eq!(config.exporter, ExporterKind::Console);
    assert_eq!(vars(&warnings).len(), 3, "{warnings:?}");
    with_console.push((OTEL_LOGS_EXPORTER, "none"));
    with_console.push((OTEL_METRICS_EXPORTER, "console"));
    let (_, warnings) = run(&with_console, &Overrides::default());
    assert_eq!(vars(&warnings), [OTEL_TRACES_SAMPLER]);
}

#[test]
fn header_values_never_leak() {
    const CANARY: &str = "s3cr3t-CANARY";
    // Valid and invalid spellings, each holding the canary somewhere.
    #[allow(unused_mut)]
    let mut values: Vec<OsString> = [
        format!("authorization=Bearer%20{CANARY}"),
        format!("authorization={CANARY}"),
        CANARY.to_owned(),
        format!("a={CANARY}%ZZ"),
        format!("{CANARY} key=v"),
        format!("k={CANARY}%0A"),
        format!("k=%FF{CANARY}"),
        format!("x={CANARY},={CANARY}"),
        format!("{CANARY}=%"),
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    #[cfg(unix)]
    values.push(not_unicode(&format!("k={CANARY}")));

    let mut saw_warning = false;
    let mut saw_value = false;
    for value in &values {
        for var in [
            OTEL_EXPORTER_OTLP_HEADERS,
            OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        ] {
            let env = env_os(vec![(var, value.clone())]);
            let (config, warnings) = resolve_all(&env, &Overrides::default());
            saw_value |= config
                .headers
                .pairs()
                .iter()
                .any(|(_, v)| v.contains(CANARY));
            saw_warning |= !warnings.is_empty();
            let debug = format!("{config:?}");
            assert!(!debug.contains(CANARY), "{debug}");
            for warning in &warnings {
                for text in [warning.to_string(), format!("{warning:?}")] {
                    assert!(!text.contains(CANARY), "{text}");
                }
            }
        }
    }
    // The canary was really there to leak.
    assert!(saw_value && saw_warning);

    let overrides = Overrides {
        headers: Some([("authorization", CANARY)].into_iter().collect()),
        ..Overrides::default()
    };
    let (config, _) = resolve_all(&|_| None, &overrides);
    assert_eq!(config.headers.pairs()[0].1, CANARY);
    assert!(!format!("{config:?}").contains(CANARY));
    assert!(!format!("{overrides:?}").contains(CANARY));
}

// --- all together -----------------------------------------------------------

#[test]
fn defaults_with_an_empty_environment() {
    let (config, warnings) = resolve_all(&|_| None, &Overrides::default());
    assert!(warnings.is_empty());
    let want = Config {
        disabled: false,
        service_name: None,
        resource_attributes: Vec::new(),
        exporter: ExporterKind::Otlp,
        protocol: Protocol::HttpProtobuf,
        endpoint: "http://localhost:4318/v1/traces".into(),
        headers: Headers::default(),
        timeout: Duration::from_secs(10),
        compression: Compression::None,
        sampler: SamplerConfig::ParentBasedAlwaysOn,
        batch: BatchConfig {
            schedule_delay: Duration::from_secs(5),
            export_timeout: Duration::from_secs(30),
            max_queue_size: 2_048,
            max_export_batch_size: 512,
        },
        tls: TlsSettings::default(),
        propagators: vec![Propagator::TraceContext, Propagator::Baggage],
        logs: SignalConfig {
            exporter: ExporterKind::Otlp,
            protocol: Protocol::HttpProtobuf,
            endpoint: "http://localhost:4318/v1/logs".into(),
            headers: Headers::default(),
            timeout: Duration::from_secs(10),
            compression: Compression::None,
            tls: TlsSettings::default(),
        },
        logs_batch: BatchConfig {
            schedule_delay: Duration::from_secs(1),
            export_timeout: Duration::from_secs(30),
            max_queue_size: 2_048,
            max_export_batch_size: 512,
        },
        metrics: SignalConfig {
            exporter: ExporterKind::Otlp,
            protocol: Protocol::HttpProtobuf,
            endpoint: "http://localhost:4318/v1/metrics".into(),
            headers: Headers::default(),
            timeout: Duration::from_secs(10),
            compression: Compression::None,
            tls: TlsSettings::default(),
        },
        metric_reader: MetricReaderConfig {
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            temporality: Temporality::Cumulative,
        },
    };
    assert_eq!(config, want);
}

#[test]
fn code_overrides_win_everywhere() {
    let env = [
        (OTEL_SDK_DISABLED, "true"),
        (OTEL_SERVICE_NAME, "env"),
        (OTEL_TRACES_EXPORTER, "console"),
        (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "http/protobuf"),
        (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "http://env:1"),
        (OTEL_EXPORTER_OTLP_TRACES_HEADERS, "e=1"),
        (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, "1"),
        (OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, "gzip"),
        (OTEL_TRACES_SAMPLER, "always_off"),
        (OTEL_BSP_MAX_QUEUE_SIZE, "5"),
        (OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, "/env/ca.pem"),
        (OTEL_EXPORTER_OTLP_TRACES_INSECURE, "false"),
        (OTEL_PROPAGATORS, "b3"),
    ];
    let overrides = Overrides {
        sdk_disabled: Some(false),
        service_name: Some("code".into()),
        traces_exporter: Some(ExporterKind::Otlp),
        protocol: Some(Protocol::Grpc),
        endpoint: Some("http://code:2".into()),
        headers: Some([("c", "2")].into_iter().collect()),
        timeout: Some(Duration::from_millis(2)),
        compression: Some(Compression::None),
        sampler: Some(SamplerConfig::AlwaysOn),
        batch: BatchOverrides {
            max_queue_size: Some(6),
            ..BatchOverrides::default()
        },
        tls: TlsOverrides {
            certificate: Some("/code/ca.pem".into()),
            ..TlsOverrides::default()
        },
        propagators: Some(vec![Propagator::Baggage]),
        logs_exporter: Some(ExporterKind::None),
        logs_endpoint: None,
        logs_batch: BatchOverrides::default(),
        metrics_exporter: Some(ExporterKind::Console),
        metrics_endpoint: None,
        metric_reader: MetricReaderOverrides::default(),
    };
    let (config, warnings) = run(&env, &overrides);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(!config.disabled);
    assert_eq!(config.service_name.as_deref(), Some("code"));
    assert_eq!(config.exporter, ExporterKind::Otlp);
    assert_eq!(config.protocol, Protocol::Grpc);
    assert_eq!(config.endpoint, "http://code:2");
    assert_eq!(config.headers.pairs(), [("c".into(), "2".into())]);
    assert_eq!(config.timeout, Duration::from_millis(2));
    assert_eq!(config.compression, Compression::None);
    assert_eq!(config.sampler, SamplerConfig::AlwaysOn);
    assert_eq!(config.batch.max_queue_size, 6);
    assert_eq!(
        config.tls.certificate,
        Some(TlsFile::from_code("/code/ca.pem"))
    );
    assert_eq!(config.propagators, [Propagator::Baggage]);
}

#[test]
fn every_warning_is_one_line_naming_its_variable_and_the_replacement() {
    let hostile = "bad\nvalue\u{202e}\u{7}";
    let pairs = [
        (OTEL_SDK_DISABLED, hostile),
        (OTEL_RESOURCE_ATTRIBUTES, hostile),
        (OTEL_TRACES_EXPORTER, hostile),
        (OTEL_EXPORTER_OTLP_PROTOCOL, hostile),
        (OTEL_EXPORTER_OTLP_ENDPOINT, hostile),
        (OTEL_EXPORTER_OTLP_HEADERS, hostile),
        (OTEL_EXPORTER_OTLP_TIMEOUT, hostile),
        (OTEL_EXPORTER_OTLP_COMPRESSION, hostile),
        (OTEL_TRACES_SAMPLER, hostile),
        (OTEL_TRACES_SAMPLER_ARG, hostile),
        (OTEL_BSP_SCHEDULE_DELAY, hostile),
        (OTEL_BSP_EXPORT_TIMEOUT, hostile),
        (OTEL_BSP_MAX_QUEUE_SIZE, hostile),
        (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, hostile),
        (OTEL_EXPORTER_OTLP_INSECURE, hostile),
        (OTEL_PROPAGATORS, hostile),
    ];
    let (_, warnings) = run(&pairs, &Overrides::default());
    let mut warned = vars(&warnings);
    warned.sort_unstable();
    let mut want: Vec<_> = pairs.iter().map(|(k, _)| *k).collect();
    want.sort_unstable();
    assert_eq!(warned, want);
    for warning in &warnings {
        let line = warning.to_string();
        assert!(line.starts_with(warning.variable()), "{line}");
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{line:?}"
        );
        assert!(
            ["using", "discarded", "ignored"]
                .iter()
                .any(|w| line.contains(w)),
            "{line}"
        );
    }
}

#[cfg(unix)]
#[test]
fn non_unicode_values_are_ignored_with_a_warning() {
    let names = [
        OTEL_SDK_DISABLED,
        OTEL_TRACES_EXPORTER,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
        OTEL_TRACES_SAMPLER,
        OTEL_BSP_SCHEDULE_DELAY,
        OTEL_EXPORTER_OTLP_TRACES_INSECURE,
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
        OTEL_PROPAGATORS,
    ];
    let env = env_os(names.iter().map(|&n| (n, not_unicode("1"))).collect());
    let (config, warnings) = resolve_all(&env, &Overrides::default());
    assert_eq!(vars(&warnings).len(), names.len(), "{warnings:?}");
    assert!(warnings.iter().all(|w| w.message().contains("Unicode")));
    let (defaults, _) = resolve_all(&|_| None, &Overrides::default());
    assert_eq!(config, defaults);
}

// --- logs and metrics -------------------------------------------------------

#[test]
fn each_signal_takes_its_own_variable_over_the_generic_one() {
    let env = [
        (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4318/base/"),
        (
            OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
            "https://logs.example:443/in",
        ),
        (OTEL_EXPORTER_OTLP_PROTOCOL, "grpc"),
        (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, "http/protobuf"),
        (OTEL_EXPORTER_OTLP_TIMEOUT, "1500"),
        (OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, "700"),
        (OTEL_EXPORTER_OTLP_HEADERS, "a=1"),
        (OTEL_EXPORTER_OTLP_METRICS_HEADERS, "m=2"),
        (OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, "gzip"),
        (OTEL_LOGS_EXPORTER, "console"),
        (OTEL_METRICS_EXPORTER, "otlp"),
        (OTEL_BLRP_SCHEDULE_DELAY, "250"),
        (OTEL_BLRP_MAX_QUEUE_SIZE, "64"),
        (OTEL_METRIC_EXPORT_INTERVAL, "2000"),
    ];
    let (config, warnings) = run(&env, &Overrides::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    // Traces: all generic; gRPC uses the base as-is.
    assert_eq!(config.protocol, Protocol::Grpc);
    assert_eq!(config.endpoint, "http://collector:4318/base/");
    assert_eq!(config.timeout, Duration::from_millis(1500));
    // Logs: its own endpoint and timeout, used as given.
    assert_eq!(config.logs.exporter, ExporterKind::Console);
    assert_eq!(config.logs.endpoint, "https://logs.example:443/in");
    assert_eq!(config.logs.timeout, Duration::from_millis(700));
    assert_eq!(config.logs.headers.pairs(), [("a".into(), "1".into())]);
    assert_eq!(config.logs_batch.schedule_delay, Duration::from_millis(250));
    assert_eq!(config.logs_batch.max_queue_size, 64);
    assert_eq!(config.logs_batch.max_export_batch_size, 64);
    // Metrics: HTTP, the base with its own path appended.
    assert_eq!(config.metrics.protocol, Protocol::HttpProtobuf);
    assert_eq!(
        config.metrics.endpoint,
        "http://collector:4318/base/v1/metrics"
    );
    assert_eq!(config.metrics.headers.pairs(), [("m".into(), "2".into())]);
    assert_eq!(config.metrics.compression, Compression::Gzip);
    assert_eq!(config.metric_reader.interval, Duration::from_secs(2));
    assert_eq!(config.metric_reader.timeout, Duration::from_secs(2));
}

#[test]
fn a_bad_generic_variable_is_one_warning_for_all_signals() {
    let (config, warnings) = run(
        &[
            (OTEL_EXPORTER_OTLP_TIMEOUT, "soon"),
            (OTEL_EXPORTER_OTLP_ENDPOINT, "ftp://x"),
        ],
        &Overrides::default(),
    );
    assert_eq!(
        vars(&warnings),
        [OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TIMEOUT],
        "{warnings:?}"
    );
    for s in Signal::ALL {
        assert_eq!(config.signal(s).timeout, Duration::from_secs(10));
    }
    assert_eq!(config.logs.endpoint, "http://localhost:4318/v1/logs");
    // A signal-specific variable is warned about on its own.
    let (_, warnings) = run(
        &[
            (OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, "0"),
            (OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, "x"),
        ],
        &Overrides::default(),
    );
    assert_eq!(
        vars(&warnings),
        [
            OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
            OTEL_EXPORTER_OTLP_METRICS_TIMEOUT
        ]
    );
}

#[test]
fn otlp_warnings_follow_the_signals_that_use_otlp() {
    // Traces off, logs on: the generic variable is still warned about once.
    let env = [
        (OTEL_TRACES_EXPORTER, "none"),
        (OTEL_METRICS_EXPORTER, "none"),
        (OTEL_EXPORTER_OTLP_COMPRESSION, "brotli"),
        (OTEL_EXPORTER_OTLP_METRICS_HEADERS, "broken"),
    ];
    let (_, warnings) = run(&env, &Overrides::default());
    assert_eq!(
        vars(&warnings),
        [OTEL_EXPORTER_OTLP_COMPRESSION],
        "{warnings:?}"
    );
    // Every signal off: nothing about OTLP at all.
    let env = [
        (OTEL_TRACES_EXPORTER, "none"),
        (OTEL_LOGS_EXPORTER, "none"),
        (OTEL_METRICS_EXPORTER, "prometheus"),
        (OTEL_EXPORTER_OTLP_COMPRESSION, "brotli"),
    ];
    let (config, warnings) = run(&env, &Overrides::default());
    // An exporter buildtrace cannot build is the default, with a warning.
    assert_eq!(
        vars(&warnings),
        [OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_COMPRESSION]
    );
    assert_eq!(config.metrics.exporter, ExporterKind::Otlp);
}

#[test]
fn a_disabled_sdk_says_nothing_about_any_signal() {
    let env = [
        (OTEL_SDK_DISABLED, "true"),
        (OTEL_LOGS_EXPORTER, "bogus"),
        (OTEL_BLRP_MAX_QUEUE_SIZE, "-1"),
        (OTEL_METRIC_EXPORT_INTERVAL, "x"),
        (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, "x"),
    ];
    let (config, warnings) = run(&env, &Overrides::default());
    assert!(config.disabled);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// --- transports left out of the build ---------------------------------------

/// Whatever the features, the default protocol is one the build carries,
/// and choosing it is no warning.
#[test]
fn the_default_protocol_is_compiled_in() {
    let (config, warnings) = resolve(&|_| None, &Overrides::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    let compiled = transport::Transports::COMPILED;
    if compiled.grpc || compiled.http {
        for signal in Signal::ALL {
            let protocol = config.signal(signal).protocol;
            let feature = transport::feature(protocol);
            assert!(
                match protocol {
                    Protocol::Grpc => compiled.grpc,
                    Protocol::HttpProtobuf => compiled.http,
                },
                "{signal:?}: {protocol} needs `{feature}`"
            );
        }
    }
}

/// buildtrace's default features leave `otlp-http` out: http/protobuf asked
/// for by any variable, or in code, is one warning that names the feature,
/// and every signal exports over gRPC (to gRPC's default endpoint unless one
/// is configured).
#[cfg(all(feature = "otlp-grpc", not(feature = "otlp-http")))]
#[test]
fn http_without_its_feature_is_one_warning_and_grpc() {
    const HTTP: &str = "http/protobuf";
    let cases: &[(Pairs, &str)] = &[
        (
            &[(OTEL_EXPORTER_OTLP_PROTOCOL, HTTP)],
            OTEL_EXPORTER_OTLP_PROTOCOL,
        ),
        (
            &[
                (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, HTTP),
                (OTEL_EXPORTER_OTLP_PROTOCOL, HTTP),
            ],
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        ),
        (
            &[
                (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, HTTP),
                (OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, HTTP),
                (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, HTTP),
            ],
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        ),
    ];
    for &(pairs, variable) in cases {
        let (config, warnings) = resolve(&env_of(pairs), &Overrides::default());
        assert_eq!(vars(&warnings), [variable], "{warnings:?}");
        let text = warnings[0].to_string();
        assert!(
            text.contains("`otlp-http` feature")
                && text.contains(r#"features = ["otlp-http"]"#)
                && text.contains("using grpc instead"),
            "{text}"
        );
        for signal in Signal::ALL {
            let signal = config.signal(signal);
            assert_eq!(signal.protocol, Protocol::Grpc);
            assert_eq!(
                signal.endpoint,
                OTEL_EXPORTER_OTLP_TRACES_ENDPOINT_GRPC_DEFAULT
            );
        }
    }

    // In code: the same one warning; a configured endpoint is kept.
    let overrides = Overrides {
        protocol: Some(Protocol::HttpProtobuf),
        ..Overrides::default()
    };
    let env = env_of(&[(OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4317")]);
    let (config, warnings) = resolve(&env, &overrides);
    assert_eq!(
        vars(&warnings),
        [OTEL_EXPORTER_OTLP_PROTOCOL],
        "{warnings:?}"
    );
    assert!(warnings[0]
        .message()
        .starts_with("http/protobuf (set in code) needs"));
    assert_eq!(config.protocol, Protocol::Grpc);
    assert_eq!(config.endpoint, "http://collector:4317");

    // Not for a signal that does not export over OTLP.
    let env = env_of(&[
        (OTEL_EXPORTER_OTLP_PROTOCOL, HTTP),
        (OTEL_TRACES_EXPORTER, "console"),
        (OTEL_LOGS_EXPORTER, "none"),
        (OTEL_METRICS_EXPORTER, "none"),
    ]);
    let (_, warnings) = resolve(&env, &Overrides::default());
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// The mirror image, for a build with `otlp-http` alone.
#[cfg(all(feature = "otlp-http", not(feature = "otlp-grpc")))]
#[test]
fn grpc_without_its_feature_is_one_warning_and_http() {
    let env = env_of(&[(OTEL_EXPORTER_OTLP_PROTOCOL, "grpc")]);
    let (config, warnings) = resolve(&env, &Overrides::default());
    assert_eq!(
        vars(&warnings),
        [OTEL_EXPORTER_OTLP_PROTOCOL],
        "{warnings:?}"
    );
    assert!(warnings[0]
        .message()
        .contains(r#"features = ["otlp-grpc"]"#));
    for signal in Signal::ALL {
        assert_eq!(config.signal(signal).protocol, Protocol::HttpProtobuf);
    }
}
