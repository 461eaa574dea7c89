//! Every file is hostile: truncated, corrupted and strange inputs give a
//! typed error or the untouched record, never a panic, a hang or a wrong
//! payload.
#![cfg(feature = "cli")]

#[path = "common/objects.rs"]
mod objects;

use std::io::Cursor;
use std::ops::Range;
use std::path::Path;
use std::time::{Duration, Instant};

use buildtrace::embed::SECTION_ELF;
use buildtrace::inspect::{
    inspect_path, inspect_reader, InspectError, Inspection, Limits, Location,
};
use buildtrace::provenance::FormatError;
use object::{Object, ObjectSection};

/// The CLI binary: a real, linked ELF executable that embeds a record.
struct RealBinary {
    bytes: Vec<u8>,
    /// The record's payload, which no damaged copy may change.
    payload: Vec<u8>,
    /// The record's bytes in the file.
    record: Range<usize>,
    /// The section header of `.buildtrace`.
    section_header: Range<usize>,
}

fn real_binary() -> RealBinary {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_buildtrace")).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let section = file
        .section_by_name(SECTION_ELF)
        .expect("the CLI embeds a record");
    let (offset, size) = section.file_range().unwrap();
    let record = offset as usize..(offset + size) as usize;
    // ELF64 little-endian header: e_shoff at 0x28, e_shentsize at 0x3a.
    assert_eq!(
        &bytes[..6],
        b"\x7fELF\x02\x01",
        "a 64-bit little-endian ELF"
    );
    let shoff = u64::from_le_bytes(bytes[0x28..0x30].try_into().unwrap()) as usize;
    let shentsize = u16::from_le_bytes(bytes[0x3a..0x3c].try_into().unwrap()) as usize;
    let header = shoff + section.index().0 * shentsize;
    let payload_len = u32::from_le_bytes(bytes[record.start + 16..][..4].try_into().unwrap());
    let payload = bytes[record.start + 64..][..payload_len as usize].to_vec();
    RealBinary {
        payload,
        bytes,
        record,
        section_header: header..header + shentsize,
    }
}

impl RealBinary {
    /// Inspects `bytes` (a damaged copy): whatever is accepted must be the
    /// original payload.
    fn check(&self, bytes: &[u8], what: &str) -> Result<Inspection, InspectError> {
        let result = inspect_reader(Cursor::new(bytes), &Limits::default());
        if let Ok(inspection) = &result {
            assert_eq!(
                inspection.record().payload(),
                self.payload,
                "{what}: accepted a different payload"
            );
        }
        result
    }
}

#[test]
fn the_intact_binary_is_read_by_section_name() {
    let binary = real_binary();
    let inspection = binary.check(&binary.bytes, "intact").unwrap();
    assert_eq!(
        inspection.location(),
        &Location::Section {
            name: SECTION_ELF,
            offset: binary.record.start as u64
        }
    );
}

