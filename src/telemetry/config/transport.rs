//! The OTLP transports a build carries (the `otlp-grpc` and `otlp-http`
//! features) and what happens to a protocol whose transport it leaves out:
//! the default follows the transport that is compiled in, silently; a
//! protocol the environment or the code asks for falls back to it with one
//! warning that names the feature to enable. With no transport compiled in,
//! the protocol stays as asked and initialisation reports that no transport
//! is available.

use super::precedence::Source;
use super::values::Protocol;
use super::vars::OTEL_EXPORTER_OTLP_PROTOCOL;
use super::Warning;

/// Which OTLP transports are compiled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Transports {
    pub(super) grpc: bool,
    pub(super) http: bool,
}

impl Transports {
    /// This build's.
    pub(super) const COMPILED: Transports = Transports {
        grpc: cfg!(feature = "otlp-grpc"),
        http: cfg!(feature = "otlp-http"),
    };

    /// Both, as the specification's resolution rules assume.
    #[cfg(test)]
    pub(super) const ALL: Transports = Transports {
        grpc: true,
        http: true,
    };

    fn has(self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Grpc => self.grpc,
            Protocol::HttpProtobuf => self.http,
        }
    }
}

/// The buildtrace feature that carries `protocol`'s transport.
pub(super) const fn feature(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "otlp-grpc",
        Protocol::HttpProtobuf => "otlp-http",
    }
}

/// The protocol to use for `asked`, which came from `source`: `asked` if its
/// transport is compiled in, else the other one if that is. The warning (for
/// a protocol that was asked for, not defaulted) names the variable that
/// asked, or the generic one for code, so that the three signals reading it
/// say it once.
pub(super) fn settle(
    asked: Protocol,
    source: Source,
    transports: Transports,
) -> (Protocol, Option<Warning>) {
    let other = match asked {
        Protocol::Grpc => Protocol::HttpProtobuf,
        Protocol::HttpProtobuf => Protocol::Grpc,
    };
    if transports.has(asked) || !transports.has(other) {
        return (asked, None);
    }
    let (variable, by) = match source {
        Source::Default => return (other, None),
        Source::Env(var) => (var, ""),
        Source::Code => (OTEL_EXPORTER_OTLP_PROTOCOL, " (set in code)"),
    };
    let message = format!(
        "{asked}{by} needs buildtrace's `{feature}` feature, which this build leaves out; \
         using {other} instead. To export over {asked}, enable it: \
         buildtrace = {{ version = \"…\", features = [\"{feature}\"] }}",
        feature = feature(asked),
    );
    (other, Some(Warning::new(variable, message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::config::vars::OTEL_EXPORTER_OTLP_TRACES_PROTOCOL;

    const GRPC_ONLY: Transports = Transports {
        grpc: true,
        http: false,
    };
    const HTTP_ONLY: Transports = Transports {
        grpc: false,
        http: true,
    };
    const NONE: Transports = Transports {
        grpc: false,
        http: false,
    };

    #[test]
    fn a_compiled_protocol_is_kept() {
        use Protocol::*;
        for (asked, t) in [
            (Grpc, Transports::ALL),
            (HttpProtobuf, Transports::ALL),
            (Grpc, GRPC_ONLY),
            (HttpProtobuf, HTTP_ONLY),
            // Nothing to fall back to: initialisation says so.
            (Grpc, NONE),
            (HttpProtobuf, NONE),
        ] {
            for source in [Source::Default, Source::Code, Source::Env("V")] {
                assert_eq!(settle(asked, source, t), (asked, None), "{asked} {t:?}");
            }
        }
    }

    #[test]
    fn the_default_follows_the_compiled_transport_silently() {
        let s = Source::Default;
        assert_eq!(
            settle(Protocol::HttpProtobuf, s, GRPC_ONLY),
            (Protocol::Grpc, None)
        );
        assert_eq!(
            settle(Protocol::Grpc, s, HTTP_ONLY),
            (Protocol::HttpProtobuf, None)
        );
    }

    #[test]
    fn an_asked_protocol_falls_back_with_a_warning_naming_the_feature() {
        let env = Source::Env(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL);
        let (used, warning) = settle(Protocol::HttpProtobuf, env, GRPC_ONLY);
        assert_eq!(used, Protocol::Grpc);
        let warning = warning.expect("a warning");
        assert_eq!(warning.variable(), OTEL_EXPORTER_OTLP_TRACES_PROTOCOL);
        assert!(
            warning.message().contains(r#"features = ["otlp-http"]"#)
                && warning.message().contains("using grpc instead"),
            "{warning}"
        );

        let (used, warning) = settle(Protocol::Grpc, Source::Code, HTTP_ONLY);
        assert_eq!(used, Protocol::HttpProtobuf);
        let warning = warning.expect("a warning");
        assert_eq!(warning.variable(), OTEL_EXPORTER_OTLP_PROTOCOL);
        assert!(
            warning.message().starts_with("grpc (set in code) needs")
                && warning.message().contains(r#"features = ["otlp-grpc"]"#),
            "{warning}"
        );
    }
}
