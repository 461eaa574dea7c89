//! What a seal's digest covers, per container format.
//!
//! Every format: the whole file, in order, with the seal fields of the
//! record's slot read as zeros. Two formats have a platform code signature
//! written *after* sealing, so its bytes, and the header fields the signing
//! tool rewrites, are left out the way the platform's own scheme leaves them
//! out:
//!
//! - **PE** (Authenticode): the optional header's `CheckSum` and the
//!   certificate-table data directory entry read as zeros, and the file is
//!   covered up to the start of the certificate table when there is one.
//! - **Mach-O** (`codesign`): when the file has an `LC_CODE_SIGNATURE`
//!   command, the file is covered up to the signature's data, and that
//!   command's `dataoff`/`datasize` and the `__LINKEDIT` segment's
//!   `vmsize`/`filesize` read as zeros, so re-signing (which changes the
//!   signature's size) keeps the seal. Signing a file that had no signature
//!   adds a load command, which breaks the seal: sign (ad hoc is enough; the
//!   linker already does so on arm64) before sealing.
//!
//! `FORMAT.md` states the same rules.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use object::macho::{self, MachHeader32, MachHeader64};
use object::pe::{self, ImageNtHeaders32, ImageNtHeaders64};
use object::read::macho::MachHeader;
use object::read::pe::ImageNtHeaders;
use object::{Endian, Endianness};

use crate::inspect::{Format, InspectError};

/// The byte ranges of a file a seal digest covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Bytes `[0, end)` are hashed, except `excluded`.
    pub end: u64,
    /// The platform signature's data, left out: everything before and after
    /// it is hashed, so bytes appended after a signature still count.
    pub excluded: Option<Range<u64>>,
    /// Ranges read as zeros, sorted, within `[0, end)`.
    pub zeroed: Vec<Range<u64>>,
}

impl Coverage {
    /// The whole file of length `len`, with `zeroed` read as zeros.
    pub fn whole(len: u64, zeroed: Vec<Range<u64>>) -> Coverage {
        Coverage {
            end: len,
            excluded: None,
            zeroed,
        }
    }
}

/// Most bytes of Mach-O load commands read to find the code signature.
const MAX_LOAD_COMMANDS: u64 = 16 << 20;
/// Bytes read from the start of a PE file for its headers.
const PE_HEAD: u64 = 64 << 10;

fn malformed(format: Format, reason: impl Into<String>) -> InspectError {
    InspectError::Malformed {
        format,
        reason: reason.into(),
    }
}

