//! The OpenTelemetry [`ResourceDetector`] for the embedded record.

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::resource::{Resource, ResourceDetector};
use std::sync::OnceLock;

use crate::attributes::{resource_attributes, AttrValue, ExecutableFacts};

/// Yields the provenance of the running binary as resource attributes with
/// semantic-convention names: `vcs.*`, `process.runtime.*`,
/// `process.executable.*`, `os.type`, `host.arch`, `cicd.*`, `service.*`,
/// `telemetry.distro.*` and `buildtrace.*`.
///
/// Without [`embed!`](crate::embed!) in the binary it yields an empty resource.
///
/// # Examples
///
/// ```
/// use opentelemetry_sdk::Resource;
/// let resource = Resource::builder()
///     .with_detector(Box::new(buildtrace::ProvenanceDetector::new()))
///     .build();
/// # let _ = resource;
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct ProvenanceDetector {
    _private: (),
}

impl ProvenanceDetector {
    /// A detector for the running binary.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Facts about the running executable, computed once per process.
pub(crate) fn running_executable() -> &'static ExecutableFacts {
    static FACTS: OnceLock<ExecutableFacts> = OnceLock::new();
    FACTS.get_or_init(|| {
        let exe = std::env::current_exe().ok();
        ExecutableFacts {
            name: exe
                .as_deref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned()),
            build_id_gnu: crate::build_id::gnu_build_id().map(str::to_owned),
            htlhash: exe
                .as_deref()
                .and_then(|p| crate::build_id::htlhash_of_file(p).ok()),
        }
    })
}

/// The attributes as OpenTelemetry key-values (empty without a record).
pub(crate) fn key_values() -> Vec<KeyValue> {
    let Some(record) = crate::provenance() else {
        return Vec::new();
    };
    resource_attributes(record, running_executable())
        .into_iter()
        .map(|a| {
            let value = match a.value {
                AttrValue::Str(s) => Value::from(s.into_owned()),
                AttrValue::Bool(b) => Value::Bool(b),
                AttrValue::Int(i) => Value::I64(i),
            };
            KeyValue::new(a.key.to_owned(), value)
        })
        .collect()
}

impl ResourceDetector for ProvenanceDetector {
    fn detect(&self) -> Resource {
        Resource::builder_empty()
            .with_attributes(key_values())
            .build()
    }
}
