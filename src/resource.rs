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

#[cfg(test)]
mod tests {
    use crate::provenance::keys;
    use opentelemetry_semantic_conventions::attribute as semconv;

    #[test]
    fn record_keys_are_the_semantic_convention_names() {
        let pairs = [
            (keys::SERVICE_NAME, semconv::SERVICE_NAME),
            (keys::SERVICE_VERSION, semconv::SERVICE_VERSION),
            (keys::TELEMETRY_DISTRO_NAME, semconv::TELEMETRY_DISTRO_NAME),
            (
                keys::TELEMETRY_DISTRO_VERSION,
                semconv::TELEMETRY_DISTRO_VERSION,
            ),
            (keys::VCS_REF_HEAD_REVISION, semconv::VCS_REF_HEAD_REVISION),
            (keys::VCS_REF_HEAD_NAME, semconv::VCS_REF_HEAD_NAME),
            (keys::VCS_REF_HEAD_TYPE, semconv::VCS_REF_HEAD_TYPE),
            (
                keys::VCS_REPOSITORY_URL_FULL,
                semconv::VCS_REPOSITORY_URL_FULL,
            ),
            (keys::PROCESS_RUNTIME_NAME, semconv::PROCESS_RUNTIME_NAME),
            (
                keys::PROCESS_RUNTIME_VERSION,
                semconv::PROCESS_RUNTIME_VERSION,
            ),
            (
                keys::PROCESS_RUNTIME_DESCRIPTION,
                semconv::PROCESS_RUNTIME_DESCRIPTION,
            ),
            (keys::CICD_PIPELINE_NAME, semconv::CICD_PIPELINE_NAME),
            (keys::CICD_PIPELINE_RUN_ID, semconv::CICD_PIPELINE_RUN_ID),
            (
                keys::CICD_PIPELINE_RUN_URL_FULL,
                semconv::CICD_PIPELINE_RUN_URL_FULL,
            ),
            (keys::OS_TYPE, semconv::OS_TYPE),
            (keys::HOST_ARCH, semconv::HOST_ARCH),
            (
                keys::PROCESS_EXECUTABLE_NAME,
                semconv::PROCESS_EXECUTABLE_NAME,
            ),
            (
                keys::PROCESS_EXECUTABLE_BUILD_ID_GNU,
                semconv::PROCESS_EXECUTABLE_BUILD_ID_GNU,
            ),
            (
                keys::PROCESS_EXECUTABLE_BUILD_ID_HTLHASH,
                semconv::PROCESS_EXECUTABLE_BUILD_ID_HTLHASH,
            ),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs);
        }
    }
}
