//! The seal slot: the last [`SEAL_LEN`](crate::provenance::SEAL_LEN) bytes of
//! every record, zeros until a signature is written into it.
//!
//! Two signatures can live in the slot, each optional:
//!
//! - the **payload signature**, made by the build script when it is given a
//!   key: it covers the record header (and through the header's digest, the
//!   payload), so it proves who produced the facts but not which file carries
//!   them;
//! - the **seal**, written by `buildtrace seal` after linking: a SHA-256 of
//!   the whole file with the seal fields canonicalised to zeros, and a
//!   signature over that digest, so it binds the record to the file.
//!
//! This module only lays out and decodes the bytes; it has no dependency and
//! does no cryptography, so the running program can report the seal it
//! carries at no cost. The layout, all offsets from the start of the slot:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 4 | magic `BTSL` |
//! | 4 | 1 | slot version, `1` |
//! | 5 | 1 | flags: `1` payload signature, `2` seal |
//! | 6 | 2 | zero |
//! | 8 | 32 | payload signature: key id |
//! | 40 | 1 | payload signature: length, `64` |
//! | 41 | 64 | payload signature: ECDSA P-256 `r ‖ s` |
//! | 105 | 7 | zero |
//! | 112 | 32 | seal: file digest |
//! | 144 | 32 | seal: key id |
//! | 176 | 1 | seal: signature length, `64` |
//! | 177 | 64 | seal: ECDSA P-256 `r ‖ s` |
//! | 241 | 15 | zero |
//!
//! Bytes 112 to 256 (the seal fields) are the part a seal canonicalises to
//! zeros before hashing the file; everything else in the slot, the flags
//! included, is covered by the seal's digest.

use std::fmt;
use std::ops::Range;

/// `BTSL`.
pub const MAGIC: [u8; 4] = *b"BTSL";
/// The slot layout version this module reads and writes.
pub const VERSION: u8 = 1;
/// Flag: a payload signature is present.
pub const FLAG_PAYLOAD_SIGNED: u8 = 1;
/// Flag: a seal is present.
pub const FLAG_SEALED: u8 = 2;
/// Length of an ECDSA P-256 signature in `r ‖ s` form.
pub const SIGNATURE_LEN: usize = 64;

const FLAGS: usize = 5;
const RESERVED_HEADER: Range<usize> = 6..8;
const PAYLOAD_KEY_ID: Range<usize> = 8..40;
const PAYLOAD_SIG_LEN: usize = 40;
const PAYLOAD_SIG: Range<usize> = 41..105;
const RESERVED_MIDDLE: Range<usize> = 105..112;
/// The seal fields: zeroed in the canonical form of the file.
pub const SEAL_FIELDS: Range<usize> = 112..256;
const SEAL_DIGEST: Range<usize> = 112..144;
const SEAL_KEY_ID: Range<usize> = 144..176;
const SEAL_SIG_LEN: usize = 176;
const SEAL_SIG: Range<usize> = 177..241;
const RESERVED_TAIL: Range<usize> = 241..256;
const LEN: usize = 256;

/// Domain separation for the payload signature: the signed message is
/// `PAYLOAD_CONTEXT ‖ record header (64 bytes)`.
pub const PAYLOAD_CONTEXT: &[u8] = b"buildtrace payload signature v1\0";
/// Domain separation for the seal: the signed message is
/// `SEAL_CONTEXT ‖ file digest ‖ key id`.
pub const SEAL_CONTEXT: &[u8] = b"buildtrace seal v1\0";

/// One signature found in the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature<'a> {
    /// SHA-256 of the signer's public key (DER `SubjectPublicKeyInfo`).
    pub key_id: &'a [u8; 32],
    /// The signature bytes, as long as the slot says (64 when well formed).
    pub bytes: &'a [u8],
}

/// The seal: the file digest and its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seal<'a> {
    /// SHA-256 of the file with the seal fields zeroed.
    pub digest: &'a [u8; 32],
    /// The signature over [`SEAL_CONTEXT`], the digest and the key id.
    pub signature: Signature<'a>,
}

/// A decoded slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot<'a> {
    /// The build-time signature over the record header.
    pub payload: Option<Signature<'a>>,
    /// The post-link seal.
    pub seal: Option<Seal<'a>>,
}

