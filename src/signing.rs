//! ECDSA P-256 keys and signatures, as the seal and the build-time signature
//! use them.
//!
//! - Keys are PEM files: a PKCS#8 private key (`BEGIN PRIVATE KEY`, what
//!   `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` and
//!   `buildtrace keygen` write), a `SubjectPublicKeyInfo` public key
//!   (`BEGIN PUBLIC KEY`).
//! - A key id is the SHA-256 of the public key's DER `SubjectPublicKeyInfo`
//!   (what `openssl pkey -pubin -outform DER | sha256sum` prints).
//! - Messages are hashed with SHA-256 and signed deterministically
//!   (RFC 6979). Signatures are `r ‖ s`, 64 bytes, with `s` in the lower half
//!   of the group order: a verifier rejects the high-S twin of a valid
//!   signature, so a signature has exactly one accepted encoding.
//!
//! Error messages never quote key material.

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::scalar::IsHigh;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// A key file that could not be used, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// Why a signature was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// Not 64 bytes: truncated or padded.
    Length(usize),
    /// `r` or `s` is zero or not below the group order.
    Malformed,
    /// `s` is in the upper half of the group order (the malleable twin).
    HighS,
    /// Well formed, but not a signature of this message by this key.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Length(n) => write!(
                f,
                "the signature is {n} bytes, expected 64 (truncated or corrupt)"
            ),
            SignatureError::Malformed => {
                f.write_str("the signature is malformed (r or s is zero or out of range)")
            }
            SignatureError::HighS => {
                f.write_str("the signature is not in canonical low-S form (a malleated signature)")
            }
            SignatureError::Mismatch => {
                f.write_str("the signature does not match the signed data and key")
            }
        }
    }
}

impl std::error::Error for SignatureError {}

fn read_pem(
    path: &Path,
    what: &str,
) -> Result<p256::elliptic_curve::zeroize::Zeroizing<String>, KeyError> {
    let bytes = std::fs::read(path).map_err(|e| {
        KeyError(format!(
            "cannot read the {what} {}: {e}; check the path and its permissions",
            path.display()
        ))
    })?;
    String::from_utf8(bytes)
        .map(p256::elliptic_curve::zeroize::Zeroizing::new)
        .map_err(|_| {
            KeyError(format!(
                "{}: binary data, not a PEM file; pass the {what} as PEM (`-----BEGIN {}-----`)",
                path.display(),
                if what == "public key" {
                    "PUBLIC KEY"
                } else {
                    "PRIVATE KEY"
                }
            ))
        })
}

fn pem_label(pem: &str) -> Option<&str> {
    let start = pem.find("-----BEGIN ")? + "-----BEGIN ".len();
    let len = pem[start..].find("-----")?;
    Some(&pem[start..start + len])
}

/// Loads a PKCS#8 PEM private key.
///
/// # Errors
/// A [`KeyError`] naming the file and the fix (for example converting a
/// SEC1 `EC PRIVATE KEY` file with `openssl pkcs8 -topk8 -nocrypt`).
pub fn signing_key_from_file(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = read_pem(path, "private key")?;
    signing_key_from_pem(&pem).map_err(|e| KeyError(format!("{}: {e}", path.display())))
}

/// Loads a PKCS#8 PEM private key from text.
///
/// # Errors
/// As [`signing_key_from_file`].
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    match pem_label(pem) {
        Some("PRIVATE KEY") => SigningKey::from_pkcs8_pem(pem).map_err(|e| {
            KeyError(format!(
                "not an ECDSA P-256 PKCS#8 private key ({e}); create one with `buildtrace keygen` or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`"
            ))
        }),
        Some("EC PRIVATE KEY") => Err(KeyError(
            "a SEC1 `EC PRIVATE KEY` file; convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in <key> -out <key.pkcs8.pem>`".into(),
        )),
        Some("ENCRYPTED PRIVATE KEY") => Err(KeyError(
            "an encrypted private key; decrypt it to a protected location with `openssl pkcs8 -in <key> -out <plain.pem>` (buildtrace does not prompt for passphrases)".into(),
        )),
        Some("PUBLIC KEY") => Err(KeyError(
            "a public key where a private key is needed; pass the private key (`--key`), or use the public key with `verify --pubkey`".into(),
        )),
        Some(other) => Err(KeyError(format!(
            "a PEM `{other}` block, not a PKCS#8 private key (`BEGIN PRIVATE KEY`)"
        ))),
        None => Err(KeyError(
            "not a PEM file (no `-----BEGIN` line); pass a PKCS#8 PEM private key".into(),
        )),
    }
}

