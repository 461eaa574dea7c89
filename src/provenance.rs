//! The provenance record: its binary layout, encoding and zero-copy decoding.
//!
//! A record is one contiguous, 16-byte aligned block of bytes that lives in a
//! dedicated linker section of the binary (see [`crate::embed`]) and is read
//! two ways: by the running program straight from its own memory, and by the
//! offline reader from the file. This module owns the layout and nothing else:
//! no I/O, no allocation when decoding, no dependency. `FORMAT.md` at the root
//! of the repository is the normative description; the constants here are the
//! same numbers.
//!
//! ```text
//! offset  size  field
//!      0     8  magic            89 42 54 52 41 43 45 1a  ("\x89BTRACE\x1a")
//!      8     2  version          1
//!     10     2  header length    64
//!     12     4  total length     header + payload + padding + seal slot, a multiple of 16
//!     16     4  payload length
//!     20     4  seal offset      from the start of the record, 16-aligned
//!     24     4  seal length      256
//!     28     4  flags            0 (reserved)
//!     32    32  payload SHA-256
//!     64     …  payload          entries, sorted by key, keys unique
//!      …     …  zero padding to a multiple of 16
//!      …   256  seal slot        zeros until `buildtrace seal` writes it
//! ```
//!
//! An entry is `kind: u8`, `key length: u8`, `value length: u16`, the key
//! (ASCII, an OpenTelemetry attribute name), then the value: UTF-8 text for
//! kind `s`, one byte 0/1 for kind `b`, eight bytes of a little-endian `i64`
//! for kind `i`. All integers are little-endian.

use crate::names;
use core::fmt;

/// The eight bytes a record starts with.
pub const MAGIC: [u8; 8] = *b"\x89BTRACE\x1a";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Length of the fixed header.
pub const HEADER_LEN: usize = 64;
/// Alignment of the record in the binary; the offline scan steps by it.
pub const ALIGN: usize = 16;
/// Length of the seal slot reserved at the end of every record.
pub const SEAL_LEN: usize = 256;
/// Longest value the encoder keeps; longer text is cut on a character
/// boundary and ends with [`TRUNCATION_MARK`].
pub const MAX_VALUE_LEN: usize = 1024;
/// Longest payload a reader accepts.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024;
/// Most entries a reader accepts.
pub const MAX_ENTRIES: usize = 512;
/// Appended to a value cut at [`MAX_VALUE_LEN`].
pub const TRUNCATION_MARK: &str = "…[truncated]";

const KIND_STR: u8 = b's';
const KIND_BOOL: u8 = b'b';
const KIND_INT: u8 = b'i';

/// The facts the provenance ID is computed over: the build's *inputs*, never
/// its wall-clock time, its paths or its CI run, so that two reproducible
/// builds of the same source with the same toolchain share it.
pub const ID_INPUTS: &[&str] = &[
    names::SERVICE_NAME,
    names::SERVICE_VERSION,
    names::VCS_REF_HEAD_REVISION,
    names::GIT_DIRTY,
    names::GIT_DIRTY_DIGEST,
    names::PROCESS_RUNTIME_VERSION,
    names::RUSTC_COMMIT_HASH,
    names::RUSTC_LLVM_VERSION,
    names::TARGET_TRIPLE,
    names::BUILD_PROFILE,
    names::BUILD_OPT_LEVEL,
    names::BUILD_DEBUG,
    names::BUILD_FEATURES,
    names::LOCK_SHA256,
];

/// A typed value of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// UTF-8 text.
    Str(&'a str),
    /// A flag.
    Bool(bool),
    /// A signed integer.
    Int(i64),
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
        }
    }
}

/// One attribute of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The attribute name.
    pub key: &'a str,
    /// The attribute value.
    pub value: Value<'a>,
}

