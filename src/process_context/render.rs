//! The three outputs of `buildtrace inspect --pid`, shaped like those of a
//! file: text for people, one JSON object, an `OTEL_RESOURCE_ATTRIBUTES`
//! value. Every string came from another process: text goes through the
//! reader's terminal escaping.

use std::io::{self, Write};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};

use crate::inspect::render::{escape_terminal, percent_encode};

use super::read::Context;

/// The attributes in key order, as `(key, JSON value)`.
fn sorted(context: &Context) -> Vec<(&str, serde_json::Value)> {
    let mut attributes: Vec<(&str, serde_json::Value)> = context
        .resource_attributes()
        .iter()
        .map(|kv: &KeyValue| (kv.key.as_str(), json_value(kv.value.as_ref())))
        .collect();
    attributes.sort_by(|a, b| a.0.cmp(b.0));
    attributes
}

fn json_value(value: Option<&AnyValue>) -> serde_json::Value {
    use serde_json::Value as J;
    match value.and_then(|v| v.value.as_ref()) {
        None => J::Null,
        Some(Value::StringValue(s)) => J::String(s.clone()),
        Some(Value::BoolValue(b)) => J::Bool(*b),
        Some(Value::IntValue(i)) => J::from(*i),
        Some(Value::DoubleValue(d)) => J::from(*d),
        Some(Value::ArrayValue(a)) => {
            J::Array(a.values.iter().map(|v| json_value(Some(v))).collect())
        }
        Some(Value::KvlistValue(l)) => J::Object(
            l.values
                .iter()
                .map(|kv| (kv.key.clone(), json_value(kv.value.as_ref())))
                .collect(),
        ),
        Some(Value::BytesValue(b)) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
        Some(Value::StringValueStrindex(i)) => J::String(format!("strindex:{i}")),
    }
}

/// A value as text: strings as they are, everything else as JSON.
fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes the text report: a title, one tab-separated line per attribute
/// in key order, and where the context was found.
///
/// ```text
/// process 4242: OpenTelemetry process context v2
///         service.name                app
///         vcs.ref.head.revision       5c0f…
/// found in mapping `/memfd:OTEL_CTX (deleted)` at 0x7f12a4e00000 (payload 812 bytes, published 93811 ms after boot)
/// ```
///
/// # Errors
/// Any error from `out`.
pub fn write_human(out: &mut impl Write, context: &Context) -> io::Result<()> {
    writeln!(
        out,
        "process {}: OpenTelemetry process context v{}",
        context.pid, context.header.version
    )?;
    let attributes = sorted(context);
    let width = attributes.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in &attributes {
        writeln!(
            out,
            "\t{:width$}\t{}",
            escape_terminal(key),
            escape_terminal(&text(value))
        )?;
    }
    writeln!(
        out,
        "found in mapping `{}` at {:#x} (payload {} bytes, published {} ms after boot)",
        escape_terminal(&context.mapping),
        context.address,
        context.header.payload_size,
        context.header.published_at_ns / 1_000_000
    )
}

/// Writes one JSON object: each resource attribute's name to its typed
/// value, and under `process_context` the header facts (`pid`, `version`,
/// `published_at_ns`, `mapping`, `address`, `payload_size`, and the
/// context's own `attributes` when it has any).
///
/// # Errors
/// Any error from `out`.
pub fn write_json(out: &mut impl Write, context: &Context) -> io::Result<()> {
    let mut object: serde_json::Map<String, serde_json::Value> = sorted(context)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let mut facts = serde_json::json!({
        "pid": context.pid,
        "version": context.header.version,
        "published_at_ns": context.header.published_at_ns,
        "mapping": context.mapping,
        "address": format!("{:#x}", context.address),
        "payload_size": context.header.payload_size,
    });
    if !context.payload.attributes.is_empty() {
        facts["attributes"] = context
            .payload
            .attributes
            .iter()
            .map(|kv| (kv.key.clone(), json_value(kv.value.as_ref())))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    object.insert(PROCESS_CONTEXT_KEY.to_owned(), facts);
    serde_json::to_writer(&mut *out, &object)?;
    writeln!(out)
}

/// The key of the header facts in [`write_json`]'s object.
pub const PROCESS_CONTEXT_KEY: &str = "process_context";

/// Writes the attributes as a value for `OTEL_RESOURCE_ATTRIBUTES`,
/// percent-encoded as `buildtrace inspect --env` does for a file.
///
/// # Errors
/// Any error from `out`.
pub fn write_env(out: &mut impl Write, context: &Context) -> io::Result<()> {
    let line: Vec<String> = sorted(context)
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(&text(v))))
        .collect();
    writeln!(out, "{}", line.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_context::header::{Header, SIGNATURE, VERSION};
    use crate::process_context::proto::ProcessContext;
    use opentelemetry_proto::tonic::resource::v1::Resource;

    fn context() -> Context {
        let kv = |k: &str, v: Value| KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..KeyValue::default()
        };
        Context {
            pid: 42,
            mapping: "/memfd:OTEL_CTX (deleted)".into(),
            address: 0x7000,
            header: Header {
                signature: SIGNATURE,
                version: VERSION,
                payload_size: 99,
                published_at_ns: 5_000_000,
                payload: 0x7020,
            },
            payload: ProcessContext {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", Value::StringValue("my app\x1b".into())),
                        kv("buildtrace.build.debug", Value::BoolValue(true)),
                        kv("n", Value::IntValue(-3)),
                    ],
                    ..Resource::default()
                }),
                attributes: Vec::new(),
            },
        }
    }

    fn render(write: fn(&mut Vec<u8>, &Context) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut out, &context()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_is_sorted_aligned_and_escaped() {
        assert_eq!(
            render(write_human),
            "process 42: OpenTelemetry process context v2\n\
             \tbuildtrace.build.debug\ttrue\n\
             \tn                     \t-3\n\
             \tservice.name          \tmy app\\u{1b}\n\
             found in mapping `/memfd:OTEL_CTX (deleted)` at 0x7000 (payload 99 bytes, published 5 ms after boot)\n"
        );
    }

    #[test]
    fn json_has_typed_attributes_and_the_header_facts() {
        assert_eq!(
            render(write_json),
            "{\"buildtrace.build.debug\":true,\"n\":-3,\
             \"process_context\":{\"address\":\"0x7000\",\"mapping\":\"/memfd:OTEL_CTX (deleted)\",\
             \"payload_size\":99,\"pid\":42,\"published_at_ns\":5000000,\"version\":2},\
             \"service.name\":\"my app\\u001b\"}\n"
        );
    }

    #[test]
    fn env_is_percent_encoded_pairs() {
        assert_eq!(
            render(write_env),
            "buildtrace.build.debug=true,n=-3,service.name=my%20app%1B\n"
        );
    }
}
