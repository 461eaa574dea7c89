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
    let (config, warnings) = run(&with_console, &Overrides::default());
    assert_eq!(config.exporter, ExporterKind::Console);
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
            let (config, warnings) = resolve(&env, &Overrides::default());
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
    let (config, _) = resolve(&|_| None, &overrides);
    assert_eq!(config.headers.pairs()[0].1, CANARY);
    assert!(!format!("{config:?}").contains(CANARY));
    assert!(!format!("{overrides:?}").contains(CANARY));
}

// --- all together -----------------------------------------------------------

#[test]
fn defaults_with_an_empty_environment() {
    let (config, warnings) = resolve(&|_| None, &Overrides::default());
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
    let (config, warnings) = resolve(&env, &Overrides::default());
    assert_eq!(vars(&warnings).len(), names.len(), "{warnings:?}");
    assert!(warnings.iter().all(|w| w.message().contains("Unicode")));
    let (defaults, _) = resolve(&|_| None, &Overrides::default());
    assert_eq!(config, defaults);
}
