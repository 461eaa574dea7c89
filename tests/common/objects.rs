//! Test inputs for the offline reader: records built with the crate's own
//! encoder and SHA-256 from `sha2`, and object files generated with
//! `object::write` that carry them in a named section.
#![allow(dead_code)]

use std::collections::BTreeMap;

use buildtrace::provenance::{encode_payload, encode_record, OwnedValue};
use object::write::Object;
use object::{Architecture, BinaryFormat, Endianness, SectionKind};
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Entries of every kind, including text that is not ASCII.
pub fn sample_entries() -> BTreeMap<String, OwnedValue> {
    let mut entries = BTreeMap::new();
    let mut text = |key: &str, value: &str| {
        entries.insert(key.to_owned(), OwnedValue::Str(value.to_owned()));
    };
    text("buildtrace.id", "0123456789abcdef0123456789abcdef");
    text("buildtrace.target.arch", "aarch64");
    text("buildtrace.target.os", "macos");
    text("service.name", "démo app");
    text(
        "vcs.ref.head.revision",
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    );
    entries.insert("buildtrace.git.dirty".into(), OwnedValue::Bool(false));
    entries.insert("buildtrace.lock.packages".into(), OwnedValue::Int(-42));
    entries
}

pub fn record(entries: &BTreeMap<String, OwnedValue>) -> Vec<u8> {
    encode_record(&encode_payload(entries), sha256)
}

/// A relocatable object for `format` and `architecture` with code, data and
/// `record` (16-byte aligned within it) in the section `segment`,`name`.
pub fn object_file(
    format: BinaryFormat,
    architecture: Architecture,
    endian: Endianness,
    segment: &str,
    name: &str,
    record: &[u8],
) -> Vec<u8> {
    build(format, architecture, endian, segment, name, 0, record)
}

/// As [`object_file`], with `record` at a 16-byte aligned *file* offset, as
/// linkers place it in executables (the COFF writer does not align sections
/// in the file). Panics if `record` is not found in the result.
pub fn object_file_aligned(
    format: BinaryFormat,
    architecture: Architecture,
    endian: Endianness,
    segment: &str,
    name: &str,
    record: &[u8],
) -> Vec<u8> {
    (0..16)
        .map(|pad| build(format, architecture, endian, segment, name, pad, record))
        .find(|file| {
            find(file, record)
                .expect("record in the object")
                .is_multiple_of(16)
        })
        .expect("some padding aligns the record")
}

fn build(
    format: BinaryFormat,
    architecture: Architecture,
    endian: Endianness,
    segment: &str,
    name: &str,
    pad: usize,
    record: &[u8],
) -> Vec<u8> {
    let mut object = Object::new(format, architecture, endian);
    let text = object.section_id(object::write::StandardSection::Text);
    object.append_section_data(text, &[0xc3; 37], 16);
    let data = object.section_id(object::write::StandardSection::Data);
    object.append_section_data(data, b"some data \x89BTRACE\x1a that is not a record", 8);
    let ours = object.add_section(
        segment.as_bytes().to_vec(),
        name.as_bytes().to_vec(),
        SectionKind::ReadOnlyData,
    );
    if pad == 0 {
        object.append_section_data(ours, record, 16);
    } else {
        object.append_section_data(ours, &vec![0; pad], 16);
        object.append_section_data(ours, record, 1);
    }
    object.write().expect("object::write")
}

/// Where `needle` starts in `haystack`, found by brute force.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A universal (fat) Mach-O file: `fat_header` and one `fat_arch`
/// (big-endian) for `cputype`/`cpusubtype`, then `thin` at `1 << align`.
pub fn universal(thin: &[u8], cputype: u32, cpusubtype: u32, align: u32) -> Vec<u8> {
    let offset = 1u32 << align;
    let mut fat = Vec::new();
    for word in [
        0xcafe_babe,
        1,
        cputype,
        cpusubtype,
        offset,
        thin.len() as u32,
        align,
    ] {
        fat.extend_from_slice(&u32::to_be_bytes(word));
    }
    fat.resize(offset as usize, 0);
    fat.extend_from_slice(thin);
    fat
}

/// An ELF object with no record: its `.rodata` holds plain bytes and its data
/// a stray copy of the magic.
pub fn object_without_record() -> Vec<u8> {
    object_file(
        BinaryFormat::Elf,
        Architecture::X86_64,
        Endianness::Little,
        "",
        ".rodata",
        b"no record here",
    )
}