#[test]
fn truncation_anywhere_is_an_error_or_the_same_record() {
    let binary = real_binary();
    let len = binary.bytes.len();
    let mut cuts: Vec<usize> = (0..len).step_by(4099).collect();
    for edge in [
        binary.record.start,
        binary.record.end,
        binary.section_header.start,
        binary.section_header.end,
        len,
    ] {
        cuts.extend(edge.saturating_sub(5)..(edge + 5).min(len + 1));
    }
    for cut in cuts {
        let result = binary.check(&binary.bytes[..cut], &format!("cut at {cut}"));
        if cut < len {
            assert!(result.is_err(), "cut at {cut}: accepted a truncated file");
        }
    }
    // The same through the file system, where lengths come from metadata.
    let dir = tempfile::tempdir().unwrap();
    for cut in [0, 1, 64, binary.record.start + 100, len - 1] {
        let path = dir.path().join(format!("cut-{cut}"));
        std::fs::write(&path, &binary.bytes[..cut]).unwrap();
        assert!(
            inspect_path(&path, &Limits::default()).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn each_corrupted_header_field_is_named() {
    let binary = real_binary();
    let mut bytes = binary.bytes.clone();
    for at in 0..64 {
        for bit in 0..8 {
            bytes[binary.record.start + at] ^= 1 << bit;
            let result = binary.check(&bytes, &format!("bit {bit} of header byte {at}"));
            bytes[binary.record.start + at] ^= 1 << bit;
            let format_error = match &result {
                Err(InspectError::BadRecord { location, error }) => {
                    assert!(matches!(location, Location::Section { .. }));
                    Some(*error)
                }
                _ => None,
            };
            let ok = match at {
                0..8 => format_error == Some(FormatError::BadMagic),
                8..10 => matches!(format_error, Some(FormatError::UnsupportedVersion(_))),
                10..12 => format_error == Some(FormatError::BadLength("header length")),
                12..16 => format_error == Some(FormatError::BadLength("total length")),
                // A payload length off by a little may still fit the padding:
                // then an entry or the digest fails instead.
                16..20 => result.is_err(),
                20..24 => matches!(
                    format_error,
                    Some(FormatError::BadLength("seal offset" | "total length"))
                ),
                24..28 => format_error == Some(FormatError::BadLength("seal length")),
                28..32 => result.is_ok(), // flags are reserved
                _ => matches!(result, Err(InspectError::DigestMismatch { .. })),
            };
            assert!(ok, "bit {bit} of header byte {at}: {result:?}");
        }
    }
}

#[test]
fn corrupted_section_headers_give_errors_or_the_same_record() {
    let binary = real_binary();
    let mut bytes = binary.bytes.clone();
    for at in binary.section_header.clone() {
        let original = bytes[at];
        for value in [
            0x00,
            0xff,
            original ^ 0x01,
            original ^ 0x10,
            original ^ 0x80,
        ] {
            bytes[at] = value;
            let _ = binary.check(&bytes, &format!("section header byte {at} = {value:#x}"));
        }
        bytes[at] = original;
    }
    let field = |start: usize, len: usize| {
        binary.section_header.start + start..binary.section_header.start + start + len
    };

    // sh_name = 0: the section loses its name, the scan still finds the record.
    let mut bytes = binary.bytes.clone();
    bytes[field(0, 4)].fill(0);
    let inspection = binary.check(&bytes, "nameless section").unwrap();
    assert_eq!(
        inspection.location(),
        &Location::MagicScan {
            offset: binary.record.start as u64
        }
    );

    // sh_type = SHT_NOBITS: the section claims no file data.
    let mut bytes = binary.bytes.clone();
    bytes[field(4, 4)].copy_from_slice(&8u32.to_le_bytes());
    assert!(matches!(
        binary.check(&bytes, "NOBITS"),
        Err(InspectError::EmptySection {
            section: ".buildtrace"
        })
    ));

    // sh_offset past the end of the file.
    let mut bytes = binary.bytes.clone();
    bytes[field(24, 8)].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        binary.check(&bytes, "far offset"),
        Err(InspectError::Malformed { .. })
    ));

    // sh_size of 4 GiB: only the longest possible record is read, and it parses.
    let mut bytes = binary.bytes.clone();
    bytes[field(32, 8)]
        .copy_from_slice(&(binary.bytes.len() as u64 - binary.record.start as u64).to_le_bytes());
    binary.check(&bytes, "huge size").unwrap();
}

#[test]
fn random_flips_inside_the_record_never_pass_a_changed_payload() {
    let binary = real_binary();
    // xorshift64: reproducible without a dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut accepted, mut rejected) = (0, 0);
    let mut bytes = binary.bytes.clone();
    for round in 0..1500 {
        bytes[binary.record.clone()].copy_from_slice(&binary.bytes[binary.record.clone()]);
        for _ in 0..1 + round % 3 {
            let at = binary.record.start + (next() as usize) % binary.record.len();
            bytes[at] ^= (next() % 255 + 1) as u8;
        }
        match binary.check(&bytes, &format!("round {round}")) {
            Ok(_) => accepted += 1,
            Err(_) => rejected += 1,
        }
    }
    // Flips in the seal slot and the padding are outside the digest.
    assert!(
        accepted > 0 && rejected > 0,
        "{accepted} accepted, {rejected} rejected"
    );
}

fn inspect_file(name: &str, bytes: &[u8]) -> Result<Inspection, InspectError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    inspect_path(&path, &Limits::default())
}

