//! The Sigstore bundle (v0.3) around a signed attestation, and the checker
//! of bundles and DSSE envelopes, which treats its input as hostile.
//!
//! A bundle is one JSON object:
//!
//! ```text
//! { "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
//!   "verificationMaterial": { "publicKey": { "hint": base64(key id) }, "tlogEntries": [] },
//!   "dsseEnvelope": { "payload": base64(statement), "payloadType": "application/vnd.in-toto+json",
//!                     "signatures": [ { "sig": base64(DER ECDSA) } ] } }
//! ```
//!
//! The key id is buildtrace's ([`signing::key_id`](crate::signing::key_id):
//! SHA-256 of the DER `SubjectPublicKeyInfo`), which is also the hint cosign
//! writes for a key: `cosign verify-blob-attestation --key <pub> --bundle
//! <file> --insecure-ignore-tlog=true` accepts it offline, with no
//! transparency log entry and no timestamp. The signature itself carries no
//! `keyid`, as in the bundles cosign writes: DSSE verifiers skip a
//! signature whose `keyid` is not their own spelling of the key's id.
//!
//! [`check`] verifies a bundle, or a bare DSSE envelope (one line of
//! `.intoto.jsonl`), against a file's SHA-256 and trusted keys, as cosign
//! does for a keyed bundle: the signature over DSSE's pre-authentication
//! encoding, an in-toto Statement, the expected predicate type, the file's
//! digest among the subjects. Every size is bounded by [`CheckLimits`];
//! malformed input is an [`AttestationError`], never a panic.

use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};

use super::attest::{pae, PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE};
use super::TrustedKey;
use crate::provenance::hex;

/// The media type of a Sigstore bundle v0.3, as buildtrace writes it.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The older spelling of the same version, which readers accept too.
pub const MEDIA_TYPE_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The hint that names `key`: base64 of its key id.
pub fn key_hint(key_id: &[u8; 32]) -> String {
    B64.encode(key_id)
}

/// Signs `statement` with `key`: the payload bytes and the DER signature of
/// their pre-authentication encoding.
pub(super) fn sign_statement(statement: &Value, key: &SigningKey) -> (Vec<u8>, Vec<u8>) {
    let payload = serde_json::to_vec(statement).expect("a JSON value serialises");
    let sig = crate::signing::sign(key, &[&pae(PAYLOAD_TYPE, &payload)]);
    let sig = Signature::from_slice(&sig).expect("sign returns a valid signature");
    (payload, sig.to_der().as_bytes().to_vec())
}

/// A Sigstore bundle v0.3 holding `statement` in a DSSE envelope signed
/// with `key`; no transparency log entry, no timestamp.
pub fn bundle(statement: &Value, key: &SigningKey) -> Value {
    let (payload, sig) = sign_statement(statement, key);
    let hint = key_hint(&crate::signing::key_id(key.verifying_key()));
    json!({
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": { "hint": hint },
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": B64.encode(&payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{ "sig": B64.encode(&sig) }],
        },
    })
}

/// Bounds on what [`check`] accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckLimits {
    /// Largest document read, in bytes. Default: 16 MiB (a statement with
    /// thousands of dependencies is well under 1 MiB).
    pub max_document_bytes: u64,
    /// Most signatures examined in one envelope. Default: 16.
    pub max_signatures: usize,
}

impl Default for CheckLimits {
    fn default() -> Self {
        CheckLimits {
            max_document_bytes: 16 << 20,
            max_signatures: 16,
        }
    }
}

/// Why an attestation could not be checked at all (as opposed to checked
/// and found wanting, which is an [`AttestationCheck`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The file could not be read.
    #[error("cannot read the attestation: {0}; check the path")]
    Io(#[from] std::io::Error),
    /// The document passes the size limit.
    #[error("the attestation is larger than {limit} bytes; is it the right file?")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Not the JSON of a bundle or an envelope.
    #[error("the attestation is malformed: {0}; pass a Sigstore bundle (`attest --format bundle`) or a DSSE envelope (`attest --format dsse`)")]
    Malformed(String),
    /// A bundle of a kind this checker does not handle.
    #[error("unsupported bundle: {0}")]
    Unsupported(String),
}

fn malformed(what: impl Into<String>) -> AttestationError {
    AttestationError::Malformed(what.into())
}