/// What is wrong with a block of bytes that should be a record.
///
/// Each variant names the field that failed; readers add the file and a remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// Fewer bytes than the fixed header.
    TooShort,
    /// The first eight bytes are not [`MAGIC`].
    BadMagic,
    /// A version this reader does not know.
    UnsupportedVersion(u16),
    /// A length field disagrees with the layout or the bytes available.
    BadLength(&'static str),
    /// The payload is not a well-formed sequence of entries.
    BadEntry(&'static str),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::TooShort => f.write_str("record shorter than its 64-byte header"),
            FormatError::BadMagic => f.write_str("record does not start with the buildtrace magic"),
            FormatError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "record format version {v} (this reader knows version {VERSION})"
                )
            }
            FormatError::BadLength(what) => write!(f, "record {what} is out of bounds"),
            FormatError::BadEntry(what) => write!(f, "record payload is malformed: {what}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// A validated view of a record, borrowing its bytes. Decoding validates every
/// entry once and keeps a sorted index of them, so a lookup is a binary search
/// and reads no byte twice.
#[derive(Clone)]
pub struct Record<'a> {
    bytes: &'a [u8],
    payload: &'a [u8],
    seal: &'a [u8],
    entries: Vec<Entry<'a>>,
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries().map(|e| (e.key, e.value)))
            .finish()
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

impl<'a> Record<'a> {
    /// Validates the header and every entry of the record at the start of
    /// `bytes`; trailing bytes after the record's total length are ignored.
    ///
    /// # Errors
    /// A [`FormatError`] naming the first field that is wrong.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FormatError> {
        let header = bytes.get(..HEADER_LEN).ok_or(FormatError::TooShort)?;
        if header[..8] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = u16_at(header, 8).ok_or(FormatError::TooShort)?;
        if version != VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let header_len = u16_at(header, 10).ok_or(FormatError::TooShort)? as usize;
        let total = u32_at(header, 12).ok_or(FormatError::TooShort)?;
        let payload_len = u32_at(header, 16).ok_or(FormatError::TooShort)?;
        let seal_offset = u32_at(header, 20).ok_or(FormatError::TooShort)?;
        let seal_len = u32_at(header, 24).ok_or(FormatError::TooShort)?;
        if header_len != HEADER_LEN {
            return Err(FormatError::BadLength("header length"));
        }
        if payload_len > MAX_PAYLOAD_LEN {
            return Err(FormatError::BadLength("payload length"));
        }
        if seal_len != SEAL_LEN {
            return Err(FormatError::BadLength("seal length"));
        }
        let payload_end = HEADER_LEN + payload_len;
        if seal_offset < payload_end
            || seal_offset % ALIGN != 0
            || seal_offset - payload_end >= ALIGN
        {
            return Err(FormatError::BadLength("seal offset"));
        }
        if total != seal_offset + seal_len {
            return Err(FormatError::BadLength("total length"));
        }
        let bytes = bytes
            .get(..total)
            .ok_or(FormatError::BadLength("total length"))?;
        let payload = &bytes[HEADER_LEN..payload_end];
        Ok(Record {
            bytes,
            payload,
            seal: &bytes[seal_offset..total],
            entries: decode_entries(payload)?,
        })
    }

    /// The whole record, header to seal slot.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The payload bytes the header digest covers.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The SHA-256 of the payload as written by the encoder.
    pub fn payload_digest(&self) -> &'a [u8] {
        &self.bytes[32..64]
    }

    /// The seal slot: all zeros until the file is sealed.
    pub fn seal_slot(&self) -> &'a [u8] {
        self.seal
    }

    /// The entries, in key order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = Entry<'a>> + '_ {
        self.entries.iter().copied()
    }

    /// The value of one attribute.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        let i = self.entries.binary_search_by(|e| e.key.cmp(key)).ok()?;
        Some(self.entries[i].value)
    }

    /// The text value of one attribute, if it is text.
    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The reproducible provenance ID (`buildtrace.id`).
    pub fn id(&self) -> Option<&'a str> {
        self.get_str(names::ID)
    }
}

fn decode_entries(mut rest: &[u8]) -> Result<Vec<Entry<'_>>, FormatError> {
    let mut entries: Vec<Entry<'_>> = Vec::new();
    while !rest.is_empty() {
        let (entry, tail) = decode_entry(rest)?;
        if entries.last().is_some_and(|p| p.key >= entry.key) {
            return Err(FormatError::BadEntry("keys not sorted or not unique"));
        }
        if entries.len() == MAX_ENTRIES {
            return Err(FormatError::BadEntry("too many entries"));
        }
        entries.push(entry);
        rest = tail;
    }
    Ok(entries)
}

