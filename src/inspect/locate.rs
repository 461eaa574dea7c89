//! Finding the record: by section name in the container, else by magic scan.

use std::io::{Read, Seek, SeekFrom};

use object::read::macho::{FatArch, MachOFatFile32, MachOFatFile64};
use object::read::{ReadCache, ReadCacheOps, ReadRef};
use object::{FileKind, Object, ObjectSection, SectionKind};
use sha2::{Digest, Sha256};

use super::{Format, InspectError, Limits, Location, MAX_RECORD_LEN};
use crate::embed::{SECTION_ELF, SECTION_MACHO, SECTION_PE};
use crate::provenance::{hex, FormatError, Record, ALIGN, MAGIC};

/// Bytes the magic scan reads at a time, besides the overlap it keeps.
const SCAN_CHUNK_LEN: usize = 1 << 20;
/// Bytes the magic scan skips at once when they hold no first byte of the
/// magic; a multiple of [`ALIGN`].
const SCAN_BLOCK_LEN: usize = 4096;

/// [`SECTION_MACHO`] split into the two names a Mach-O section header holds.
const MACHO_SEGMENT: &str = "__TEXT";
const MACHO_SECTION: &str = "__buildtrace";

/// What the container's headers say.
pub(super) struct Container {
    pub(super) format: Format,
    pub(super) build_id_gnu: Option<String>,
    /// The record, when its section exists.
    pub(super) record: Option<(Location, Vec<u8>)>,
}

/// Identifies the format of the file and reads the record from its section.
pub(super) fn container<R: ReadCacheOps>(
    cache: &ReadCache<R>,
    len: u64,
    limits: &Limits,
) -> Result<Container, InspectError> {
    if cache.read_bytes_at(0, MAGIC.len() as u64) == Ok(&MAGIC[..]) {
        let location = Location::MagicScan { offset: 0 };
        let record = read_record(cache, 0, len, Format::RawRecord, location, limits)?;
        return Ok(Container {
            format: Format::RawRecord,
            build_id_gnu: None,
            record: Some(record),
        });
    }
    let not_executable = |reason| Err(InspectError::NotExecutable { reason });
    let kind = match FileKind::parse(cache) {
        Ok(kind) => kind,
        Err(_) if len == 0 => return not_executable("the file is empty"),
        Err(_) => return not_executable("unknown file header"),
    };
    match kind {
        FileKind::Elf32 | FileKind::Elf64 => in_object(cache, 0, Format::Elf, limits),
        FileKind::MachO32 | FileKind::MachO64 => in_object(cache, 0, Format::MachO, limits),
        FileKind::Pe32 | FileKind::Pe64 | FileKind::Coff | FileKind::CoffBig => {
            in_object(cache, 0, Format::Pe, limits)
        }
        FileKind::MachOFat32 => {
            let fat = MachOFatFile32::parse(cache).map_err(malformed(Format::MachO))?;
            in_first_arch(cache, fat.arches(), limits)
        }
        FileKind::MachOFat64 => {
            let fat = MachOFatFile64::parse(cache).map_err(malformed(Format::MachO))?;
            in_first_arch(cache, fat.arches(), limits)
        }
        _ => not_executable("an archive, XCOFF file, dyld cache or import library"),
    }
}

fn malformed(format: Format) -> impl Fn(object::read::Error) -> InspectError {
    move |error| InspectError::Malformed {
        format,
        reason: error.to_string(),
    }
}

fn in_first_arch<R: ReadCacheOps, A: FatArch>(
    cache: &ReadCache<R>,
    arches: &[A],
    limits: &Limits,
) -> Result<Container, InspectError> {
    let Some(arch) = arches.first() else {
        return Err(InspectError::NotExecutable {
            reason: "a universal Mach-O file without architectures",
        });
    };
    let (offset, size) = arch.file_range();
    in_object(cache.range(offset, size), offset, Format::MachO, limits)
}

