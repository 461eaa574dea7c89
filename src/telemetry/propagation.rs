//! Context propagation: the global text-map propagator `init` installs (from
//! `OTEL_PROPAGATORS`), and one-line helpers for `http::HeaderMap`, the
//! header type every Rust HTTP stack shares.
//!
//! On the calling side, [`inject`] writes the current `tracing` span's
//! context into the request's headers; on the serving side, [`set_parent`]
//! makes the request's span a child of the caller's. The trace then crosses
//! the process boundary, and each process reports its own build.
//!
//! ```no_run
//! # let _guard = buildtrace::init();
//! // client
//! let mut headers = http::HeaderMap::new();
//! buildtrace::telemetry::propagation::inject(&mut headers);
//! // server
//! let span = tracing::info_span!("handle");
//! buildtrace::telemetry::propagation::set_parent(&span, &headers);
//! ```

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::Context;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_propagator_b3::{B3Encoding, Propagator as B3Propagator};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::config::Propagator;

/// The composite of `propagators`, in order (empty: propagates nothing).
pub(super) fn composite(propagators: &[Propagator]) -> TextMapCompositePropagator {
    let each = propagators
        .iter()
        .map(|p| -> Box<dyn TextMapPropagator + Send + Sync> {
            match p {
                Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                Propagator::Baggage => Box::new(BaggagePropagator::new()),
                Propagator::B3 => Box::new(B3Single {
                    inner: B3Propagator::with_encoding(B3Encoding::SingleHeader),
                    fields: ["b3".to_owned()],
                }),
                Propagator::B3Multi => {
                    Box::new(B3Propagator::with_encoding(B3Encoding::MultipleHeader))
                }
            }
        })
        .collect();
    TextMapCompositePropagator::new(each)
}

/// B3 with the single `b3` header only. opentelemetry-propagator-b3 0.33
/// writes the `X-B3-*` headers too when asked for the single header (its
/// encoding check treats "unspecified" as always supported), which the
/// `b3` entry of `OTEL_PROPAGATORS` does not ask for.
#[derive(Debug)]
struct B3Single {
    inner: B3Propagator,
    fields: [String; 1],
}

/// Passes on the `b3` header only.
struct OnlyB3<'a>(&'a mut dyn opentelemetry::propagation::Injector);

impl opentelemetry::propagation::Injector for OnlyB3<'_> {
    fn set(&mut self, key: &str, value: String) {
        if key.eq_ignore_ascii_case("b3") {
            self.0.set(key, value);
        }
    }
}

impl TextMapPropagator for B3Single {
    fn inject_context(
        &self,
        cx: &Context,
        injector: &mut dyn opentelemetry::propagation::Injector,
    ) {
        self.inner.inject_context(cx, &mut OnlyB3(injector));
    }

    fn extract_with_context(
        &self,
        cx: &Context,
        extractor: &dyn opentelemetry::propagation::Extractor,
    ) -> Context {
        self.inner.extract_with_context(cx, extractor)
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        opentelemetry::propagation::text_map_propagator::FieldIter::new(&self.fields)
    }
}

/// Installs `propagators` as the global text-map propagator.
pub(super) fn install(propagators: &[Propagator]) {
    opentelemetry::global::set_text_map_propagator(composite(propagators));
}

/// Writes `cx` into `headers` with the global propagator.
pub fn inject_context(cx: &Context, headers: &mut http::HeaderMap) {
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(cx, &mut HeaderInjector(headers));
    });
}

/// Writes the current `tracing` span's context into `headers` (for an
/// outgoing request), with the global propagator.
pub fn inject(headers: &mut http::HeaderMap) {
    inject_context(&tracing::Span::current().context(), headers);
}

/// The context a caller sent in `headers`, read with the global propagator.
pub fn extract(headers: &http::HeaderMap) -> Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)))
}

/// Makes `span` a child of the context in `headers` (for an incoming
/// request). Returns `false` when `span` is not recorded by buildtrace's
/// layer (filtered out, or telemetry not initialised).
pub fn set_parent(span: &tracing::Span, headers: &http::HeaderMap) -> bool {
    span.set_parent(extract(headers)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::baggage::BaggageExt as _;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::KeyValue;

    fn context() -> Context {
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        Context::new()
            .with_remote_span_context(span)
            .with_baggage(vec![KeyValue::new("tenant", "acme")])
    }

    fn headers_of(propagators: &[Propagator]) -> Vec<(String, String)> {
        let mut headers = http::HeaderMap::new();
        composite(propagators).inject_context(&context(), &mut HeaderInjector(&mut headers));
        let mut out: Vec<_> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        out.sort();
        out
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // The expected headers are written from the specifications (W3C Trace
    // Context, W3C Baggage, B3), not from what the code produced.
    #[test]
    fn each_propagator_writes_its_headers() {
        let traceparent = (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        // The SDK always sends `tracestate`, empty here; receivers must
        // accept an empty one (W3C Trace Context, 3.3.1.1).
        let tracestate = ("tracestate", "");
        assert_eq!(
            headers_of(&[Propagator::TraceContext, Propagator::Baggage]),
            pairs(&[("baggage", "tenant=acme"), traceparent, tracestate])
        );
        assert_eq!(
            headers_of(&[Propagator::TraceContext]),
            pairs(&[traceparent, tracestate])
        );
        assert_eq!(
            headers_of(&[Propagator::Baggage]),
            pairs(&[("baggage", "tenant=acme")])
        );
        assert_eq!(
            headers_of(&[Propagator::B3]),
            pairs(&[("b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")])
        );
        assert_eq!(
            headers_of(&[Propagator::B3Multi]),
            pairs(&[
                ("x-b3-sampled", "1"),
                ("x-b3-spanid", "00f067aa0ba902b7"),
                ("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ])
        );
        assert_eq!(headers_of(&[]), pairs(&[]));
    }

    #[test]
    fn what_is_injected_is_extracted() {
        for propagators in [
            vec![Propagator::TraceContext, Propagator::Baggage],
            vec![Propagator::B3],
            vec![Propagator::B3Multi],
        ] {
            let p = composite(&propagators);
            let mut headers = http::HeaderMap::new();
            p.inject_context(&context(), &mut HeaderInjector(&mut headers));
            let back = p.extract(&HeaderExtractor(&headers));
            assert_eq!(
                back.span().span_context().trace_id(),
                context().span().span_context().trace_id(),
                "{propagators:?}"
            );
            assert!(back.span().span_context().is_remote());
        }
    }
}
