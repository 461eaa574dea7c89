//! Writes small object files that carry a record, as fuzzing seeds: ELF
//! (64-bit little-endian, 32-bit big-endian), Mach-O, a universal Mach-O and
//! COFF, each with the record in its section and, for the magic scan, one
//! with the record in a section of another name.
//!
//! `cargo run --example seeds -- RECORD OUT_DIR`

use object::{Architecture, BinaryFormat, Endianness};

// The generators the reader's tests use.
#[path = "../../tests/common/objects.rs"]
mod objects;
use objects::object_file;

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
        ("universal", objects::universal(&macho, 0x0100_000c, 0, 12)),
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
