//! Writes small object files that carry a record, as fuzzing seeds: ELF
//! (64-bit little-endian, 32-bit big-endian), Mach-O, a universal Mach-O and
//! COFF, each with the record in its section and, for the magic scan, one
//! with the record in a section of another name.
//!
//! `cargo run --example seeds -- RECORD OUT_DIR`

use object::write::{Object, StandardSection};
use object::{Architecture, BinaryFormat, Endianness, SectionKind};

fn object_file(
    format: BinaryFormat,
    architecture: Architecture,
    endian: Endianness,
    segment: &str,
    name: &str,
    record: &[u8],
) -> Vec<u8> {
    let mut object = Object::new(format, architecture, endian);
    let text = object.section_id(StandardSection::Text);
    object.append_section_data(text, &[0xc3; 37], 16);
    let ours = object.add_section(
        segment.as_bytes().to_vec(),
        name.as_bytes().to_vec(),
        SectionKind::ReadOnlyData,
    );
    object.append_section_data(ours, record, 16);
    object.write().expect("object::write")
}

/// A universal Mach-O file holding `thin` as its only architecture.
fn fat(thin: &[u8]) -> Vec<u8> {
    const OFFSET: u32 = 4096;
    let mut file = Vec::new();
    for word in [
        0xcafe_babe_u32,
        1,
        0x0100_000c,
        0,
        OFFSET,
        thin.len() as u32,
        12,
    ] {
        file.extend_from_slice(&word.to_be_bytes());
    }
    file.resize(OFFSET as usize, 0);
    file.extend_from_slice(thin);
    file
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(record), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: seeds RECORD OUT_DIR");
        std::process::exit(2);
    };
    let record = std::fs::read(record).expect("read the record");
    let out = std::path::PathBuf::from(out);
    std::fs::create_dir_all(&out).expect("create the output directory");
    let macho = object_file(
        BinaryFormat::MachO,
        Architecture::Aarch64,
        Endianness::Little,
        "__TEXT",
        "__buildtrace",
        &record,
    );
    let files = [
        (
            "elf64.o",
            object_file(
                BinaryFormat::Elf,
                Architecture::X86_64,
                Endianness::Little,
                "",
                ".buildtrace",
                &record,
            ),
        ),
        (
            "elf32be.o",
            object_file(
                BinaryFormat::Elf,
                Architecture::PowerPc,
                Endianness::Big,
                "",
                ".buildtrace",
                &record,
            ),
        ),
        (
            "renamed.o",
            object_file(
                BinaryFormat::Elf,
                Architecture::Aarch64,
                Endianness::Little,
                "",
                ".rodata.other",
                &record,
            ),
        ),
        ("macho.o", macho.clone()),
        ("universal", fat(&macho)),
        (
            "coff.obj",
            object_file(
                BinaryFormat::Coff,
                Architecture::X86_64,
                Endianness::Little,
                "",
                ".btrace",
                &record,
            ),
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(out.join(name), bytes).expect("write a seed");
    }
}