/// Reads at most `limits.max_document_bytes` of `path`.
///
/// # Errors
/// [`AttestationError::Io`], or [`AttestationError::TooLarge`].
pub fn read_document(path: &Path, limits: &CheckLimits) -> Result<Vec<u8>, AttestationError> {
    let file = crate::inspect::open_regular(path).map_err(|e| match e {
        crate::inspect::InspectError::Io { error } => AttestationError::Io(error),
        other => AttestationError::Io(std::io::Error::other(other.to_string())),
    })?;
    let mut bytes = Vec::new();
    file.take(limits.max_document_bytes + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limits.max_document_bytes {
        return Err(AttestationError::TooLarge {
            limit: limits.max_document_bytes,
        });
    }
    Ok(bytes)
}

/// What held the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// A Sigstore bundle v0.3.
    Bundle,
    /// A bare DSSE envelope.
    Envelope,
}

/// A decoded, not yet trusted, attestation.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// What held it.
    pub container: Container,
    /// The bundle's key hint, when it has one.
    pub hint: Option<String>,
    /// The envelope's payload bytes.
    pub payload: Vec<u8>,
    /// The signatures: the `keyid` each names and its bytes.
    pub signatures: Vec<(Option<String>, Vec<u8>)>,
    /// The statement, when the payload is JSON.
    pub statement: Option<Value>,
}

fn b64(v: &Value, what: &str) -> Result<Vec<u8>, AttestationError> {
    let text = v
        .as_str()
        .ok_or_else(|| malformed(format!("{what} is not a string")))?;
    B64.decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
        .map_err(|_| malformed(format!("{what} is not base64")))
}

/// Decodes a bundle or an envelope without checking any signature.
///
/// # Errors
/// [`AttestationError::Malformed`] or [`AttestationError::Unsupported`].
pub fn decode(document: &[u8], limits: &CheckLimits) -> Result<Decoded, AttestationError> {
    if document.len() as u64 > limits.max_document_bytes {
        return Err(AttestationError::TooLarge {
            limit: limits.max_document_bytes,
        });
    }
    // One JSON value; a `.intoto.jsonl` of one line has a newline after it.
    let doc: Value = serde_json::from_slice(document)
        .map_err(|e| malformed(format!("not one JSON document ({e})")))?;
    let (container, hint, envelope) = match doc.get("mediaType") {
        Some(media) => {
            let media = media
                .as_str()
                .ok_or_else(|| malformed("mediaType is not a string"))?;
            if media != MEDIA_TYPE && media != MEDIA_TYPE_ALT {
                return Err(AttestationError::Unsupported(format!(
                    "media type {media:?}; this checker reads bundles v0.3 ({MEDIA_TYPE}), verify others with cosign"
                )));
            }
            let material = &doc["verificationMaterial"];
            if material.get("publicKey").is_none() {
                return Err(AttestationError::Unsupported(
                    "the bundle's verification material is not a public key (keyless signing); verify it with cosign".into(),
                ));
            }
            let hint = material["publicKey"]["hint"].as_str().map(str::to_owned);
            let envelope = doc.get("dsseEnvelope").ok_or_else(|| {
                malformed(
                    "the bundle holds no DSSE envelope (a plain signature is not an attestation)",
                )
            })?;
            (Container::Bundle, hint, envelope)
        }
        None if doc.get("payloadType").is_some() => (Container::Envelope, None, &doc),
        None => return Err(malformed("neither a Sigstore bundle nor a DSSE envelope")),
    };
    let payload_type = envelope["payloadType"].as_str();
    if payload_type != Some(PAYLOAD_TYPE) {
        return Err(malformed(format!(
            "payloadType is {payload_type:?}, not {PAYLOAD_TYPE:?}"
        )));
    }
    let payload = b64(&envelope["payload"], "the payload")?;
    let list = envelope["signatures"]
        .as_array()
        .ok_or_else(|| malformed("the envelope has no signatures array"))?;
    if list.is_empty() {
        return Err(malformed("the envelope has no signature"));
    }
    if list.len() > limits.max_signatures {
        return Err(malformed(format!(
            "the envelope has {} signatures, more than {}",
            list.len(),
            limits.max_signatures
        )));
    }
    let signatures = list
        .iter()
        .map(|s| {
            let keyid = s["keyid"]
                .as_str()
                .filter(|k| !k.is_empty())
                .map(str::to_owned);
            Ok((keyid, b64(&s["sig"], "a signature")?))
        })
        .collect::<Result<Vec<_>, AttestationError>>()?;
    let statement = serde_json::from_slice(&payload).ok();
    Ok(Decoded {
        container,
        hint,
        payload,
        signatures,
        statement,
    })
}

