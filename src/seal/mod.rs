//! Tamper evidence: sealing a linked binary, verifying it, attesting it.
//!
//! A signature made in `build.rs` cannot cover the finished binary (it does
//! not exist yet) and could be copied into any other binary. Sealing is
//! therefore a post-link step: [`seal_file`] hashes the file with the seal
//! fields of the record's slot read as zeros (see [`digest`] for what each
//! format leaves out), signs that digest, and writes digest, key id and
//! signature into the slot, a place reserved when the record was built, so
//! no other byte moves. The running program reports the digest it carries
//! as `buildtrace.seal.digest` at no cost.
//!
//! [`verify_path`] gives one [`Verdict`]:
//!
//! | verdict | meaning |
//! |---|---|
//! | [`Absent`](Verdict::Absent) | no record in the file |
//! | [`Unsigned`](Verdict::Unsigned) | a record, neither signed nor sealed |
//! | [`PayloadAuthentic`](Verdict::PayloadAuthentic) | the build-time signature of a trusted key holds; nothing binds the record to this file |
//! | [`SealedAndBound`](Verdict::SealedAndBound) | a trusted key sealed exactly this file |
//! | [`Invalid`](Verdict::Invalid) | something no longer matches; [`Verification::problems`] says what |
//! | [`UntrustedKey`](Verdict::UntrustedKey) | everything that can be checked without the key matches, but the signing key is not among the trusted ones |
//!
//! [`attest`] produces an in-toto Statement for the file, optionally in a
//! DSSE envelope signed with the same kind of key; [`bundle`] puts that
//! envelope in a Sigstore bundle (what `cosign verify-blob-attestation
//! --bundle` reads) and checks bundles and envelopes against a file;
//! [`deps`] lists the packages the build used, for the statement's
//! `resolvedDependencies`.

pub mod attest;
pub mod bundle;
pub mod deps;
pub mod digest;

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use p256::ecdsa::{SigningKey, VerifyingKey};

use crate::inspect::{inspect_path, Format, InspectError, Limits, Location};
use crate::provenance::{hex, Record, HEADER_LEN, SEAL_LEN};
use crate::signing::{self, SignatureError};
use crate::slot::{self, Slot};

/// A public key the verifier trusts, with a label to report it by.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key.
    pub key: VerifyingKey,
    /// Its id ([`signing::key_id`]).
    pub id: [u8; 32],
    /// Where it came from, e.g. the file name.
    pub label: String,
}

impl TrustedKey {
    /// Loads a PEM public key (or the public half of a private key).
    ///
    /// # Errors
    /// A [`signing::KeyError`] naming the file and the fix.
    pub fn from_file(path: &Path) -> Result<Self, signing::KeyError> {
        let key = signing::verifying_key_from_file(path)?;
        Ok(TrustedKey {
            id: signing::key_id(&key),
            key,
            label: path.display().to_string(),
        })
    }
}

/// Why a file could not be sealed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The file could not be inspected (no record, unreadable, malformed).
    #[error(transparent)]
    Inspect(#[from] InspectError),
    /// The record's slot holds data this version cannot keep.
    #[error("the record's seal slot is malformed ({0}); rebuild the binary")]
    Slot(slot::SlotError),
    /// Writing the sealed file failed; the input is unchanged.
    #[error(
        "cannot write {path}: {error}; the input is unchanged, check the directory is writable"
    )]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// The sealed file did not verify after writing.
    #[error("the sealed file did not read back as written: {0}")]
    ReadBack(String),
}

/// What [`seal_file`] did.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The file written.
    pub path: PathBuf,
    /// The container format.
    pub format: Format,
    /// Where the record is.
    pub location: Location,
    /// The sealed digest.
    pub digest: [u8; 32],
    /// The id of the sealing key.
    pub key_id: [u8; 32],
    /// The id of the key of the seal this one replaced, if any.
    pub replaced: Option<[u8; 32]>,
    /// The provenance ID.
    pub id: Option<String>,
}

fn record_offset(location: &Location) -> u64 {
    match location {
        Location::Section { offset, .. } | Location::MagicScan { offset } => *offset,
    }
}