/// Parses an ELF, Mach-O or PE file that starts at file offset `base` of
/// `data`, and reads the record from its section if it has one.
fn in_object<'data, R: ReadRef<'data>>(
    data: R,
    base: u64,
    format: Format,
    limits: &Limits,
) -> Result<Container, InspectError> {
    let file = object::File::parse(data).map_err(malformed(format))?;
    let build_id_gnu = match format {
        Format::Elf => gnu_build_id(&file, limits),
        _ => None,
    };
    let (name, segment, section_name) = match format {
        Format::MachO => (SECTION_MACHO, Some(MACHO_SEGMENT), MACHO_SECTION),
        Format::Pe => (SECTION_PE, None, SECTION_PE),
        _ => (SECTION_ELF, None, SECTION_ELF),
    };
    let is_ours = |section: &object::Section<'data, '_, R>| {
        section.name_bytes() == Ok(section_name.as_bytes())
            && segment
                .is_none_or(|segment| section.segment_name_bytes() == Ok(Some(segment.as_bytes())))
    };
    let record = match file.sections().take(limits.max_sections).find(is_ours) {
        None => None,
        Some(section) => {
            let (offset, size) = section
                .file_range()
                .ok_or(InspectError::EmptySection { section: name })?;
            let end = offset
                .checked_add(size)
                .filter(|&end| data.len().is_ok_and(|len| end <= len))
                .ok_or_else(|| InspectError::Malformed {
                    format,
                    reason: format!("section `{name}` extends past the end of the file"),
                })?;
            let location = Location::Section {
                name,
                offset: base.saturating_add(offset),
            };
            Some(read_record(data, offset, end, format, location, limits)?)
        }
    };
    Ok(Container {
        format,
        build_id_gnu,
        record,
    })
}

/// The GNU build-id in hex, if the ELF file has one within the note budget.
fn gnu_build_id<'data, R: ReadRef<'data>>(
    file: &object::File<'data, R>,
    limits: &Limits,
) -> Option<String> {
    // `build_id()` reads every note section whole, and `ReadCache` keeps
    // every read: bound what it may touch. Without section headers it would
    // walk the program headers instead, which we cannot bound the same way.
    let mut sections = 0usize;
    let mut note_bytes = 0u64;
    for section in file.sections() {
        sections += 1;
        if section.kind() == SectionKind::Note {
            note_bytes = note_bytes.saturating_add(section.size());
        }
    }
    if sections == 0 || note_bytes > limits.max_note_bytes {
        return None;
    }
    file.build_id().ok().flatten().map(hex)
}

/// Reads and validates the record at `offset`, which may extend to `end`.
fn read_record<'data, R: ReadRef<'data>>(
    data: R,
    offset: u64,
    end: u64,
    format: Format,
    location: Location,
    limits: &Limits,
) -> Result<(Location, Vec<u8>), InspectError> {
    let available = end.saturating_sub(offset).min(record_window(limits) as u64);
    let bytes = data
        .read_bytes_at(offset, available)
        .map_err(|()| InspectError::Malformed {
            format,
            reason: format!("cannot read the record in {location}"),
        })?;
    let record = validate(bytes, limits).map_err(|error| match error {
        Invalid::Format(error) => InspectError::BadRecord {
            location: location.clone(),
            error,
        },
        Invalid::Digest => InspectError::DigestMismatch {
            location: location.clone(),
        },
    })?;
    Ok((location, record.as_bytes().to_vec()))
}

/// The most bytes a record may occupy under `limits`.
fn record_window(limits: &Limits) -> usize {
    limits.max_record_len.min(MAX_RECORD_LEN)
}

enum Invalid {
    Format(FormatError),
    Digest,
}

fn validate<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Record<'a>, Invalid> {
    let window = bytes.get(..record_window(limits)).unwrap_or(bytes);
    let record = Record::parse(window).map_err(Invalid::Format)?;
    if Sha256::digest(record.payload()).as_slice() != record.payload_digest() {
        return Err(Invalid::Digest);
    }
    Ok(record)
}

/// Streams the first `len` bytes of `reader` (at most
/// [`Limits::max_scan_bytes`]) looking for a valid record at every
/// [`ALIGN`]-byte offset.
pub(super) fn scan<R: Read + Seek>(
    reader: &mut R,
    len: u64,
    limits: &Limits,
) -> Result<(Location, Vec<u8>), InspectError> {
    reader.seek(SeekFrom::Start(0))?;
    scan_in_chunks(reader, len, limits, SCAN_CHUNK_LEN)
}