/// The statement of `document` when `file_sha256` is one of its subjects,
/// signature unchecked: for comparing two builds (`buildtrace diff`), not
/// for trusting one ([`check`] is for that).
///
/// # Errors
/// As [`decode`].
pub fn statement_about(
    document: &[u8],
    file_sha256: &[u8; 32],
    limits: &CheckLimits,
) -> Result<Option<Value>, AttestationError> {
    let digest = hex(file_sha256);
    Ok(decode(document, limits)?.statement.filter(|s| {
        s["subject"].as_array().into_iter().flatten().any(|x| {
            x["digest"]["sha256"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case(&digest))
        })
    }))
}

/// The checker's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationVerdict {
    /// A trusted key signed a statement whose subject is the file.
    Verified,
    /// The signature or the statement does not hold.
    Invalid,
    /// The signature names a key that is not among the trusted ones.
    UntrustedKey,
}

impl AttestationVerdict {
    /// `verified`, `invalid`, `untrusted-key`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationVerdict::Verified => "verified",
            AttestationVerdict::Invalid => "invalid",
            AttestationVerdict::UntrustedKey => "untrusted-key",
        }
    }
}

/// Everything [`check`] found.
#[derive(Debug, Clone)]
pub struct AttestationCheck {
    /// The conclusion.
    pub verdict: AttestationVerdict,
    /// What held the statement.
    pub container: Container,
    /// The label of the trusted key whose signature holds.
    pub signed_by: Option<String>,
    /// The key ids (hex) the document names, when they are key ids.
    pub named_keys: Vec<String>,
    /// The statement's predicate type.
    pub predicate_type: Option<String>,
    /// The name of the subject that matched the file.
    pub subject: Option<String>,
    /// The statement, when it parses (trust it only when verified).
    pub statement: Option<Value>,
    /// What does not hold, one line each.
    pub problems: Vec<String>,
}

/// Checks `document` (a bundle or a DSSE envelope) against the file whose
/// SHA-256 is `file_sha256`, the `trusted` keys and the expected predicate
/// type (`None`: SLSA provenance v1).
///
/// # Errors
/// [`AttestationError`] when the document is not a bundle or an envelope at
/// all; a bad signature or a foreign subject is an [`AttestationCheck`] with
/// verdict [`Invalid`](AttestationVerdict::Invalid).
pub fn check(
    document: &[u8],
    file_sha256: &[u8; 32],
    trusted: &[TrustedKey],
    predicate_type: Option<&str>,
    limits: &CheckLimits,
) -> Result<AttestationCheck, AttestationError> {
    let d = decode(document, limits)?;
    let pae = pae(PAYLOAD_TYPE, &d.payload);
    let mut c = AttestationCheck {
        verdict: AttestationVerdict::Invalid,
        container: d.container,
        signed_by: None,
        named_keys: Vec::new(),
        predicate_type: None,
        subject: None,
        statement: d.statement.clone(),
        problems: Vec::new(),
    };
    // The hint and the keyids are unauthenticated: they only say which key
    // to report when none verifies.
    let named: Vec<[u8; 32]> = d
        .hint
        .iter()
        .chain(d.signatures.iter().filter_map(|(k, _)| k.as_ref()))
        .filter_map(|h| decode_key_id(h))
        .collect();
    for id in &named {
        let h = hex(id);
        if !c.named_keys.contains(&h) {
            c.named_keys.push(h);
        }
    }
    'found: for (_, sig) in &d.signatures {
        let Ok(sig) = Signature::from_der(sig) else {
            continue;
        };
        for key in trusted {
            if key.key.verify(&pae, &sig).is_ok() {
                c.signed_by = Some(key.label.clone());
                break 'found;
            }
        }
    }
    let names_trusted = named.iter().any(|id| trusted.iter().any(|k| &k.id == id));
    if c.signed_by.is_none() {
        if names_trusted || named.is_empty() {
            c.problems.push(
                "no signature verifies with the trusted keys: the statement was changed after signing, or signed by another key"
                    .into(),
            );
        } else {
            c.verdict = AttestationVerdict::UntrustedKey;
        }
    }

    match &d.statement {
        None => c.problems.push("the payload is not JSON".into()),
        Some(statement) => statement_problems(statement, file_sha256, predicate_type, &mut c),
    }
    if c.problems.is_empty() && c.signed_by.is_some() {
        c.verdict = AttestationVerdict::Verified;
    } else if !c.problems.is_empty() {
        c.verdict = AttestationVerdict::Invalid;
    }
    Ok(c)
}