/// The file range of the seal fields of a record at `offset`.
fn seal_fields(offset: u64, record: &Record<'_>) -> Range<u64> {
    let slot_at = offset + (record.as_bytes().len() - SEAL_LEN) as u64;
    slot_at + slot::SEAL_FIELDS.start as u64..slot_at + slot::SEAL_FIELDS.end as u64
}

/// The seal digest of the file `r` of length `len`.
fn file_digest<R: Read + Seek>(
    r: &mut R,
    len: u64,
    format: Option<Format>,
    fields: Range<u64>,
) -> Result<[u8; 32], InspectError> {
    let cov = digest::coverage(r, len, format, fields)?;
    Ok(digest::digest(r, &cov)?)
}

/// Seals `input` with `key`, in place or into `output`.
///
/// The sealed copy is written next to its destination and renamed over it,
/// so a reader never sees a half-written file and a running program's file
/// is replaced, not modified; permissions are kept. Sealing a sealed file
/// replaces its seal (the digest does not cover the seal fields).
///
/// # Errors
/// [`SealError`]; the input is unchanged on every error.
pub fn seal_file(
    input: &Path,
    output: Option<&Path>,
    key: &SigningKey,
    limits: &Limits,
) -> Result<Sealed, SealError> {
    let found = inspect_path(input, limits)?;
    let record = found.record();
    let parsed = Slot::parse(record.seal_slot()).map_err(SealError::Slot)?;
    let replaced = parsed.seal.map(|s| *s.signature.key_id);
    let offset = record_offset(found.location());
    let slot_at = offset + (record.as_bytes().len() - SEAL_LEN) as u64;
    let fields = seal_fields(offset, &record);
    let mut slot_bytes: [u8; SEAL_LEN] = record.seal_slot().try_into().expect("slot length");
    slot::prepare_seal(&mut slot_bytes);

    let dest = output.unwrap_or(input);
    let write_err = |error| SealError::Write {
        path: dest.to_path_buf(),
        error,
    };
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.buildtrace-seal.{}",
        dest.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| -> Result<[u8; 32], SealError> {
        let mut src = crate::inspect::open_regular(input)?;
        let mut out = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(write_err)?;
        std::io::copy(&mut src, &mut out).map_err(write_err)?;
        out.seek(SeekFrom::Start(slot_at)).map_err(write_err)?;
        out.write_all(&slot_bytes).map_err(write_err)?;
        let len = out.seek(SeekFrom::End(0)).map_err(write_err)?;
        let digest = file_digest(&mut out, len, Some(found.format()), fields.clone())?;
        let key_id = signing::key_id(key.verifying_key());
        let sig = signing::sign(key, &[slot::SEAL_CONTEXT, &digest, &key_id]);
        slot::write_seal(&mut slot_bytes, &digest, &key_id, &sig);
        out.seek(SeekFrom::Start(slot_at)).map_err(write_err)?;
        out.write_all(&slot_bytes).map_err(write_err)?;
        out.set_permissions(src.metadata().map_err(write_err)?.permissions())
            .map_err(write_err)?;
        out.sync_all().map_err(write_err)?;
        // The digest does not cover the seal fields, so hashing again would
        // prove nothing; read the slot back and decode it, as a verifier will.
        let mut written = [0u8; SEAL_LEN];
        out.seek(SeekFrom::Start(slot_at)).map_err(write_err)?;
        out.read_exact(&mut written).map_err(write_err)?;
        match Slot::parse(&written) {
            Ok(s) if written == slot_bytes && s.seal.is_some_and(|s| s.digest == &digest) => {
                Ok(digest)
            }
            Ok(_) => Err(SealError::ReadBack(
                "the slot differs from what was written".into(),
            )),
            Err(e) => Err(SealError::ReadBack(e.to_string())),
        }
    })();
    let digest = match result {
        Ok(d) => d,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    if let Err(error) = std::fs::rename(&tmp, dest) {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(error));
    }
    Ok(Sealed {
        path: dest.to_path_buf(),
        format: found.format(),
        location: found.location().clone(),
        digest,
        key_id: signing::key_id(key.verifying_key()),
        replaced,
        id: record.id().map(str::to_owned),
    })
}

