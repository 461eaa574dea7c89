//! The payload: `opentelemetry.proto.processcontext.v1development.ProcessContext`,
//! a protobuf `Resource` and attributes of the process.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;

/// The payload message, as `process_context.proto` defines it.
///
/// ```proto
/// message ProcessContext {
///   opentelemetry.proto.resource.v1.Resource resource = 1;
///   repeated opentelemetry.proto.common.v1.KeyValue attributes = 2;
/// }
/// ```
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProcessContext {
    /// The process's resource.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// Attributes of the process beyond the resource (buildtrace publishes
    /// none).
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<KeyValue>,
}

/// The payload for an SDK resource: every attribute it holds.
#[cfg(feature = "process-context")]
pub(crate) fn encode(resource: &opentelemetry_sdk::Resource) -> Vec<u8> {
    use opentelemetry_proto::transform::common::tonic::Attributes;
    use prost::Message as _;
    let attributes = Attributes::from(
        resource
            .iter()
            .map(|(k, v)| opentelemetry::KeyValue::new(k.clone(), v.clone())),
    );
    ProcessContext {
        resource: Some(Resource {
            attributes: attributes.0,
            ..Resource::default()
        }),
        attributes: Vec::new(),
    }
    .encode_to_vec()
}

#[cfg(all(test, feature = "process-context"))]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use prost::Message as _;

    #[test]
    fn the_payload_carries_every_attribute_of_the_resource() {
        let resource = opentelemetry_sdk::Resource::builder_empty()
            .with_attribute(opentelemetry::KeyValue::new("service.name", "app"))
            .with_attribute(opentelemetry::KeyValue::new("buildtrace.build.debug", true))
            .with_attribute(opentelemetry::KeyValue::new("n", 7_i64))
            .build();
        let decoded = ProcessContext::decode(encode(&resource).as_slice()).unwrap();
        let mut got: Vec<(String, Option<Value>)> = decoded
            .resource
            .unwrap()
            .attributes
            .into_iter()
            .map(|kv| (kv.key, kv.value.and_then(|v| v.value)))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                (
                    "buildtrace.build.debug".into(),
                    Some(Value::BoolValue(true))
                ),
                ("n".into(), Some(Value::IntValue(7))),
                (
                    "service.name".into(),
                    Some(Value::StringValue("app".into()))
                ),
            ]
        );
    }
}