fn statement_problems(
    statement: &Value,
    file_sha256: &[u8; 32],
    predicate_type: Option<&str>,
    c: &mut AttestationCheck,
) {
    if statement["_type"] != STATEMENT_TYPE {
        c.problems.push(format!(
            "the payload is not an in-toto Statement v1 (_type {})",
            statement["_type"]
        ));
    }
    c.predicate_type = statement["predicateType"].as_str().map(str::to_owned);
    let want = predicate_type.unwrap_or(PREDICATE_TYPE);
    if c.predicate_type.as_deref() != Some(want) {
        c.problems.push(format!(
            "the predicate type is {}, expected {want}",
            c.predicate_type.as_deref().unwrap_or("absent")
        ));
    }
    let digest = hex(file_sha256);
    c.subject = statement["subject"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| {
            s["digest"]["sha256"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case(&digest))
        })
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned());
    if c.subject.is_none() {
        c.problems.push(format!(
            "the file (sha256:{digest}) is not a subject of the statement: it changed after attesting, or the attestation is of another file"
        ));
    }
}

/// A key id from a hint: base64 (cosign, bundles) or hex (buildtrace's DSSE
/// envelopes) of 32 bytes.
fn decode_key_id(hint: &str) -> Option<[u8; 32]> {
    if hint.len() == 64 {
        let mut id = [0u8; 32];
        for (i, pair) in hint.as_bytes().chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            id[i] = u8::from_str_radix(text, 16).ok()?;
        }
        return Some(id);
    }
    B64.decode(hint).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::key_id;

    fn key(seed: u8) -> (SigningKey, TrustedKey) {
        let k = SigningKey::from_slice(&[seed; 32]).unwrap();
        let v = *k.verifying_key();
        let t = TrustedKey {
            id: key_id(&v),
            key: v,
            label: format!("key{seed}"),
        };
        (k, t)
    }

    fn statement(digest: &[u8; 32]) -> Value {
        json!({
            "_type": STATEMENT_TYPE,
            "subject": [{ "name": "app", "digest": { "sha256": hex(digest) } }],
            "predicateType": PREDICATE_TYPE,
            "predicate": { "buildDefinition": {} },
        })
    }

    fn doc(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }

    #[test]
    fn a_bundle_verifies_and_names_its_key() {
        let (k, t) = key(7);
        let b = bundle(&statement(&[1; 32]), &k);
        let c = check(
            &doc(&b),
            &[1; 32],
            std::slice::from_ref(&t),
            None,
            &CheckLimits::default(),
        )
        .unwrap();
        assert_eq!(c.verdict, AttestationVerdict::Verified, "{:?}", c.problems);
        assert_eq!(c.signed_by.as_deref(), Some("key7"));
        assert_eq!(c.named_keys, [hex(&t.id)]);
        assert_eq!(c.subject.as_deref(), Some("app"));
    }

    #[test]
    fn another_file_another_key_an_edited_payload_fail() {
        let (k, t) = key(7);
        let (_, other) = key(8);
        let b = bundle(&statement(&[1; 32]), &k);
        let limits = CheckLimits::default();
        let c = check(&doc(&b), &[2; 32], std::slice::from_ref(&t), None, &limits).unwrap();
        assert_eq!(c.verdict, AttestationVerdict::Invalid);
        let c = check(&doc(&b), &[1; 32], &[other], None, &limits).unwrap();
        assert_eq!(c.verdict, AttestationVerdict::UntrustedKey);
        let mut edited = b.clone();
        edited["dsseEnvelope"]["payload"] = Value::from(B64.encode(doc(&statement(&[3; 32]))));
        let c = check(&doc(&edited), &[3; 32], &[t], None, &limits).unwrap();
        assert_eq!(c.verdict, AttestationVerdict::Invalid);
    }

    #[test]
    fn hostile_documents_are_errors_not_panics() {
        let limits = CheckLimits::default();
        for bad in [
            &b""[..],
            b"null",
            b"[]",
            b"{\"mediaType\":1}",
            b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}",
            b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"%%\",\"signatures\":[]}}",
            b"{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"\",\"signatures\":[]}",
            b"{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"\",\"signatures\":[{\"sig\":7}]}",
        ] {
            assert!(check(bad, &[0; 32], &[], None, &limits).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // Nesting beyond serde_json's recursion limit is an error, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(check(deep.as_bytes(), &[0; 32], &[], None, &limits).is_err());
        // Garbage signatures are not verified, and not a panic either.
        let env = json!({"payloadType": PAYLOAD_TYPE, "payload": "", "signatures": [{"sig": "AAAA", "keyid": "zz"}]});
        let c = check(&doc(&env), &[0; 32], &[key(1).1], None, &limits).unwrap();
        assert_eq!(c.verdict, AttestationVerdict::Invalid);
    }
}