/// The verifier's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No record in the file.
    Absent,
    /// A record with neither a build-time signature nor a seal.
    Unsigned,
    /// A valid build-time signature by a trusted key; not bound to the file.
    PayloadAuthentic,
    /// A valid seal by a trusted key over exactly this file.
    SealedAndBound,
    /// Something no longer matches.
    Invalid,
    /// What can be checked matches, but a signing key is not trusted.
    UntrustedKey,
}

impl Verdict {
    /// The verdict as the CLI prints it: `sealed-and-bound` etc.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Absent => "absent",
            Verdict::Unsigned => "unsigned",
            Verdict::PayloadAuthentic => "payload-authentic",
            Verdict::SealedAndBound => "sealed-and-bound",
            Verdict::Invalid => "invalid",
            Verdict::UntrustedKey => "untrusted-key",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Valid, by the trusted key with this label.
    Valid(String),
    /// The key id is not among the trusted keys; the signature was not checked.
    Untrusted,
    /// Rejected.
    Invalid(SignatureError),
}

/// One signature found in the slot and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureReport {
    /// The key id the slot names.
    pub key_id: [u8; 32],
    /// The check.
    pub check: Check,
}

/// The seal found in the slot and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealReport {
    /// The digest the seal carries.
    pub sealed_digest: [u8; 32],
    /// The digest of the file as it is.
    pub file_digest: [u8; 32],
    /// The signature over the sealed digest.
    pub signature: SignatureReport,
}

/// Everything [`verify_path`] found.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The conclusion.
    pub verdict: Verdict,
    /// Where the record is, when there is one.
    pub location: Option<Location>,
    /// The container format, when the headers parse.
    pub format: Option<Format>,
    /// The provenance ID, when the record is readable.
    pub id: Option<String>,
    /// The build-time signature, when present.
    pub payload: Option<SignatureReport>,
    /// The seal, when present.
    pub seal: Option<SealReport>,
    /// What does not match, one line each, for [`Verdict::Invalid`].
    pub problems: Vec<String>,
}

fn check_signature(
    trusted: &[TrustedKey],
    sig: slot::Signature<'_>,
    message: &[&[u8]],
) -> SignatureReport {
    let check = match trusted.iter().find(|k| &k.id == sig.key_id) {
        // A signature that cannot be well formed is invalid whatever the key.
        None => match signing::check_form(sig.bytes) {
            Ok(()) => Check::Untrusted,
            Err(e) => Check::Invalid(e),
        },
        Some(k) => match signing::verify(&k.key, message, sig.bytes) {
            Ok(()) => Check::Valid(k.label.clone()),
            Err(e) => Check::Invalid(e),
        },
    };
    SignatureReport {
        key_id: *sig.key_id,
        check,
    }
}

