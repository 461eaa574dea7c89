//! The offline reader: find, validate and render the record of a file.
//!
//! The running program reads its record from memory; everyone else — a
//! release pipeline, an incident responder, `buildtrace inspect` — reads it
//! from the file. Every file is treated as hostile:
//!
//! - nothing reads the whole file into memory: headers and sections come
//!   through `object`'s on-demand [`ReadCache`](object::read::ReadCache), and
//!   the magic scan streams the file in bounded chunks;
//! - every read is bounded by [`Limits`], and declared lengths are checked
//!   before anything is allocated;
//! - the record must parse ([`Record::parse`]) and its payload must hash to
//!   the SHA-256 in its header, wherever it was found.
//!
//! The record is looked up first by its section name ([`SECTION_ELF`],
//! [`SECTION_MACHO`], [`SECTION_PE`]); a section that exists but is broken is
//! an error, not a reason to guess. Without the section — renamed, merged by
//! a linker script, or a format we do not parse — the file is scanned for the
//! record's magic at every [`ALIGN`]-byte offset. A file that *is* a record
//! (`$OUT_DIR/buildtrace.bin`) is accepted too.
//!
//! [`render`] turns an [`Inspection`] into the three outputs of the CLI.
//!
//! # Examples
//!
//! ```no_run
//! use buildtrace::inspect::{inspect_path, Limits};
//!
//! let found = inspect_path("target/release/app".as_ref(), &Limits::default())?;
//! println!("{:?}", found.record().id());
//! # Ok::<(), buildtrace::inspect::InspectError>(())
//! ```
//!
//! [`SECTION_ELF`]: crate::embed::SECTION_ELF
//! [`SECTION_MACHO`]: crate::embed::SECTION_MACHO
//! [`SECTION_PE`]: crate::embed::SECTION_PE
//! [`ALIGN`]: crate::provenance::ALIGN
#![forbid(unsafe_code)]

pub mod auditable;
mod error;
mod limits;
mod locate;
pub mod render;

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::attributes::{resource_attributes, Attribute, ExecutableFacts};
use crate::provenance::Record;

pub use error::InspectError;
pub use limits::{Limits, MAX_RECORD_LEN};

/// The container format of an inspected file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// ELF (Linux, the BSDs, Android …), executable or relocatable.
    Elf,
    /// Mach-O (macOS, iOS …); of a universal file, the first architecture.
    MachO,
    /// PE (Windows executables and DLLs) or COFF objects.
    Pe,
    /// A bare record, as the build script writes it to `$OUT_DIR`.
    RawRecord,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Elf => "ELF",
            Format::MachO => "Mach-O",
            Format::Pe => "PE",
            Format::RawRecord => "raw record",
        })
    }
}

/// How the record was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// At the start of the section `name`, at file `offset`.
    Section {
        /// The section name, as in [`embed`](crate::embed).
        name: &'static str,
        /// The file offset of the record.
        offset: u64,
    },
    /// By scanning the file for the magic; a raw record is found at offset 0.
    MagicScan {
        /// The file offset of the record.
        offset: u64,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Section { name, offset } => {
                write!(f, "section `{name}` at offset {offset}")
            }
            Location::MagicScan { offset } => write!(f, "magic scan at offset {offset}"),
        }
    }
}

/// A validated record and the facts about the file it was found in.
#[derive(Clone)]
pub struct Inspection {
    format: Format,
    location: Location,
    record: Vec<u8>,
    facts: ExecutableFacts,
}

impl fmt::Debug for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inspection")
            .field("format", &self.format)
            .field("location", &self.location)
            .field("record", &self.record())
            .field("facts", &self.facts)
            .finish()
    }
}

impl Inspection {
    /// The container format of the file.
    pub fn format(&self) -> Format {
        self.format
    }

    /// How the record was found.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The record's bytes, header to seal slot.
    pub fn record_bytes(&self) -> &[u8] {
        &self.record
    }