/// Why a slot does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlotError {
    /// Not [`SEAL_LEN`](crate::provenance::SEAL_LEN) bytes.
    Length(usize),
    /// Non-zero bytes without the `BTSL` magic.
    Magic,
    /// A slot version this reader does not know.
    Version(u8),
    /// Flag bits this reader does not know.
    Flags(u8),
    /// A field that must be zero is not; names the field.
    NonZero(&'static str),
    /// A signature length above 64.
    SignatureLength(u8),
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlotError::Length(n) => write!(f, "seal slot is {n} bytes, expected {LEN}"),
            SlotError::Magic => f.write_str("seal slot holds data without the BTSL magic"),
            SlotError::Version(v) => write!(f, "seal slot version {v} is not supported"),
            SlotError::Flags(v) => write!(f, "seal slot flags {v:#04x} are not supported"),
            SlotError::NonZero(field) => write!(f, "seal slot field `{field}` must be zero"),
            SlotError::SignatureLength(n) => {
                write!(f, "seal slot signature length {n} exceeds {SIGNATURE_LEN}")
            }
        }
    }
}

impl std::error::Error for SlotError {}

impl<'a> Slot<'a> {
    /// Decodes a slot. An all-zero slot is a valid, empty one.
    ///
    /// # Errors
    /// [`SlotError`] for anything this version does not define; a slot that
    /// says it is unsealed but carries seal bytes is an error, not a
    /// half-seal.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SlotError> {
        let bytes: &'a [u8; LEN] = bytes
            .try_into()
            .map_err(|_| SlotError::Length(bytes.len()))?;
        if bytes.iter().all(|&b| b == 0) {
            return Ok(Slot::default());
        }
        if bytes[..4] != MAGIC {
            return Err(SlotError::Magic);
        }
        if bytes[4] != VERSION {
            return Err(SlotError::Version(bytes[4]));
        }
        let flags = bytes[FLAGS];
        if flags & !(FLAG_PAYLOAD_SIGNED | FLAG_SEALED) != 0 {
            return Err(SlotError::Flags(flags));
        }
        zero(bytes, RESERVED_HEADER, "reserved")?;
        zero(bytes, RESERVED_MIDDLE, "reserved")?;
        zero(bytes, RESERVED_TAIL, "reserved")?;
        let payload = if flags & FLAG_PAYLOAD_SIGNED != 0 {
            Some(signature(
                bytes,
                PAYLOAD_KEY_ID,
                PAYLOAD_SIG_LEN,
                PAYLOAD_SIG,
            )?)
        } else {
            zero(
                bytes,
                PAYLOAD_KEY_ID.start..PAYLOAD_SIG.end,
                "payload signature",
            )?;
            None
        };
        let seal = if flags & FLAG_SEALED != 0 {
            Some(Seal {
                digest: bytes[SEAL_DIGEST].try_into().expect("32-byte range"),
                signature: signature(bytes, SEAL_KEY_ID, SEAL_SIG_LEN, SEAL_SIG)?,
            })
        } else {
            zero(bytes, SEAL_FIELDS, "seal")?;
            None
        };
        Ok(Slot { payload, seal })
    }

    /// Whether neither signature is present.
    pub fn is_empty(&self) -> bool {
        self.payload.is_none() && self.seal.is_none()
    }
}

fn zero(bytes: &[u8; LEN], range: Range<usize>, field: &'static str) -> Result<(), SlotError> {
    if bytes[range].iter().all(|&b| b == 0) {
        Ok(())
    } else {
        Err(SlotError::NonZero(field))
    }
}

fn signature<'a>(
    bytes: &'a [u8; LEN],
    key_id: Range<usize>,
    len_at: usize,
    sig: Range<usize>,
) -> Result<Signature<'a>, SlotError> {
    let len = bytes[len_at];
    if usize::from(len) > SIGNATURE_LEN {
        return Err(SlotError::SignatureLength(len));
    }
    let (used, rest) = bytes[sig].split_at(usize::from(len));
    if rest.iter().any(|&b| b != 0) {
        return Err(SlotError::NonZero("signature padding"));
    }
    Ok(Signature {
        key_id: bytes[key_id].try_into().expect("32-byte range"),
        bytes: used,
    })
}

/// Writes the slot header (magic, version) if the slot is empty and sets
/// `flag`.
fn mark(slot: &mut [u8; LEN], flag: u8) {
    slot[..4].copy_from_slice(&MAGIC);
    slot[4] = VERSION;
    slot[FLAGS] |= flag;
}

/// Writes a payload signature into `slot`, keeping any seal fields.
pub fn write_payload_signature(slot: &mut [u8; LEN], key_id: &[u8; 32], sig: &[u8; 64]) {
    mark(slot, FLAG_PAYLOAD_SIGNED);
    slot[PAYLOAD_KEY_ID].copy_from_slice(key_id);
    slot[PAYLOAD_SIG_LEN] = SIGNATURE_LEN as u8;
    slot[PAYLOAD_SIG].copy_from_slice(sig);
}