/// Verifies the record of `path` against the `trusted` keys.
///
/// # Errors
/// [`InspectError`] when the file cannot be read at all or is not an
/// executable; a missing, broken or tampered record is a [`Verification`]
/// with the matching verdict, not an error.
pub fn verify_path(
    path: &Path,
    trusted: &[TrustedKey],
    limits: &Limits,
) -> Result<Verification, InspectError> {
    let mut v = Verification {
        verdict: Verdict::Invalid,
        location: None,
        format: None,
        id: None,
        payload: None,
        seal: None,
        problems: Vec::new(),
    };
    let (location, bytes) = match inspect_path(path, limits) {
        Ok(found) => {
            v.format = Some(found.format());
            (found.location().clone(), found.record_bytes().to_vec())
        }
        Err(e) if e.is_no_record() => {
            v.verdict = Verdict::Absent;
            return Ok(v);
        }
        Err(InspectError::DigestMismatch { location }) => {
            v.location = Some(location);
            v.problems
                .push("the record's payload does not match the digest in its header".into());
            return Ok(v);
        }
        Err(InspectError::BadRecord { location, error }) => {
            v.location = Some(location);
            v.problems.push(format!("the record is malformed: {error}"));
            return Ok(v);
        }
        Err(
            e @ (InspectError::Malformed { .. }
            | InspectError::NotExecutable { .. }
            | InspectError::EmptySection { .. }),
        ) => {
            // The headers do not parse. A record may still be in the file:
            // then the file was altered after build, and says so.
            match crate::inspect::scan_path(path, limits) {
                Ok(found) => {
                    v.problems
                        .push(format!("the file's headers do not parse ({e})"));
                    found
                }
                Err(scan) if scan.is_no_record() => return Err(e),
                Err(scan) => return Err(scan),
            }
        }
        Err(e) => return Err(e),
    };
    let record = Record::parse(&bytes).expect("validated by the reader");
    v.id = record.id().map(str::to_owned);
    let offset = record_offset(&location);
    v.location = Some(location);
    let slot = match Slot::parse(record.seal_slot()) {
        Ok(s) => s,
        Err(e) => {
            v.problems.push(format!("the seal slot is malformed: {e}"));
            return Ok(v);
        }
    };
    if let Some(sig) = slot.payload {
        let header = &record.as_bytes()[..HEADER_LEN];
        v.payload = Some(check_signature(
            trusted,
            sig,
            &[slot::PAYLOAD_CONTEXT, header],
        ));
    }
    if let Some(seal) = slot.seal {
        let mut file = crate::inspect::open_regular(path)?;
        let len = file.seek(SeekFrom::End(0))?;
        let fields = seal_fields(offset, &record);
        let file_digest = match file_digest(&mut file, len, v.format, fields.clone()) {
            Ok(d) => d,
            // The format-specific rules need headers that parse; without
            // them, hash the whole file (it will not match a real seal).
            Err(InspectError::Malformed { .. }) => {
                let cov = digest::Coverage::whole(len, vec![fields]);
                digest::digest(&mut file, &cov)?
            }
            Err(e) => return Err(e),
        };
        v.seal = Some(SealReport {
            sealed_digest: *seal.digest,
            file_digest,
            signature: check_signature(
                trusted,
                seal.signature,
                &[slot::SEAL_CONTEXT, seal.digest, seal.signature.key_id],
            ),
        });
    }
    v.verdict = conclude(&mut v);
    Ok(v)
}

fn conclude(v: &mut Verification) -> Verdict {
    let trusted = |r: &SignatureReport| !matches!(r.check, Check::Untrusted);
    if let Some(Check::Invalid(e)) = v.payload.as_ref().map(|p| &p.check) {
        v.problems.push(format!("build-time signature: {e}"));
    }
    if let Some(s) = &v.seal {
        if s.sealed_digest != s.file_digest {
            v.problems.push(format!(
                "the file does not match its seal: sealed sha256:{}, file sha256:{} (modified after sealing, or a seal copied from another file)",
                hex(&s.sealed_digest),
                hex(&s.file_digest)
            ));
        }
        if let Check::Invalid(e) = &s.signature.check {
            v.problems.push(format!("seal signature: {e}"));
        }
    }
    // The seal, when there is one, decides: its key vouches for the whole
    // file, the record included. A build-time signature by a key the
    // verifier does not know is reported, not held against a trusted seal.
    match (&v.seal, &v.payload) {
        _ if !v.problems.is_empty() => Verdict::Invalid,
        (Some(s), _) if !trusted(&s.signature) => Verdict::UntrustedKey,
        (Some(_), _) => Verdict::SealedAndBound,
        (None, Some(p)) if !trusted(p) => Verdict::UntrustedKey,
        (None, Some(_)) => Verdict::PayloadAuthentic,
        (None, None) => Verdict::Unsigned,
    }
}

/// SHA-256 of the whole file, as an attestation's subject digest.
///
/// # Errors
/// I/O errors; special files are refused.
pub fn file_sha256(path: &Path) -> Result<[u8; 32], InspectError> {
    let mut file: File = crate::inspect::open_regular(path)?;
    let len = file.seek(SeekFrom::End(0))?;
    Ok(digest::digest(
        &mut file,
        &digest::Coverage::whole(len, vec![]),
    )?)
}