fn decode_entry(b: &[u8]) -> Result<(Entry<'_>, &[u8]), FormatError> {
    let head = b
        .get(..4)
        .ok_or(FormatError::BadEntry("entry header cut short"))?;
    let kind = head[0];
    let key_len = head[1] as usize;
    let value_len = u16::from_le_bytes([head[2], head[3]]) as usize;
    let key = b
        .get(4..4 + key_len)
        .ok_or(FormatError::BadEntry("key cut short"))?;
    let value = b
        .get(4 + key_len..4 + key_len + value_len)
        .ok_or(FormatError::BadEntry("value cut short"))?;
    if key.is_empty() || !key.iter().all(|c| c.is_ascii_graphic()) {
        return Err(FormatError::BadEntry("key is not a printable ASCII name"));
    }
    // Checked just above: ASCII is UTF-8.
    let key = core::str::from_utf8(key).map_err(|_| FormatError::BadEntry("key is not ASCII"))?;
    let value = match kind {
        KIND_STR => Value::Str(
            core::str::from_utf8(value)
                .map_err(|_| FormatError::BadEntry("text value is not UTF-8"))?,
        ),
        KIND_BOOL => match value {
            [0] => Value::Bool(false),
            [1] => Value::Bool(true),
            _ => return Err(FormatError::BadEntry("flag value is not 0 or 1")),
        },
        KIND_INT => {
            Value::Int(i64::from_le_bytes(value.try_into().map_err(|_| {
                FormatError::BadEntry("integer value is not 8 bytes")
            })?))
        }
        _ => return Err(FormatError::BadEntry("unknown value kind")),
    };
    Ok((Entry { key, value }, &b[4 + key_len + value_len..]))
}

/// An owned value, for building a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedValue {
    /// UTF-8 text.
    Str(String),
    /// A flag.
    Bool(bool),
    /// A signed integer.
    Int(i64),
}

impl OwnedValue {
    /// Borrows as a [`Value`].
    pub fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::Str(s) => Value::Str(s),
            OwnedValue::Bool(b) => Value::Bool(*b),
            OwnedValue::Int(i) => Value::Int(*i),
        }
    }
}

/// Cuts `s` to at most [`MAX_VALUE_LEN`] bytes on a character boundary,
/// marking the cut.
pub fn cap_value(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= MAX_VALUE_LEN {
        return s.into();
    }
    let mut end = MAX_VALUE_LEN - TRUNCATION_MARK.len();
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{TRUNCATION_MARK}", &s[..end]).into()
}

/// Encodes entries as a payload (sorted by key, as the map iterates).
///
/// # Panics
/// If a key is empty, longer than 255 bytes or not printable ASCII: keys are
/// attribute names chosen by the program, never input.
pub fn encode_payload(entries: &std::collections::BTreeMap<String, OwnedValue>) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in entries {
        assert!(
            !key.is_empty() && key.len() <= 255 && key.bytes().all(|c| c.is_ascii_graphic()),
            "invalid record key {key:?}"
        );
        let (kind, bytes): (u8, std::borrow::Cow<'_, [u8]>) = match value {
            OwnedValue::Str(s) => (KIND_STR, cap_bytes(s)),
            OwnedValue::Bool(b) => (KIND_BOOL, vec![u8::from(*b)].into()),
            OwnedValue::Int(i) => (KIND_INT, i.to_le_bytes().to_vec().into()),
        };
        out.push(kind);
        out.push(key.len() as u8);
        out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

fn cap_bytes(s: &str) -> std::borrow::Cow<'_, [u8]> {
    match cap_value(s) {
        std::borrow::Cow::Borrowed(b) => b.as_bytes().into(),
        std::borrow::Cow::Owned(o) => o.into_bytes().into(),
    }
}

/// Wraps a payload in a header and an empty seal slot. `sha256` is passed in
/// so that this module stays free of dependencies.
///
/// # Panics
/// If the payload is longer than [`MAX_PAYLOAD_LEN`].
pub fn encode_record(payload: &[u8], sha256: impl Fn(&[u8]) -> [u8; 32]) -> Vec<u8> {
    assert!(payload.len() <= MAX_PAYLOAD_LEN, "record payload too large");
    let payload_end = HEADER_LEN + payload.len();
    let seal_offset = payload_end.next_multiple_of(ALIGN);
    let total = seal_offset + SEAL_LEN;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(HEADER_LEN as u16).to_le_bytes());
    for n in [total, payload.len(), seal_offset, SEAL_LEN, 0] {
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(&sha256(payload));
    out.extend_from_slice(payload);
    out.resize(total, 0);
    out
}