#[test]
fn files_that_are_not_executables() {
    for (name, bytes) in [
        ("empty", &b""[..]),
        ("one-byte", b"\x7f"),
        (
            "photo.jpg",
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        ),
        ("notes.txt", b"just some text\n"),
    ] {
        let result = inspect_file(name, bytes);
        assert!(
            matches!(result, Err(InspectError::NotExecutable { .. })),
            "{name}: {result:?}"
        );
    }
    // A universal Mach-O header without architectures, and one whose only
    // architecture lies past the end of the file.
    let fat = |arches: &[[u32; 5]]| {
        let mut bytes = [0xcafe_babe_u32, arches.len() as u32]
            .map(u32::to_be_bytes)
            .concat();
        for arch in arches {
            bytes.extend(arch.map(u32::to_be_bytes).concat());
        }
        bytes
    };
    let result = inspect_file("fat0", &fat(&[]));
    assert!(
        matches!(result, Err(InspectError::NotExecutable { .. })),
        "{result:?}"
    );
    let result = inspect_file("fat1", &fat(&[[0x0100_0007, 3, 1 << 20, 1 << 20, 12]]));
    assert!(
        matches!(result, Err(InspectError::Malformed { .. })),
        "{result:?}"
    );
}

#[test]
fn a_broken_record_in_its_section_is_an_error_naming_the_field() {
    let good = objects::record(&objects::sample_entries());
    let elf = |record: &[u8]| {
        objects::object_file(
            object::BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
            "",
            SECTION_ELF,
            record,
        )
    };
    let mut bad_seal = good.clone();
    bad_seal[25] = 0; // seal length 256 becomes 0
    let error = inspect_file("seal.o", &elf(&bad_seal)).unwrap_err();
    assert!(
        matches!(
            error,
            InspectError::BadRecord {
                error: FormatError::BadLength("seal length"),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("seal length"), "{error}");

    let mut tampered = good.clone();
    let value = objects::find(&tampered, b"d\xc3\xa9mo app").unwrap();
    tampered[value] = b'D';
    let error = inspect_file("tampered.o", &elf(&tampered)).unwrap_err();
    assert!(
        matches!(error, InspectError::DigestMismatch { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("record payload digest mismatch"),
        "{error}"
    );
}

#[test]
fn directories_fifos_and_symlink_loops_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let result = inspect_path(dir.path(), &Limits::default());
    assert!(
        matches!(
            result,
            Err(InspectError::NotAFile {
                kind: "a directory"
            })
        ),
        "{result:?}"
    );

    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    // Opening a FIFO for reading blocks until a writer comes: run it aside.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(inspect_path(&fifo, &Limits::default()));
    });
    let result = receiver
        .recv_timeout(Duration::from_secs(10))
        .expect("inspecting a FIFO blocked");
    assert!(
        matches!(result, Err(InspectError::NotAFile { kind: "a FIFO" })),
        "{result:?}"
    );

    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::os::unix::fs::symlink(&a, &b).unwrap();
    std::os::unix::fs::symlink(&b, &a).unwrap();
    let result = inspect_path(&a, &Limits::default());
    assert!(matches!(result, Err(InspectError::Io { .. })), "{result:?}");
}

fn sparse(path: &Path, head: &[u8], len: u64) {
    std::fs::write(path, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn large_files_are_answered_quickly_and_the_scan_limit_holds() {
    const LEN: u64 = 64 << 20;
    let dir = tempfile::tempdir().unwrap();
    let zeros = dir.path().join("zeros");
    sparse(&zeros, b"", LEN);
    let started = Instant::now();
    let result = inspect_path(&zeros, &Limits::default());
    assert!(
        matches!(result, Err(InspectError::NotExecutable { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // An executable header, then zeros: the whole file is scanned.
    let object = objects::object_without_record();
    let padded = dir.path().join("padded");
    sparse(&padded, &object, LEN);
    let started = Instant::now();
    let result = inspect_path(&padded, &Limits::default());
    assert!(
        matches!(result, Err(InspectError::NoRecord { scanned: LEN })),
        "{result:?}"
    );
    assert!(result.unwrap_err().is_no_record());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );

    let mut limits = Limits::default();
    limits.max_scan_bytes = 1 << 20;
    let result = inspect_path(&padded, &limits);
    assert!(
        matches!(result, Err(InspectError::ScanLimit { scanned: 1048576 })),
        "{result:?}"
    );
}