fn read_head<R: Read + Seek>(r: &mut R, len: u64, want: u64) -> std::io::Result<Vec<u8>> {
    let n = want.min(len);
    let mut buf = Vec::with_capacity(n as usize);
    r.seek(SeekFrom::Start(0))?;
    r.by_ref().take(n).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Offset of `field` within `base`; both borrow the same buffer.
fn offset_in(base: &[u8], field: *const u8) -> u64 {
    (field as usize - base.as_ptr() as usize) as u64
}

/// The coverage for a file of `format` and length `len` whose seal fields
/// are at `seal_fields`.
///
/// # Errors
/// An I/O error, a malformed header, or a universal (fat) Mach-O file, which
/// is sealed per architecture before `lipo`.
pub fn coverage<R: Read + Seek>(
    r: &mut R,
    len: u64,
    format: Option<Format>,
    seal_fields: Range<u64>,
) -> Result<Coverage, InspectError> {
    let mut cov = Coverage::whole(len, vec![seal_fields]);
    match format {
        Some(Format::Pe) => pe_coverage(r, len, &mut cov)?,
        Some(Format::MachO) => macho_coverage(r, len, &mut cov)?,
        _ => {}
    }
    cov.zeroed.sort_by_key(|z| z.start);
    let inside = |z: &Range<u64>| {
        z.end > cov.end
            || cov
                .excluded
                .as_ref()
                .is_some_and(|x| z.start < x.end && x.start < z.end)
    };
    if cov.zeroed.iter().any(inside) {
        return Err(malformed(
            format.unwrap_or(Format::RawRecord),
            "the record lies in the platform signature's data",
        ));
    }
    Ok(cov)
}

fn pe_coverage<R: Read + Seek>(
    r: &mut R,
    len: u64,
    cov: &mut Coverage,
) -> Result<(), InspectError> {
    let head = read_head(r, len, PE_HEAD)?;
    if !head.starts_with(b"MZ") {
        return Ok(()); // a COFF object: no Authenticode
    }
    let data = &head[..];
    let bad = |e: object::read::Error| malformed(Format::Pe, e.to_string());
    let dos = pe::ImageDosHeader::parse(data).map_err(bad)?;
    let mut offset = dos.nt_headers_offset().into();
    let (check_sum, security) = match object::read::pe::optional_header_magic(data).map_err(bad)? {
        pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC => {
            let (nt, dirs) = ImageNtHeaders64::parse(data, &mut offset).map_err(bad)?;
            (
                &nt.optional_header().check_sum as *const _ as *const u8,
                dirs.get(pe::IMAGE_DIRECTORY_ENTRY_SECURITY),
            )
        }
        _ => {
            let (nt, dirs) = ImageNtHeaders32::parse(data, &mut offset).map_err(bad)?;
            (
                &nt.optional_header().check_sum as *const _ as *const u8,
                dirs.get(pe::IMAGE_DIRECTORY_ENTRY_SECURITY),
            )
        }
    };
    let at = offset_in(data, check_sum);
    cov.zeroed.push(at..at + 4);
    if let Some(dir) = security {
        let at = offset_in(data, dir as *const _ as *const u8);
        cov.zeroed.push(at..at + 8);
        // For this directory the "virtual address" is a file offset.
        let (start, size) = (
            u64::from(dir.virtual_address.get(object::LittleEndian)),
            u64::from(dir.size.get(object::LittleEndian)),
        );
        if size != 0 {
            if start == 0 || start.checked_add(size).is_none_or(|end| end > len) {
                return Err(malformed(Format::Pe, "certificate table outside the file"));
            }
            cov.excluded = Some(start..start + size);
        }
    }
    Ok(())
}

fn macho_coverage<R: Read + Seek>(
    r: &mut R,
    len: u64,
    cov: &mut Coverage,
) -> Result<(), InspectError> {
    let head = read_head(r, len, 32)?;
    let magic = head
        .get(..4)
        .map(|m| u32::from_be_bytes(m.try_into().unwrap()));
    let bad = |e: object::read::Error| malformed(Format::MachO, e.to_string());
    match magic {
        Some(macho::FAT_MAGIC | macho::FAT_CIGAM | macho::FAT_MAGIC_64 | macho::FAT_CIGAM_64) => {
            Err(InspectError::Unsupported {
                what: "a universal (fat) Mach-O file",
                remedy:
                    "seal and verify each architecture before `lipo -create`, or after `lipo -thin`",
            })
        }
        Some(macho::MH_MAGIC_64 | macho::MH_CIGAM_64) => {
            let header = MachHeader64::<Endianness>::parse(&head[..], 0).map_err(bad)?;
            let endian = header.endian().map_err(bad)?;
            let size = 32 + u64::from(header.sizeofcmds(endian));
            macho_commands::<MachHeader64<Endianness>, R>(r, len, size, cov)
        }
        _ => {
            let header = MachHeader32::<Endianness>::parse(&head[..], 0).map_err(bad)?;
            let endian = header.endian().map_err(bad)?;
            let size = 28 + u64::from(header.sizeofcmds(endian));
            macho_commands::<MachHeader32<Endianness>, R>(r, len, size, cov)
        }
    }
}

fn macho_commands<H: MachHeader<Endian = Endianness>, R: Read + Seek>(
    r: &mut R,
    len: u64,
    size: u64,
    cov: &mut Coverage,
) -> Result<(), InspectError> {
    let bad = |e: object::read::Error| malformed(Format::MachO, e.to_string());
    if size > MAX_LOAD_COMMANDS || size > len {
        return Err(malformed(
            Format::MachO,
            "load commands larger than the file or the limit",
        ));
    }
    let data = read_head(r, len, size)?;
    let data = &data[..];
    let header = H::parse(data, 0).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;
    let wide = header.is_type_64();
    let mut commands = header.load_commands(endian, data, 0).map_err(bad)?;
    let mut signature = None;
    let mut linkedit = None;
    while let Some(cmd) = commands.next().map_err(bad)? {
        let raw = cmd.raw_data();
        let at = offset_in(data, raw.as_ptr());
        let u32_at = |i: usize| {
            raw.get(i..i + 4)
                .map(|b| endian.read_u32(b.try_into().expect("4 bytes")))
        };
        if cmd.cmd() == macho::LC_CODE_SIGNATURE {
            let (off, size) = u32_at(8)
                .zip(u32_at(12))
                .ok_or_else(|| malformed(Format::MachO, "short LC_CODE_SIGNATURE"))?;
            signature = Some((at, u64::from(off), u64::from(size)));
        } else if raw
            .get(8..24)
            .is_some_and(|name| name.starts_with(b"__LINKEDIT\0"))
            && matches!(cmd.cmd(), macho::LC_SEGMENT | macho::LC_SEGMENT_64)
        {
            linkedit = Some(at);
        }
    }
    let Some((cmd_at, dataoff, datasize)) = signature else {
        return Ok(());
    };
    if dataoff == 0 || dataoff.checked_add(datasize).is_none_or(|end| end > len) {
        return Err(malformed(Format::MachO, "code signature outside the file"));
    }
    cov.excluded = Some(dataoff..dataoff + datasize);
    cov.zeroed.push(cmd_at + 8..cmd_at + 16);
    if let Some(seg) = linkedit {
        // vmsize and filesize: 64-bit fields at 32 and 48, 32-bit at 28 and 36.
        if wide {
            cov.zeroed.push(seg + 32..seg + 40);
            cov.zeroed.push(seg + 48..seg + 56);
        } else {
            cov.zeroed.push(seg + 28..seg + 32);
            cov.zeroed.push(seg + 36..seg + 40);
        }
    }
    Ok(())
}

/// SHA-256 of the bytes `cov` covers, streamed in 1 MiB chunks.
///
/// # Errors
/// An I/O error, or a file shorter than the coverage.
pub fn digest<R: Read + Seek>(r: &mut R, cov: &Coverage) -> std::io::Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    const CHUNK: usize = 1 << 20;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    r.seek(SeekFrom::Start(0))?;
    let mut pos = 0u64;
    while pos < cov.end {
        if let Some(x) = cov.excluded.as_ref().filter(|x| x.contains(&pos)) {
            pos = x.end.min(cov.end);
            r.seek(SeekFrom::Start(pos))?;
            continue;
        }
        let stop = match &cov.excluded {
            Some(x) if x.start > pos => x.start.min(cov.end),
            _ => cov.end,
        };
        let n = (stop - pos).min(CHUNK as u64) as usize;
        r.read_exact(&mut buf[..n])?;
        let chunk = pos..pos + n as u64;
        for z in &cov.zeroed {
            let (s, e) = (z.start.max(chunk.start), z.end.min(chunk.end));
            if s < e {
                buf[(s - pos) as usize..(e - pos) as usize].fill(0);
            }
        }
        hasher.update(&buf[..n]);
        pos += n as u64;
    }
    Ok(hasher.finalize().into())
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn zeroed_ranges_are_hashed_as_zeros_across_chunks() {
        let mut data = vec![7u8; (1 << 20) + 100];
        let z = (1 << 20) - 10..(1 << 20) + 10;
        let cov = Coverage::whole(data.len() as u64, vec![z.start as u64..z.end as u64]);
        let a = digest(&mut Cursor::new(&data), &cov).unwrap();
        data[z.clone()].fill(0);
        let whole = Coverage::whole(data.len() as u64, vec![]);
        assert_eq!(a, digest(&mut Cursor::new(&data), &whole).unwrap());
        data[z.end] = 0;
        assert_ne!(a, digest(&mut Cursor::new(&data), &whole).unwrap());
    }

    #[test]
    fn an_excluded_range_is_skipped_and_what_follows_it_counts() {
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let cov = Coverage {
            end: data.len() as u64,
            excluded: Some(1000..3000),
            zeroed: vec![10..20],
        };
        let mut expected = data[..1000].to_vec();
        expected[10..20].fill(0);
        expected.extend_from_slice(&data[3000..]);
        let whole = Coverage::whole(expected.len() as u64, vec![]);
        assert_eq!(
            digest(&mut Cursor::new(&data), &cov).unwrap(),
            digest(&mut Cursor::new(&expected), &whole).unwrap()
        );
    }
}
