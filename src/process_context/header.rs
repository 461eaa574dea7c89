//! The 32-byte header at the start of an `OTEL_CTX` mapping, byte by byte
//! (OTEP 4719, version 2), in the byte order of the host (little-endian on
//! every target buildtrace supports).
//!
//! | offset | size | field | meaning |
//! |---|---|---|---|
//! | 0 | 8 | `signature` | `OTEL_CTX`, no NUL |
//! | 8 | 4 | `version` | 2 |
//! | 12 | 4 | `payload_size` | bytes of protobuf at `payload` |
//! | 16 | 8 | `monotonic_published_at_ns` | `CLOCK_BOOTTIME` in ns when published; 0 while being changed |
//! | 24 | 8 | `payload` | address of the payload in the publisher's memory |
//!
//! Pure: no I/O and no `unsafe`, shared by the publisher and the reader.

/// The mapping's name and the header's first 8 bytes.
pub const SIGNATURE: [u8; 8] = *b"OTEL_CTX";
/// The header version this crate writes and reads.
pub const VERSION: u32 = 2;
/// The header's size in bytes.
pub const HEADER_LEN: usize = 32;
/// The largest payload a reader accepts: the OpenTelemetry eBPF profiler's
/// limit, which the publisher keeps to as well.
pub const MAX_PAYLOAD: u32 = 65_536;

/// Byte offsets of the header's fields.
pub mod offset {
    /// `signature`, 8 bytes.
    pub const SIGNATURE: usize = 0;
    /// `version`, u32.
    pub const VERSION: usize = 8;
    /// `payload_size`, u32.
    pub const PAYLOAD_SIZE: usize = 12;
    /// `monotonic_published_at_ns`, u64.
    pub const PUBLISHED_AT: usize = 16;
    /// `payload`, u64 address.
    pub const PAYLOAD: usize = 24;
}

/// The names a process context's mapping has in `/proc/PID/maps`: an
/// anonymous mapping named with `PR_SET_VMA_ANON_NAME` (private or shared),
/// or a `memfd_create` file (whose descriptor was closed).
pub const MAPPING_NAMES: [&str; 4] = [
    "[anon:OTEL_CTX]",
    "[anon_shmem:OTEL_CTX]",
    "/memfd:OTEL_CTX",
    "/memfd:OTEL_CTX (deleted)",
];

/// A header's fields, decoded but not yet judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The first 8 bytes; [`SIGNATURE`] in a valid header.
    pub signature: [u8; 8],
    /// [`VERSION`] in a header this crate understands.
    pub version: u32,
    /// The payload's length in bytes.
    pub payload_size: u32,
    /// `CLOCK_BOOTTIME` nanoseconds at publication; 0 while the publisher
    /// changes the context.
    pub published_at_ns: u64,
    /// The payload's address in the publisher's memory.
    pub payload: u64,
}

impl Header {
    /// The header's 32 bytes, host byte order.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[offset::SIGNATURE..offset::VERSION].copy_from_slice(&self.signature);
        out[offset::VERSION..offset::PAYLOAD_SIZE].copy_from_slice(&self.version.to_ne_bytes());
        out[offset::PAYLOAD_SIZE..offset::PUBLISHED_AT]
            .copy_from_slice(&self.payload_size.to_ne_bytes());
        out[offset::PUBLISHED_AT..offset::PAYLOAD]
            .copy_from_slice(&self.published_at_ns.to_ne_bytes());
        out[offset::PAYLOAD..].copy_from_slice(&self.payload.to_ne_bytes());
        out
    }

    /// Decodes the fields of the first [`HEADER_LEN`] bytes, or `None` when
    /// `bytes` is shorter.
    pub fn decode(bytes: &[u8]) -> Option<Header> {
        let bytes: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        let u32_at = |at: usize| {
            u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_ne_bytes(b)
        };
        let mut signature = [0u8; 8];
        signature.copy_from_slice(&bytes[..8]);
        Some(Header {
            signature,
            version: u32_at(offset::VERSION),
            payload_size: u32_at(offset::PAYLOAD_SIZE),
            published_at_ns: u64_at(offset::PUBLISHED_AT),
            payload: u64_at(offset::PAYLOAD),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_otep_layout_field_by_field() {
        let header = Header {
            signature: SIGNATURE,
            version: VERSION,
            payload_size: 0x0102_0304,
            published_at_ns: 0x1112_1314_1516_1718,
            payload: 0x2122_2324_2526_2728,
        };
        let bytes = header.encode();
        assert_eq!(&bytes[0..8], b"OTEL_CTX");
        assert_eq!(bytes[8..12], 2u32.to_ne_bytes());
        assert_eq!(bytes[12..16], 0x0102_0304u32.to_ne_bytes());
        assert_eq!(bytes[16..24], 0x1112_1314_1516_1718u64.to_ne_bytes());
        assert_eq!(bytes[24..32], 0x2122_2324_2526_2728u64.to_ne_bytes());
        #[cfg(target_endian = "little")]
        assert_eq!(
            bytes,
            *b"OTEL_CTX\x02\0\0\0\x04\x03\x02\x01\x18\x17\x16\x15\x14\x13\x12\x11\x28\x27\x26\x25\x24\x23\x22\x21"
        );
        assert_eq!(Header::decode(&bytes), Some(header));
    }

    #[test]
    fn a_short_header_does_not_decode() {
        assert_eq!(Header::decode(&[0u8; HEADER_LEN - 1]), None);
        assert!(Header::decode(&[0u8; HEADER_LEN + 5]).is_some());
    }
}