/// Loads a public key: a `PUBLIC KEY` PEM, or the public half of a PKCS#8
/// `PRIVATE KEY` PEM.
///
/// # Errors
/// A [`KeyError`] naming the file and the fix.
pub fn verifying_key_from_file(path: &Path) -> Result<VerifyingKey, KeyError> {
    let pem = read_pem(path, "public key")?;
    let key = match pem_label(&pem) {
        Some("PUBLIC KEY") => VerifyingKey::from_public_key_pem(&pem).map_err(|e| {
            KeyError(format!(
                "not an ECDSA P-256 public key ({e}); export one with `openssl pkey -pubout` or use the `.pub` file `buildtrace keygen` wrote"
            ))
        }),
        Some("PRIVATE KEY") => signing_key_from_pem(&pem).map(|k| *k.verifying_key()),
        _ => Err(KeyError(
            "not a `BEGIN PUBLIC KEY` PEM file; pass an ECDSA P-256 public key".into(),
        )),
    };
    key.map_err(|e| KeyError(format!("{}: {e}", path.display())))
}

/// The key id: SHA-256 of the DER `SubjectPublicKeyInfo`.
pub fn key_id(key: &VerifyingKey) -> [u8; 32] {
    let der = key
        .to_public_key_der()
        .expect("a P-256 public key always encodes");
    Sha256::digest(der.as_bytes()).into()
}

/// SHA-256 over the concatenation of `parts`.
pub fn message_digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Signs the SHA-256 of `parts` concatenated; the result is low-S.
pub fn sign(key: &SigningKey, parts: &[&[u8]]) -> [u8; 64] {
    let sig: Signature = key
        .sign_prehash(&message_digest(parts))
        .expect("signing a 32-byte prehash cannot fail");
    sig.normalize_s().to_bytes().into()
}

/// Checks a 64-byte `r ‖ s` signature of the SHA-256 of `parts`.
///
/// # Errors
/// [`SignatureError`] saying why it was rejected.
pub fn verify(key: &VerifyingKey, parts: &[&[u8]], sig: &[u8]) -> Result<(), SignatureError> {
    verify_prehash(key, &message_digest(parts), sig)
}

/// The checks that need no key: 64 bytes, `r` and `s` in range and
/// non-zero, `s` low.
///
/// # Errors
/// [`SignatureError`] saying why it was rejected.
pub fn check_form(sig: &[u8]) -> Result<(), SignatureError> {
    parse(sig).map(drop)
}

fn parse(sig: &[u8]) -> Result<Signature, SignatureError> {
    if sig.len() != 64 {
        return Err(SignatureError::Length(sig.len()));
    }
    let sig = Signature::from_slice(sig).map_err(|_| SignatureError::Malformed)?;
    if bool::from(sig.s().is_high()) {
        return Err(SignatureError::HighS);
    }
    Ok(sig)
}

/// As [`verify`], for a message already hashed.
///
/// # Errors
/// [`SignatureError`] saying why it was rejected.
pub fn verify_prehash(
    key: &VerifyingKey,
    prehash: &[u8; 32],
    sig: &[u8],
) -> Result<(), SignatureError> {
    let sig = parse(sig)?;
    key.verify_prehash(prehash, &sig)
        .map_err(|_| SignatureError::Mismatch)
}
