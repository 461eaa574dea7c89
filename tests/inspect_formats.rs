//! The reader finds records in every container format it claims, by section
//! name where the section exists and by magic scan where it does not.
#![cfg(feature = "inspect")]

#[path = "common/objects.rs"]
mod objects;

use std::path::Path;

use buildtrace::embed::{SECTION_ELF, SECTION_MACHO, SECTION_PE};
use buildtrace::inspect::{inspect_path, Format, Inspection, Limits, Location};
use buildtrace::provenance::{OwnedValue, Value};
use object::{Architecture, BinaryFormat, Endianness};

use objects::{find, object_file, object_file_aligned, record, sample_entries, sha256};

fn inspect_file(bytes: &[u8]) -> Inspection {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.o");
    std::fs::write(&path, bytes).unwrap();
    inspect_path(&path, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The entries read back equal the ones encoded, kind for kind.
fn assert_entries_match(inspection: &Inspection) {
    let expected = sample_entries();
    let got: Vec<(String, OwnedValue)> = inspection
        .record()
        .entries()
        .map(|e| {
            let value = match e.value {
                Value::Str(s) => OwnedValue::Str(s.to_owned()),
                Value::Bool(b) => OwnedValue::Bool(b),
                Value::Int(i) => OwnedValue::Int(i),
            };
            (e.key.to_owned(), value)
        })
        .collect();
    assert_eq!(got, expected.into_iter().collect::<Vec<_>>());
}

/// `htlhash` as the semantic conventions define it, computed here.
fn expected_htlhash(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(4096)];
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    let mut input = [head, tail].concat();
    input.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    sha256(&input)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_by_section(
    format: BinaryFormat,
    architecture: Architecture,
    endian: Endianness,
    segment: &str,
    name: &str,
    expected_format: Format,
    expected_section: &'static str,
) {
    let record = record(&sample_entries());
    let file = object_file(format, architecture, endian, segment, name, &record);
    let inspection = inspect_file(&file);
    let context = format!("{format:?} {architecture:?}");
    assert_eq!(inspection.format(), expected_format, "{context}");
    let offset = find(&file, &record).expect("record in the object") as u64;
    assert_eq!(
        inspection.location(),
        &Location::Section {
            name: expected_section,
            offset
        },
        "{context}"
    );
    assert_eq!(inspection.record_bytes(), &record[..], "{context}");
    assert_entries_match(&inspection);
    let facts = inspection.facts();
    assert_eq!(facts.name.as_deref(), Some("app.o"));
    assert_eq!(facts.htlhash.as_deref(), Some(&*expected_htlhash(&file)));
    assert_eq!(facts.build_id_gnu, None, "{context}: no note was written");
}

#[test]
fn mach_o_x86_64_and_aarch64_by_section_name() {
    for architecture in [Architecture::X86_64, Architecture::Aarch64] {
        check_by_section(
            BinaryFormat::MachO,
            architecture,
            Endianness::Little,
            "__TEXT",
            "__buildtrace",
            Format::MachO,
            SECTION_MACHO,
        );
    }
}

#[test]
fn pe_x86_64_and_i686_by_section_name() {
    for architecture in [Architecture::X86_64, Architecture::I386] {
        check_by_section(
            BinaryFormat::Coff,
            architecture,
            Endianness::Little,
            "",
            ".btrace",
            Format::Pe,
            SECTION_PE,
        );
    }
}

#[test]
fn elf_32_and_64_bit_both_endians_by_section_name() {
    for (architecture, endian) in [
        (Architecture::X86_64, Endianness::Little),
        (Architecture::Aarch64, Endianness::Little),
        (Architecture::I386, Endianness::Little),
        (Architecture::PowerPc64, Endianness::Big),
    ] {
        check_by_section(
            BinaryFormat::Elf,
            architecture,
            endian,
            "",
            ".buildtrace",
            Format::Elf,
            SECTION_ELF,
        );
    }
}

#[test]
fn a_mach_o_section_in_another_segment_is_not_ours() {
    let record = record(&sample_entries());
    let file = object_file(
        BinaryFormat::MachO,
        Architecture::Aarch64,
        Endianness::Little,
        "__DATA",
        "__buildtrace",
        &record,
    );
    let inspection = inspect_file(&file);
    assert!(matches!(inspection.location(), Location::MagicScan { .. }));
}

#[test]
fn a_renamed_section_is_found_by_the_magic_scan_in_every_format() {
    let record = record(&sample_entries());
    for (format, segment, name, expected) in [
        (BinaryFormat::Elf, "", ".rodata.renamed", Format::Elf),
        (BinaryFormat::MachO, "__TEXT", "__const", Format::MachO),
        (BinaryFormat::Coff, "", ".rdata", Format::Pe),
    ] {
        let file = object_file_aligned(
            format,
            Architecture::X86_64,
            Endianness::Little,
            segment,
            name,
            &record,
        );
        let offset = find(&file, &record).expect("record in the object");
        let inspection = inspect_file(&file);
        assert_eq!(inspection.format(), expected);
        assert_eq!(
            inspection.location(),
            &Location::MagicScan {
                offset: offset as u64
            }
        );
        assert_entries_match(&inspection);
    }
}

#[test]
fn a_raw_record_file_is_accepted() {
    let record = record(&sample_entries());
    let inspection = inspect_file(&record);
    assert_eq!(inspection.format(), Format::RawRecord);
    assert_eq!(inspection.location(), &Location::MagicScan { offset: 0 });
    assert_eq!(inspection.record_bytes(), &record[..]);
    assert_entries_match(&inspection);
}

#[test]
fn the_gnu_build_id_note_is_reported_in_hex() {
    let mut object =
        object::write::Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let id: Vec<u8> = (1..=20).collect();
    let mut note = Vec::new();
    for word in [4u32, id.len() as u32, 3] {
        note.extend_from_slice(&word.to_le_bytes());
    }
    note.extend_from_slice(b"GNU\0");
    note.extend_from_slice(&id);
    let section = object.add_section(
        Vec::new(),
        b".note.gnu.build-id".to_vec(),
        object::SectionKind::Note,
    );
    object.append_section_data(section, &note, 4);
    let record_section = object.add_section(
        Vec::new(),
        SECTION_ELF.as_bytes().to_vec(),
        object::SectionKind::ReadOnlyData,
    );
    object.append_section_data(record_section, &record(&sample_entries()), 16);
    let inspection = inspect_file(&object.write().unwrap());
    assert_eq!(
        inspection.facts().build_id_gnu.as_deref(),
        Some("0102030405060708090a0b0c0d0e0f1011121314")
    );
}

#[test]
fn a_universal_mach_o_file_is_read_through_its_first_architecture() {
    let record = record(&sample_entries());
    let thin = object_file(
        BinaryFormat::MachO,
        Architecture::X86_64,
        Endianness::Little,
        "__TEXT",
        "__buildtrace",
        &record,
    );
    // CPU_TYPE_X86_64, CPU_SUBTYPE_X86_64_ALL, the thin file at 4096.
    let fat = objects::universal(&thin, 0x0100_0007, 3, 12);
    let inspection = inspect_file(&fat);
    assert_eq!(inspection.format(), Format::MachO);
    assert_eq!(
        inspection.location(),
        &Location::Section {
            name: SECTION_MACHO,
            offset: find(&fat, &record).unwrap() as u64
        }
    );
    assert_entries_match(&inspection);
}

#[test]
fn the_record_written_by_the_build_script_is_a_raw_record() {
    // This package's own build script wrote it, with the encoder users run.
    let path = Path::new(concat!(env!("OUT_DIR"), "/buildtrace.bin"));
    let inspection = inspect_path(path, &Limits::default()).unwrap();
    assert_eq!(inspection.format(), Format::RawRecord);
    assert_eq!(inspection.record_bytes(), std::fs::read(path).unwrap());
    assert_eq!(
        inspection.record().get("service.name"),
        Some(Value::Str("buildtrace"))
    );
}
