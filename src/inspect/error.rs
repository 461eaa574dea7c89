//! What can go wrong when inspecting a file, each with a remedy.

use crate::provenance::FormatError;

use super::{Format, Location};

/// Why a file could not be inspected.
///
/// Messages name the problem, then, after `; `, what to do about it. They do
/// not repeat the path: callers add it (the CLI prints
/// `buildtrace: <path>: <message>`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// Opening, reading or seeking failed.
    #[error("cannot read the file: {error}; check the path and its permissions")]
    Io {
        /// The underlying error.
        error: std::io::Error,
    },
    /// The path names a directory, FIFO, socket or device.
    #[error("{kind}, not a regular file; pass the path of an executable file")]
    NotAFile {
        /// What it is instead, such as "a directory".
        kind: &'static str,
    },
    /// The file is none of the formats the reader knows.
    #[error(
        "not an executable (ELF, Mach-O or PE): {reason}; pass a program, library or object file"
    )]
    NotExecutable {
        /// What the file looked like.
        reason: &'static str,
    },
    /// The file has the right header but its structure is broken.
    #[error("malformed {format} file: {reason}; the file is truncated or corrupt, rebuild it or copy it again")]
    Malformed {
        /// The format its header announced.
        format: Format,
        /// What failed, as the parser reported it.
        reason: String,
    },
    /// A valid file of a kind this operation does not handle.
    #[error("{what} is not supported here; {remedy}")]
    Unsupported {
        /// What the file is.
        what: &'static str,
        /// What to do instead.
        remedy: &'static str,
    },
    /// The record's section exists but occupies no bytes of the file.
    #[error("section `{section}` has no data in the file; rebuild the binary with `buildtrace::embed!()`")]
    EmptySection {
        /// The section name.
        section: &'static str,
    },
    /// The section or file holds a record that does not validate.
    #[error("malformed record in {location}: {error}; {}", remedy(error))]
    BadRecord {
        /// Where the record was.
        location: Location,
        /// The field that failed.
        error: FormatError,
    },
    /// The record's payload does not hash to the digest in its header.
    #[error("record payload digest mismatch in {location}: the file was modified after build; rebuild it or use an unmodified copy")]
    DigestMismatch {
        /// Where the record was.
        location: Location,
    },
    /// Neither a section nor the magic scan of the whole file found a record.
    #[error("no buildtrace section and no record in {scanned} bytes scanned: was the binary built with `buildtrace::embed!()`?")]
    NoRecord {
        /// Bytes scanned: the whole file.
        scanned: u64,
    },
    /// The magic scan stopped at [`Limits::max_scan_bytes`](super::Limits::max_scan_bytes).
    #[error("no buildtrace section and no record in the first {scanned} bytes (the scan limit): was the binary built with `buildtrace::embed!()`? If so, raise the scan limit")]
    ScanLimit {
        /// Bytes scanned: the limit.
        scanned: u64,
    },
}

impl InspectError {
    /// Whether the file was read and simply carries no record (as opposed to
    /// being unreadable or malformed).
    pub fn is_no_record(&self) -> bool {
        matches!(
            self,
            InspectError::NoRecord { .. } | InspectError::ScanLimit { .. }
        )
    }
}

impl From<std::io::Error> for InspectError {
    fn from(error: std::io::Error) -> Self {
        InspectError::Io { error }
    }
}

fn remedy(error: &FormatError) -> &'static str {
    match error {
        FormatError::UnsupportedVersion(_) => "inspect it with a newer buildtrace",
        _ => "the file is corrupt or was modified after build, rebuild it",
    }
}