fn scan_in_chunks<R: Read>(
    reader: &mut R,
    len: u64,
    limits: &Limits,
    chunk_len: usize,
) -> Result<(Location, Vec<u8>), InspectError> {
    let scanned = len.min(limits.max_scan_bytes);
    // A record starting in one chunk may end in the next: keep the longest
    // record's worth of bytes after each chunk before looking at it.
    let chunk_len = chunk_len.max(1).next_multiple_of(ALIGN);
    let overlap = record_window(limits);
    let mut reader = reader.take(scanned);
    let mut buf: Vec<u8> = Vec::new();
    let mut base = 0u64;
    let mut tampered = None;
    loop {
        let at_end = fill(&mut reader, &mut buf, chunk_len + overlap)?;
        let starts = if at_end { buf.len() } else { chunk_len };
        // Skip the blocks without the magic's first byte: `contains` on bytes
        // is a `memchr`, fast even in a debug build, where stepping through a
        // gigabyte of zeros 16 bytes at a time takes seconds.
        let blocks = (0..starts).step_by(SCAN_BLOCK_LEN);
        let with_magic = blocks
            .filter(|&block| buf[block..(block + SCAN_BLOCK_LEN).min(starts)].contains(&MAGIC[0]));
        let aligned = |block: usize| (block..(block + SCAN_BLOCK_LEN).min(starts)).step_by(ALIGN);
        for start in with_magic.flat_map(aligned) {
            let Some(candidate) = buf.get(start..) else {
                break;
            };
            if !candidate.starts_with(&MAGIC) {
                continue;
            }
            let location = Location::MagicScan {
                offset: base + start as u64,
            };
            match validate(candidate, limits) {
                Ok(record) => return Ok((location, record.as_bytes().to_vec())),
                // A stray copy of the magic (the reader's own constant, say)
                // is no evidence of a record, but a well-formed record with
                // a wrong digest is.
                Err(Invalid::Digest) => {
                    tampered.get_or_insert(location);
                }
                Err(Invalid::Format(_)) => {}
            }
        }
        if at_end {
            break;
        }
        buf.drain(..chunk_len);
        base += chunk_len as u64;
    }
    Err(match tampered {
        Some(location) => InspectError::DigestMismatch { location },
        None if scanned < len => InspectError::ScanLimit { scanned },
        None => InspectError::NoRecord { scanned },
    })
}

/// Reads until `buf` holds `target` bytes or the input ends; returns whether
/// it ended.
fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>, target: usize) -> std::io::Result<bool> {
    let missing = target.saturating_sub(buf.len());
    let read = reader.take(missing as u64).read_to_end(buf)?;
    Ok(read < missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::{encode_payload, encode_record, OwnedValue};
    use std::collections::BTreeMap;
    use std::io::Cursor;

    fn record() -> Vec<u8> {
        let mut entries = BTreeMap::new();
        entries.insert("service.name".to_owned(), OwnedValue::Str("app".into()));
        encode_record(&encode_payload(&entries), |p| Sha256::digest(p).into())
    }

    #[test]
    fn macho_names_are_the_embedded_ones() {
        assert_eq!(format!("{MACHO_SEGMENT},{MACHO_SECTION}"), SECTION_MACHO);
    }

    #[test]
    fn finds_a_record_across_every_chunk_boundary() {
        let record = record();
        for before in (0..3 * ALIGN).step_by(ALIGN) {
            let mut file = vec![0xa5u8; before];
            file.extend_from_slice(&record);
            file.extend_from_slice(&[0x5a; 40]);
            for chunk_len in [ALIGN, 2 * ALIGN, 48, 4096] {
                let (location, found) = scan_in_chunks(
                    &mut Cursor::new(&file),
                    file.len() as u64,
                    &Limits::default(),
                    chunk_len,
                )
                .unwrap_or_else(|e| panic!("record at {before}, chunk {chunk_len}: {e}"));
                assert_eq!(
                    location,
                    Location::MagicScan {
                        offset: before as u64
                    }
                );
                assert_eq!(found, record);
            }
        }
    }

    #[test]
    fn ignores_unaligned_records_and_stray_magic() {
        let mut file = MAGIC.to_vec();
        file.resize(16 + 3, 0);
        file.extend_from_slice(&record());
        let error = scan_in_chunks(
            &mut Cursor::new(&file),
            file.len() as u64,
            &Limits::default(),
            32,
        )
        .unwrap_err();
        assert!(
            matches!(error, InspectError::NoRecord { scanned } if scanned == file.len() as u64)
        );
    }

    #[test]
    fn a_tampered_record_is_reported_and_the_limit_is_honoured() {
        let mut file = vec![0u8; 32];
        file.extend_from_slice(&record());
        let mut tampered = file.clone();
        // The first byte of the value "app": still valid text, another digest.
        tampered[32 + 64 + 4 + "service.name".len()] ^= 0x01;
        let error = scan(
            &mut Cursor::new(&tampered),
            file.len() as u64,
            &Limits::default(),
        );
        assert!(
            matches!(error, Err(InspectError::DigestMismatch { .. })),
            "{error:?}"
        );

        let limits = Limits {
            max_scan_bytes: 16,
            ..Limits::default()
        };
        let error = scan(&mut Cursor::new(&file), file.len() as u64, &limits);
        assert!(
            matches!(error, Err(InspectError::ScanLimit { scanned: 16 })),
            "{error:?}"
        );
    }
}
