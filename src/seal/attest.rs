//! An in-toto Statement (v1) about a binary, its predicate in the shape of
//! SLSA provenance v1, optionally wrapped in a signed DSSE envelope.
//!
//! - `subject`: the file name and the SHA-256 of the file as it is (sealed
//!   or not).
//! - `predicate.buildDefinition`: the build's parameters (package, profile,
//!   features, target, source revision) as `externalParameters`, the
//!   toolchain and the whole record as `internalParameters`, and the source
//!   commit, the `Cargo.lock` digest and, when the workspace is at hand,
//!   every package the build used ([`deps`](super::deps)) as
//!   `resolvedDependencies`.
//! - `predicate.runDetails`: the CI run as builder and invocation, and the
//!   record itself (payload digest, provenance ID, seal) as a byproduct.
//!
//! The DSSE envelope signs `PAE("application/vnd.in-toto+json", statement)`
//! with ECDSA P-256 over SHA-256; the signature is DER, base64, as DSSE
//! verifiers expect, with the key id ([`signing::key_id`](crate::signing::key_id))
//! in hex. [`bundle`](super::bundle) wraps the same envelope in a Sigstore
//! bundle.

use base64::Engine as _;
use p256::ecdsa::SigningKey;
use serde_json::{json, Map, Value};

use super::deps::Dependency;
use crate::inspect::Inspection;
use crate::names;
use crate::provenance::{hex, Value as RecordValue};
use crate::slot::Slot;

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type: SLSA provenance v1.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// `buildDefinition.buildType`: a Cargo build recorded by buildtrace.
pub const BUILD_TYPE: &str = "urn:buildtrace:cargo-build:v1";
/// `runDetails.builder.id` when the build ran outside CI.
pub const LOCAL_BUILDER: &str = "urn:buildtrace:builder:local";
/// The DSSE payload type of an in-toto Statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The statement for the file of `inspection` whose SHA-256 is `sha256`.
pub fn statement(inspection: &Inspection, file_name: &str, sha256: &[u8; 32]) -> Value {
    statement_with_dependencies(inspection, file_name, sha256, &[])
}

/// As [`statement`], with `packages` (from [`deps::resolve`]) listed after
/// the source commit and the lock file in `resolvedDependencies`.
///
/// [`deps::resolve`]: super::deps::resolve
pub fn statement_with_dependencies(
    inspection: &Inspection,
    file_name: &str,
    sha256: &[u8; 32],
    packages: &[Dependency],
) -> Value {
    let r = inspection.record();
    let s = |key: &str| r.get_str(key).map(str::to_owned);
    let mut record = Map::new();
    for e in r.entries() {
        let v = match e.value {
            RecordValue::Str(t) => Value::from(t),
            RecordValue::Bool(b) => Value::from(b),
            RecordValue::Int(i) => Value::from(i),
        };
        record.insert(e.key.to_owned(), v);
    }
    let features: Vec<&str> = r
        .get_str(names::BUILD_FEATURES)
        .map(|f| f.split(',').filter(|f| !f.is_empty()).collect())
        .unwrap_or_default();

    let mut dependencies = Vec::new();
    if let Some(commit) = s(names::VCS_REF_HEAD_REVISION).filter(|c| c != "unknown") {
        let mut dep = json!({ "digest": { "gitCommit": commit } });
        if let Some(url) = s(names::VCS_REPOSITORY_URL_FULL) {
            let at = s(names::VCS_REF_HEAD_NAME)
                .map(|n| {
                    format!(
                        "@refs/{}/{n}",
                        ref_kind(s(names::VCS_REF_HEAD_TYPE).as_deref())
                    )
                })
                .unwrap_or_default();
            dep["uri"] = Value::from(format!("git+{url}{at}"));
        }
        dependencies.push(dep);
    }
    if let Some(lock) = s(names::LOCK_SHA256).filter(|l| l != "none") {
        dependencies.push(json!({ "name": "Cargo.lock", "digest": { "sha256": lock } }));
    }
    dependencies.extend(packages.iter().map(Dependency::to_json));

    let slot = Slot::parse(r.seal_slot()).unwrap_or_default();
    let mut byproduct = json!({
        "name": "buildtrace-record",
        "digest": { "sha256": hex(r.payload_digest()) },
        "annotations": { "provenanceId": r.id() },
    });
    if let Some(seal) = slot.seal {
        byproduct["annotations"]["sealDigest"] = Value::from(hex(seal.digest));
        byproduct["annotations"]["sealKeyId"] = Value::from(hex(seal.signature.key_id));
    }

    let mut metadata = Map::new();
    if let Some(run) = s(names::CICD_PIPELINE_RUN_ID) {
        let attempt = s(names::CI_RUN_ATTEMPT)
            .map(|a| format!("/{a}"))
            .unwrap_or_default();
        metadata.insert(
            "invocationId".into(),
            Value::from(format!("{run}{attempt}")),
        );
    }
    let builder = s(names::CICD_PIPELINE_RUN_URL_FULL)
        .or_else(|| s(names::CI_PROVIDER).map(|p| format!("urn:buildtrace:builder:ci:{p}")))
        .unwrap_or_else(|| LOCAL_BUILDER.to_owned());

    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": file_name, "digest": { "sha256": hex(sha256) } }],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "package": s(names::SERVICE_NAME),
                    "version": s(names::SERVICE_VERSION),
                    "profile": s(names::BUILD_PROFILE),
                    "features": features,
                    "target": s(names::TARGET_TRIPLE),
                    "source": {
                        "uri": s(names::VCS_REPOSITORY_URL_FULL),
                        "revision": s(names::VCS_REF_HEAD_REVISION),
                        "ref": s(names::VCS_REF_HEAD_NAME),
                    },
                },
                "internalParameters": {
                    "rustc": s(names::PROCESS_RUNTIME_DESCRIPTION),
                    "optLevel": s(names::BUILD_OPT_LEVEL),
                    "record": record,
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": { "id": builder },
                "metadata": metadata,
                "byproducts": [byproduct],
            },
        },
    })
}

fn ref_kind(ty: Option<&str>) -> &'static str {
    match ty {
        Some("tag") => "tags",
        _ => "heads",
    }
}

/// DSSE's pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope around `statement`, signed with `key`.
pub fn envelope(statement: &Value, key: &SigningKey) -> Value {
    let (payload, sig) = super::bundle::sign_statement(statement, key);
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({
        "payloadType": PAYLOAD_TYPE,
        "payload": b64.encode(&payload),
        "signatures": [{
            "keyid": hex(&crate::signing::key_id(key.verifying_key())),
            "sig": b64.encode(&sig),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        // The example of the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }
}