/// Computes the provenance ID over the [`ID_INPUTS`] present in `entries`:
/// the first 16 bytes of the SHA-256 of their encoded payload, in hex.
pub fn provenance_id(
    entries: &std::collections::BTreeMap<String, OwnedValue>,
    sha256: impl Fn(&[u8]) -> [u8; 32],
) -> String {
    let inputs: std::collections::BTreeMap<String, OwnedValue> = entries
        .iter()
        .filter(|(k, _)| ID_INPUTS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    hex(&sha256(&encode_payload(&inputs))[..16])
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn fake_sha(b: &[u8]) -> [u8; 32] {
        // Not a cryptographic hash: every input byte reaches every output byte.
        let mut out = [0u8; 32];
        for x in b {
            for (j, o) in out.iter_mut().enumerate() {
                *o = o.wrapping_mul(31).wrapping_add(x ^ j as u8);
            }
        }
        out
    }

    fn sample() -> BTreeMap<String, OwnedValue> {
        let mut m = BTreeMap::new();
        m.insert("b.flag".into(), OwnedValue::Bool(true));
        m.insert("a.text".into(), OwnedValue::Str("héllo".into()));
        m.insert("c.int".into(), OwnedValue::Int(-7));
        m
    }

    #[test]
    fn round_trip_keeps_order_types_and_alignment() {
        let bytes = encode_record(&encode_payload(&sample()), fake_sha);
        assert_eq!(bytes.len() % ALIGN, 0);
        let r = Record::parse(&bytes).unwrap();
        let got: Vec<_> = r.entries().map(|e| (e.key, e.value)).collect();
        assert_eq!(
            got,
            [
                ("a.text", Value::Str("héllo")),
                ("b.flag", Value::Bool(true)),
                ("c.int", Value::Int(-7))
            ]
        );
        assert_eq!(r.seal_slot(), &[0u8; SEAL_LEN][..]);
        assert_eq!(r.payload_digest(), &fake_sha(r.payload())[..]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = encode_record(&encode_payload(&sample()), fake_sha);
        for len in 0..bytes.len() {
            assert!(
                Record::parse(&bytes[..len]).is_err(),
                "accepted a record cut at {len}"
            );
        }
    }

    #[test]
    fn every_single_byte_corruption_of_the_header_is_caught_or_harmless() {
        let good = encode_record(&encode_payload(&sample()), fake_sha);
        for at in 0..32 {
            for bit in 0..8 {
                let mut b = good.clone();
                b[at] ^= 1 << bit;
                // Flags (28..32) are reserved and not checked; everything else must fail.
                let res = Record::parse(&b);
                if (28..32).contains(&at) {
                    assert!(res.is_ok());
                } else {
                    assert!(res.is_err(), "flip of bit {bit} at {at} accepted");
                }
            }
        }
    }

    #[test]
    fn payload_corruptions_never_panic() {
        let good = encode_record(&encode_payload(&sample()), fake_sha);
        for at in HEADER_LEN..good.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut b = good.clone();
                b[at] = v;
                if let Ok(r) = Record::parse(&b) {
                    // Whatever parses is consistent: every entry can be looked up.
                    assert!(r.entries().len() <= MAX_ENTRIES);
                    for e in r.entries() {
                        assert_eq!(r.get(e.key), Some(e.value));
                    }
                }
            }
        }
    }

    #[test]
    fn long_values_are_capped_on_a_char_boundary_with_a_mark() {
        let long = "é".repeat(MAX_VALUE_LEN);
        let capped = cap_value(&long);
        assert!(capped.len() <= MAX_VALUE_LEN);
        assert!(capped.ends_with(TRUNCATION_MARK));
        assert_eq!(cap_value("short"), "short");
    }

    #[test]
    fn id_ignores_non_inputs_and_changes_with_inputs() {
        let mut a = sample();
        a.insert(
            names::VCS_REF_HEAD_REVISION.into(),
            OwnedValue::Str("abc".into()),
        );
        let id = provenance_id(&a, fake_sha);
        a.insert(names::BUILD_TIME.into(), OwnedValue::Str("2020".into()));
        assert_eq!(provenance_id(&a, fake_sha), id);
        a.insert(
            names::VCS_REF_HEAD_REVISION.into(),
            OwnedValue::Str("abd".into()),
        );
        assert_ne!(provenance_id(&a, fake_sha), id);
        assert_eq!(id.len(), 32);
    }
}
