//! Bounds on the work and memory one inspection may spend on a file.

use crate::provenance::{ALIGN, HEADER_LEN, MAX_PAYLOAD_LEN, SEAL_LEN};

/// The longest record the format allows: header, the largest payload, its
/// padding to [`ALIGN`] and the seal slot.
pub const MAX_RECORD_LEN: usize = HEADER_LEN + MAX_PAYLOAD_LEN + (ALIGN - 1) + SEAL_LEN;

/// Bounds on what [`inspect_path`](super::inspect_path) reads from a file,
/// which is assumed hostile.
///
/// The defaults read any real executable in full and keep memory to a few
/// megabytes whatever the file claims.
///
/// # Examples
///
/// ```
/// let mut limits = buildtrace::inspect::Limits::default();
/// limits.max_scan_bytes = 64 << 20;
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most bytes the magic scan reads, from the start of the file, when no
    /// section carries the record. Default: 256 MiB, which the reader gets
    /// through in a fraction of a second even when the kernel has to fill
    /// it in from a sparse file's holes (a gigabyte can take more than one).
    pub max_scan_bytes: u64,
    /// Longest record accepted, header to seal slot. Default and maximum:
    /// [`MAX_RECORD_LEN`].
    pub max_record_len: usize,
    /// Most section headers examined when looking for the record's section.
    /// Every name read is cached, so this bounds memory on files that claim
    /// absurd section counts. Default: 4096.
    pub max_sections: usize,
    /// Most bytes of ELF note sections read to find the GNU build-id; more,
    /// and the build-id is left out. Default: 1 MiB.
    pub max_note_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_scan_bytes: 256 << 20,
            max_record_len: MAX_RECORD_LEN,
            max_sections: 4096,
            max_note_bytes: 1 << 20,
        }
    }
}