    /// The decoded record.
    pub fn record(&self) -> Record<'_> {
        // The bytes are private and were validated by `Record::parse` before
        // this value was built, so parsing them again cannot fail.
        Record::parse(&self.record).expect("record validated when the inspection was made")
    }

    /// Facts about the file itself: name, GNU build-id, `htlhash`.
    pub fn facts(&self) -> &ExecutableFacts {
        &self.facts
    }

    /// The resource attributes the running program would report, sorted by
    /// key, each key once.
    ///
    /// A record that stores a key the reader derives (such as `os.type`)
    /// yields the derived value, as in the running program, where the later
    /// attribute wins.
    pub fn attributes(&self) -> Vec<Attribute<'_>> {
        let mut attributes = resource_attributes(&self.record(), &self.facts);
        // Sorting is stable, so among equal keys the derived attribute comes
        // last; keep it.
        attributes.reverse();
        attributes.dedup_by(|later, earlier| later.key == earlier.key);
        attributes.reverse();
        attributes
    }
}

/// Reads the record of the file at `path`.
///
/// Directories, FIFOs, sockets and devices are refused before the file is
/// opened, so the call never blocks. `facts().name` is the file name.
///
/// # Errors
/// [`InspectError`]: [`is_no_record`](InspectError::is_no_record) when the
/// file was read and has no record; any other variant when it could not be
/// read, is not an executable, or holds a broken record.
pub fn inspect_path(path: &Path, limits: &Limits) -> Result<Inspection, InspectError> {
    refuse_special(&std::fs::metadata(path)?)?;
    let file = open_nonblocking(path)?;
    // The path may have been swapped between the two calls.
    refuse_special(&file.metadata()?)?;
    let mut inspection = inspect_reader(file, limits)?;
    inspection.facts.name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    Ok(inspection)
}

/// Reads the record of a file already opened, or of bytes in memory through
/// [`std::io::Cursor`]. `facts().name` is `None`.
///
/// # Errors
/// As [`inspect_path`].
pub fn inspect_reader<R: Read + Seek>(
    mut reader: R,
    limits: &Limits,
) -> Result<Inspection, InspectError> {
    let len = reader.seek(SeekFrom::End(0))?;
    let cache = object::read::ReadCache::new(reader);
    let container = locate::container(&cache, len, limits)?;
    let mut reader = cache.into_inner();
    let (location, record) = match container.record {
        Some(found) => found,
        None => locate::scan(&mut reader, len, limits)?,
    };
    Ok(Inspection {
        format: container.format,
        location,
        record,
        facts: ExecutableFacts {
            name: None,
            build_id_gnu: container.build_id_gnu,
            htlhash: Some(htlhash(&mut reader, len)?),
        },
    })
}

/// Finds a record by the magic scan alone, for a file whose container
/// headers do not parse (a verifier still wants the record to report the
/// file as tampered with). Returns the location and the validated record.
#[cfg(feature = "seal")]
pub(crate) fn scan_path(path: &Path, limits: &Limits) -> Result<(Location, Vec<u8>), InspectError> {
    refuse_special(&std::fs::metadata(path)?)?;
    let mut file = open_nonblocking(path)?;
    refuse_special(&file.metadata()?)?;
    let len = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    locate::scan(&mut file, len, limits)
}

/// Opens `path` for reading after refusing directories, FIFOs and devices.
#[cfg(feature = "seal")]
pub(crate) fn open_regular(path: &Path) -> Result<File, InspectError> {
    open_checked(path)
}

fn open_checked(path: &Path) -> Result<File, InspectError> {
    refuse_special(&std::fs::metadata(path)?)?;
    let file = open_nonblocking(path)?;
    refuse_special(&file.metadata()?)?;
    Ok(file)
}

fn refuse_special(metadata: &std::fs::Metadata) -> Result<(), InspectError> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    let kind = if file_type.is_dir() {
        "a directory"
    } else {
        special_kind(&file_type)
    };
    Err(InspectError::NotAFile { kind })
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Opening a FIFO for reading blocks until a writer appears; O_NONBLOCK
    // makes a FIFO swapped in after the metadata check harmless, and has no
    // effect on regular files.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// `htlhash` over the first and last 4 KiB of the stream.
fn htlhash<R: Read + Seek>(reader: &mut R, len: u64) -> std::io::Result<String> {
    const SPAN: u64 = 4096;
    let mut head = Vec::new();
    reader.seek(SeekFrom::Start(0))?;
    reader.by_ref().take(SPAN).read_to_end(&mut head)?;
    let mut tail = Vec::new();
    reader.seek(SeekFrom::Start(len.saturating_sub(SPAN)))?;
    reader.by_ref().take(SPAN).read_to_end(&mut tail)?;
    Ok(crate::htlhash(&head, &tail, len))
}