/// Prepares `slot` for sealing: marks it sealed and zeroes the seal fields,
/// which is the canonical form the file digest is computed over.
pub fn prepare_seal(slot: &mut [u8; LEN]) {
    mark(slot, FLAG_SEALED);
    slot[SEAL_FIELDS].fill(0);
}

/// Writes the seal fields into a slot [`prepare_seal`] has prepared.
pub fn write_seal(slot: &mut [u8; LEN], digest: &[u8; 32], key_id: &[u8; 32], sig: &[u8; 64]) {
    slot[SEAL_DIGEST].copy_from_slice(digest);
    slot[SEAL_KEY_ID].copy_from_slice(key_id);
    slot[SEAL_SIG_LEN] = SIGNATURE_LEN as u8;
    slot[SEAL_SIG].copy_from_slice(sig);
}

/// Field offsets within the slot, for tests and tools that flip bytes.
pub mod offsets {
    use std::ops::Range;
    /// The flags byte.
    pub const FLAGS: usize = super::FLAGS;
    /// Payload signature key id.
    pub const PAYLOAD_KEY_ID: Range<usize> = super::PAYLOAD_KEY_ID;
    /// Payload signature length byte.
    pub const PAYLOAD_SIG_LEN: usize = super::PAYLOAD_SIG_LEN;
    /// Payload signature bytes.
    pub const PAYLOAD_SIG: Range<usize> = super::PAYLOAD_SIG;
    /// Seal digest.
    pub const SEAL_DIGEST: Range<usize> = super::SEAL_DIGEST;
    /// Seal key id.
    pub const SEAL_KEY_ID: Range<usize> = super::SEAL_KEY_ID;
    /// Seal signature length byte.
    pub const SEAL_SIG_LEN: usize = super::SEAL_SIG_LEN;
    /// Seal signature bytes.
    pub const SEAL_SIG: Range<usize> = super::SEAL_SIG;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_slot_is_valid_and_empty() {
        let s = Slot::parse(&[0; LEN]).unwrap();
        assert!(s.is_empty());
    }

    #[test]
    fn written_fields_read_back() {
        let mut slot = [0u8; LEN];
        write_payload_signature(&mut slot, &[1; 32], &[2; 64]);
        prepare_seal(&mut slot);
        write_seal(&mut slot, &[3; 32], &[4; 32], &[5; 64]);
        let s = Slot::parse(&slot).unwrap();
        let p = s.payload.unwrap();
        assert_eq!((p.key_id, p.bytes), (&[1; 32], &[2; 64][..]));
        let seal = s.seal.unwrap();
        assert_eq!(seal.digest, &[3; 32]);
        assert_eq!(seal.signature.key_id, &[4; 32]);
        assert_eq!(seal.signature.bytes, &[5; 64][..]);
        // Sealing again keeps the payload signature and clears the seal.
        prepare_seal(&mut slot);
        let s = Slot::parse(&slot).unwrap();
        assert!(s.payload.is_some());
        assert_eq!(s.seal.unwrap().digest, &[0; 32]);
        assert!(s.seal.unwrap().signature.bytes.is_empty());
    }

    #[test]
    fn malformed_slots_are_refused() {
        let mut slot = [0u8; LEN];
        slot[200] = 1;
        assert_eq!(Slot::parse(&slot), Err(SlotError::Magic));
        let mut slot = [0u8; LEN];
        prepare_seal(&mut slot);
        slot[4] = 2;
        assert_eq!(Slot::parse(&slot), Err(SlotError::Version(2)));
        slot[4] = VERSION;
        slot[FLAGS] = 0x80 | FLAG_SEALED;
        assert_eq!(Slot::parse(&slot), Err(SlotError::Flags(0x82)));
        slot[FLAGS] = FLAG_SEALED;
        slot[SEAL_SIG_LEN] = 65;
        assert_eq!(Slot::parse(&slot), Err(SlotError::SignatureLength(65)));
        slot[SEAL_SIG_LEN] = 63;
        slot[SEAL_SIG.end - 1] = 9;
        assert_eq!(
            Slot::parse(&slot),
            Err(SlotError::NonZero("signature padding"))
        );
        // Seal bytes under a flag that says "not sealed".
        let mut slot = [0u8; LEN];
        write_payload_signature(&mut slot, &[1; 32], &[2; 64]);
        slot[SEAL_DIGEST.start] = 1;
        assert_eq!(Slot::parse(&slot), Err(SlotError::NonZero("seal")));
        assert_eq!(Slot::parse(&[0; 255]), Err(SlotError::Length(255)));
    }
}
