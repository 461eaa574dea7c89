//! Sealing and verifying in every container format: the seal survives what
//! the platform's own code signing does afterwards, and nothing else.
//!
//! Expectations are computed here from the bytes, per the format
//! specifications: the record is found by searching for its bytes, header
//! fields by parsing the headers by hand, and digests with `sha2`.
#![cfg(feature = "cli")]

#[path = "common/objects.rs"]
mod objects;

use std::ops::Range;
use std::path::{Path, PathBuf};

use buildtrace::embed::{SECTION_MACHO, SECTION_PE};
use buildtrace::inspect::{inspect_path, Format, Limits, Location};
use buildtrace::seal::{seal_file, verify_path, Sealed, TrustedKey, Verdict, Verification};
use object::{Architecture, BinaryFormat, Endianness};
use p256::ecdsa::SigningKey;
use p256::elliptic_curve::Generate;
use sha2::{Digest, Sha256};

use objects::{object_file_aligned, record, sample_entries};

/// A COFF object like `objects::object_file` makes, with `.text` grown
/// until the record, at the start of `.btrace`, lands 16-aligned in the
/// file. (`object_file_aligned` pads *inside* the section instead, which
/// suits the magic scan but puts zeros where the section reader rightly
/// expects the record: the COFF writer does not align section data.)
fn coff_object_aligned(architecture: Architecture, record: &[u8]) -> Vec<u8> {
    use object::write::{Object, StandardSection};
    (37..37 + 16)
        .map(|code_len| {
            let mut object = Object::new(BinaryFormat::Coff, architecture, Endianness::Little);
            let text = object.section_id(StandardSection::Text);
            object.append_section_data(text, &vec![0xc3; code_len], 16);
            let data = object.section_id(StandardSection::Data);
            object.append_section_data(data, b"some data \x89BTRACE\x1a that is not a record", 8);
            let ours = object.add_section(
                Vec::new(),
                SECTION_PE.as_bytes().to_vec(),
                object::SectionKind::ReadOnlyData,
            );
            object.append_section_data(ours, record, 16);
            object.write().expect("object::write")
        })
        .find(|file| record_offset(file, record).is_multiple_of(16))
        .expect("some code length aligns the record")
}

/// The seal slot is the last 256 bytes of the record.
const SLOT_LEN: usize = 256;
/// Within the slot: the bytes a seal writes, read as zeros when hashing.
const SEAL_FIELDS: Range<usize> = 112..256;
/// Within the slot: the sealed digest.
const SEAL_DIGEST: Range<usize> = 112..144;

struct Signer {
    key: SigningKey,
    trusted: Vec<TrustedKey>,
}

fn signer() -> Signer {
    let key = SigningKey::try_generate().expect("the system RNG");
    let verifying = *key.verifying_key();
    let trusted = vec![TrustedKey {
        key: verifying,
        id: buildtrace::signing::key_id(&verifying),
        label: "test key".into(),
    }];
    Signer { key, trusted }
}

impl Signer {
    fn seal(&self, path: &Path) -> Sealed {
        seal_file(path, None, &self.key, &Limits::default())
            .unwrap_or_else(|e| panic!("sealing {}: {e}", path.display()))
    }

    fn verify(&self, path: &Path) -> Verification {
        verify_path(path, &self.trusted, &Limits::default())
            .unwrap_or_else(|e| panic!("verifying {}: {e}", path.display()))
    }

    /// Asserts the verdict, showing the problems when it differs.
    fn expect(&self, path: &Path, verdict: Verdict, context: &str) -> Verification {
        let v = self.verify(path);
        assert_eq!(
            v.verdict, verdict,
            "{context}: problems {:?}, seal {:?}",
            v.problems, v.seal
        );
        if verdict == Verdict::Invalid {
            assert!(!v.problems.is_empty(), "{context}: Invalid says why");
        } else {
            assert!(v.problems.is_empty(), "{context}: {:?}", v.problems);
        }
        v
    }
}

/// A scratch directory holding files written by the test.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A copy of `bytes` with the byte at `at` changed, as `name`.
    fn flipped(&self, name: &str, bytes: &[u8], at: usize) -> PathBuf {
        let mut copy = bytes.to_vec();
        copy[at] ^= 0x5a;
        self.write(name, &copy)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn set_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The file offset of `record` in `file`, found by searching for its header
/// and payload (the slot changes when the file is sealed).
fn record_offset(file: &[u8], record: &[u8]) -> usize {
    let unsealed = &record[..record.len() - SLOT_LEN];
    let at = memchr::memmem::find(file, unsealed).expect("the record is in the file");
    assert!(
        memchr::memmem::find(&file[at + 1..], unsealed).is_none(),
        "the record is in the file once"
    );
    at
}

/// The file offset of the record's seal slot: the header's seal offset
/// (bytes 20..24), which is also the last 256 bytes of the record.
fn slot_offset(file: &[u8], record: &[u8]) -> usize {
    let at = record_offset(file, record);
    let seal_offset = u32_at(file, at + 20) as usize;
    assert_eq!(seal_offset, record.len() - SLOT_LEN);
    assert_eq!(u32_at(file, at + 24) as usize, SLOT_LEN);
    at + seal_offset
}

fn sealed_digest(file: &[u8], slot: usize) -> [u8; 32] {
    file[slot + SEAL_DIGEST.start..slot + SEAL_DIGEST.end]
        .try_into()
        .unwrap()
}

/// SHA-256 of `file[..end]` with `zeroed` (and nothing else) read as zeros.
fn sha256_with_zeros(file: &[u8], end: usize, zeroed: &[Range<usize>]) -> [u8; 32] {
    let mut canonical = file[..end].to_vec();
    for z in zeroed {
        canonical[z.clone()].fill(0);
    }
    Sha256::digest(&canonical).into()
}

fn seal_fields(slot: usize) -> Range<usize> {
    slot + SEAL_FIELDS.start..slot + SEAL_FIELDS.end
}

/// After sealing, the file differs from `before` in the slot only; the slot
/// says "sealed" and carries the digest `expected`.
fn assert_sealed_in_place(before: &[u8], after: &[u8], slot: usize, expected: [u8; 32]) {
    assert_eq!(before.len(), after.len(), "sealing moves no byte");
    let changed: Vec<usize> = (0..before.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    assert!(!changed.is_empty());
    assert!(
        changed.iter().all(|i| (slot..slot + SLOT_LEN).contains(i)),
        "sealing changed bytes outside the slot: {changed:?}"
    );
    assert_eq!(&after[slot..slot + 4], b"BTSL");
    assert_eq!(after[slot + 5] & 2, 2, "the sealed flag");
    assert_eq!(sealed_digest(after, slot), expected);
}

// ---------------------------------------------------------------------------
// 1. Object files generated with `object::write`.

#[test]
fn mach_o_and_coff_object_files_seal_and_verify() {
    let signer = signer();
    let record = record(&sample_entries());
    for (format, architecture, segment, name, expected_format, section) in [
        (
            BinaryFormat::MachO,
            Architecture::X86_64,
            "__TEXT",
            "__buildtrace",
            Format::MachO,
            SECTION_MACHO,
        ),
        (
            BinaryFormat::MachO,
            Architecture::Aarch64,
            "__TEXT",
            "__buildtrace",
            Format::MachO,
            SECTION_MACHO,
        ),
        (
            BinaryFormat::Coff,
            Architecture::X86_64,
            "",
            ".btrace",
            Format::Pe,
            SECTION_PE,
        ),
        (
            BinaryFormat::Coff,
            Architecture::I386,
            "",
            ".btrace",
            Format::Pe,
            SECTION_PE,
        ),
    ] {
        let context = format!("{format:?} {architecture:?}");
        let scratch = Scratch::new();
        let original = match format {
            BinaryFormat::Coff => coff_object_aligned(architecture, &record),
            _ => object_file_aligned(
                format,
                architecture,
                Endianness::Little,
                segment,
                name,
                &record,
            ),
        };
        let path = scratch.write("app.o", &original);
        let at = record_offset(&original, &record);
        assert_eq!(at % 16, 0, "{context}");
        let found = inspect_path(&path, &Limits::default()).unwrap();
        assert_eq!(found.format(), expected_format, "{context}");
        assert_eq!(
            found.location(),
            &Location::Section {
                name: section,
                offset: at as u64
            },
            "{context}: the record is read from its section"
        );
        signer.expect(&path, Verdict::Unsigned, &context);

        let sealed = signer.seal(&path);
        assert_eq!(sealed.format, expected_format, "{context}");
        assert_eq!(sealed.replaced, None, "{context}");
        let bytes = std::fs::read(&path).unwrap();
        let slot = slot_offset(&bytes, &record);
        // Objects have no platform signature: the whole file, seal fields zeroed.
        let expected = sha256_with_zeros(&bytes, bytes.len(), &[seal_fields(slot)]);
        assert_eq!(sealed.digest, expected, "{context}");
        assert_sealed_in_place(&original, &bytes, slot, expected);
        let v = signer.expect(&path, Verdict::SealedAndBound, &context);
        let report = v.seal.expect("a seal report");
        assert_eq!(report.file_digest, expected, "{context}");
        assert_eq!(report.sealed_digest, expected, "{context}");

        // The same seal, checked without the key: not trusted, not invalid.
        let untrusted = verify_path(&path, &[], &Limits::default()).unwrap();
        assert_eq!(untrusted.verdict, Verdict::UntrustedKey, "{context}");

        // One byte of code, one byte of data: other sections, same verdict.
        let code = memchr::memmem::find(&bytes, &[0xc3; 37]).expect("the code");
        let path = scratch.flipped("code.o", &bytes, code + 5);
        signer.expect(&path, Verdict::Invalid, &format!("{context}, code"));
        let data = memchr::memmem::find(&bytes, b"some data").expect("the data");
        let path = scratch.flipped("data.o", &bytes, data);
        signer.expect(&path, Verdict::Invalid, &format!("{context}, data"));
        // A byte of the slot outside the seal fields (the flags are covered).
        let path = scratch.flipped("slot.o", &bytes, slot + 6);
        signer.expect(&path, Verdict::Invalid, &format!("{context}, slot"));
        // A byte of the sealed digest.
        let path = scratch.flipped("digest.o", &bytes, slot + SEAL_DIGEST.start);
        signer.expect(&path, Verdict::Invalid, &format!("{context}, digest"));
    }
}

// ---------------------------------------------------------------------------
// 2. PE images, and what `signtool sign` does to them after sealing.

const PE_CODE: [u8; 48] = [0xcc; 48];
const PE_DATA: &[u8] = b"initialised data after the record, e.g. an import table";

/// A PE image (64- or 32-bit) with `.text`, `.btrace` holding `record`, and
/// `.data`, in that order; 16 data directories, CheckSum 0, no certificates.
fn pe_image(is_64: bool, record: &[u8]) -> Vec<u8> {
    use object::pe;
    use object::write::pe::{NtHeaders, Writer};
    let mut out = Vec::new();
    let mut w = Writer::new(is_64, 0x1000, 0x200, &mut out);
    w.reserve_dos_header();
    w.reserve_nt_headers(16);
    w.reserve_section_headers(3);
    let text = w.reserve_text_section(PE_CODE.len() as u32);
    let btrace = w.reserve_section(
        *b".btrace\0",
        pe::IMAGE_SCN_CNT_INITIALIZED_DATA | pe::IMAGE_SCN_MEM_READ,
        record.len() as u32,
        record.len() as u32,
    );
    let data = w.reserve_data_section(PE_DATA.len() as u32, PE_DATA.len() as u32);
    w.write_empty_dos_header().unwrap();
    w.write_nt_headers(NtHeaders {
        machine: if is_64 {
            pe::IMAGE_FILE_MACHINE_AMD64
        } else {
            pe::IMAGE_FILE_MACHINE_I386
        },
        time_date_stamp: 0,
        characteristics: pe::IMAGE_FILE_EXECUTABLE_IMAGE
            | if is_64 {
                pe::IMAGE_FILE_LARGE_ADDRESS_AWARE
            } else {
                pe::IMAGE_FILE_32BIT_MACHINE
            },
        major_linker_version: 14,
        minor_linker_version: 0,
        address_of_entry_point: text.virtual_address,
        image_base: if is_64 { 0x1_4000_0000 } else { 0x40_0000 },
        major_operating_system_version: 6,
        minor_operating_system_version: 0,
        major_image_version: 0,
        minor_image_version: 0,
        major_subsystem_version: 6,
        minor_subsystem_version: 0,
        subsystem: pe::IMAGE_SUBSYSTEM_WINDOWS_CUI,
        dll_characteristics: pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT,
        size_of_stack_reserve: 0x10_0000,
        size_of_stack_commit: 0x1000,
        size_of_heap_reserve: 0x10_0000,
        size_of_heap_commit: 0x1000,
    });
    w.write_section_headers();
    w.write_section(text.file_offset, &PE_CODE);
    w.write_section(btrace.file_offset, record);
    w.write_section(data.file_offset, PE_DATA);
    out
}

/// Header fields Authenticode signing rewrites, located by hand per the PE
/// specification.
struct PeFields {
    /// The optional header's CheckSum (4 bytes).
    check_sum: usize,
    /// Data directory 4, the certificate table: file offset, size (8 bytes).
    security: usize,
}

fn pe_fields(b: &[u8], is_64: bool) -> PeFields {
    assert_eq!(&b[..2], b"MZ");
    let nt = u32_at(b, 0x3c) as usize; // e_lfanew
    assert_eq!(&b[nt..nt + 4], b"PE\0\0");
    let coff = nt + 4;
    let size_of_optional_header = usize::from(u16_at(b, coff + 16));
    let optional = coff + 20;
    // CheckSum is at 64 in both; the directories follow NumberOfRvaAndSizes.
    let (magic, rva_count, directories) = if is_64 {
        (0x20b, optional + 108, optional + 112)
    } else {
        (0x10b, optional + 92, optional + 96)
    };
    assert_eq!(u16_at(b, optional), magic);
    assert_eq!(u32_at(b, rva_count), 16);
    assert_eq!(size_of_optional_header, directories + 16 * 8 - optional);
    PeFields {
        check_sum: optional + 64,
        security: directories + 4 * 8,
    }
}

/// The PE image checksum (as `CheckSumMappedFile` computes it).
fn pe_check_sum(b: &[u8], check_sum_at: usize) -> u32 {
    let mut sum = 0u64;
    for (i, word) in b.chunks(2).enumerate() {
        if i * 2 == check_sum_at || i * 2 == check_sum_at + 2 {
            continue;
        }
        sum += u64::from(u16::from_le_bytes([word[0], *word.get(1).unwrap_or(&0)]));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum as u32 + b.len() as u32
}

/// What `signtool sign` does: appends a certificate table (8-byte aligned:
/// a WIN_CERTIFICATE header and `len` bytes of "signature"), points the
/// security directory at it and updates the CheckSum. Returns the table.
fn sign_like_signtool(b: &mut Vec<u8>, fields: &PeFields, len: usize, seed: u8) -> Range<usize> {
    assert_eq!(b.len() % 8, 0, "an image ends file-aligned");
    let start = b.len();
    let mut table = Vec::new();
    table.extend_from_slice(&(8 + len as u32).to_le_bytes()); // dwLength
    table.extend_from_slice(&0x0200u16.to_le_bytes()); // WIN_CERT_REVISION_2_0
    table.extend_from_slice(&0x0002u16.to_le_bytes()); // WIN_CERT_TYPE_PKCS_SIGNED_DATA
    table.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    table.resize(table.len().next_multiple_of(8), 0);
    b.extend_from_slice(&table);
    set_u32(b, fields.security, start as u32);
    set_u32(b, fields.security + 4, table.len() as u32);
    let sum = pe_check_sum(b, fields.check_sum);
    set_u32(b, fields.check_sum, sum);
    start..b.len()
}

#[test]
fn pe_images_stay_sealed_through_authenticode_signing() {
    let signer = signer();
    let record = record(&sample_entries());
    for is_64 in [true, false] {
        let context = if is_64 { "PE32+" } else { "PE32" };
        let scratch = Scratch::new();
        let original = pe_image(is_64, &record);
        let fields = pe_fields(&original, is_64);
        let path = scratch.write("app.exe", &original);
        let at = record_offset(&original, &record);
        assert_eq!(at % 16, 0);
        let found = inspect_path(&path, &Limits::default()).unwrap();
        assert_eq!(found.format(), Format::Pe, "{context}");
        assert_eq!(
            found.location(),
            &Location::Section {
                name: SECTION_PE,
                offset: at as u64
            },
            "{context}"
        );
        signer.expect(&path, Verdict::Unsigned, context);

        let sealed = signer.seal(&path);
        let unsigned = std::fs::read(&path).unwrap();
        let slot = slot_offset(&unsigned, &record);
        // CheckSum and the security directory are zero before signing, so
        // the digest is that of the whole file, seal fields zeroed.
        assert_eq!(u32_at(&unsigned, fields.check_sum), 0);
        assert_eq!(&unsigned[fields.security..fields.security + 8], &[0; 8]);
        let expected = sha256_with_zeros(&unsigned, unsigned.len(), &[seal_fields(slot)]);
        assert_eq!(sealed.digest, expected, "{context}");
        assert_sealed_in_place(&original, &unsigned, slot, expected);
        signer.expect(&path, Verdict::SealedAndBound, context);

        // Signed after sealing.
        let mut signed = unsigned.clone();
        let table = sign_like_signtool(&mut signed, &fields, 500, 7);
        assert_ne!(u32_at(&signed, fields.check_sum), 0);
        let path = scratch.write("signed.exe", &signed);
        let v = signer.expect(
            &path,
            Verdict::SealedAndBound,
            &format!("{context}, signed"),
        );
        let authenticode_like = sha256_with_zeros(
            &signed,
            table.start,
            &[
                fields.check_sum..fields.check_sum + 4,
                fields.security..fields.security + 8,
                seal_fields(slot),
            ],
        );
        assert_eq!(authenticode_like, expected);
        assert_eq!(v.seal.unwrap().file_digest, expected, "{context}");

        // Signed again, with a signature of another size (`signtool sign`
        // over a signed file replaces the table).
        let mut resigned = unsigned.clone();
        sign_like_signtool(&mut resigned, &fields, 1234, 99);
        let path = scratch.write("resigned.exe", &resigned);
        signer.expect(
            &path,
            Verdict::SealedAndBound,
            &format!("{context}, re-signed"),
        );

        // Code changed after signing: the seal says so.
        let code = memchr::memmem::find(&signed, &PE_CODE).unwrap();
        let path = scratch.flipped("code.exe", &signed, code + 3);
        signer.expect(&path, Verdict::Invalid, &format!("{context}, code"));
        // So does a byte of the section after the record.
        let data = memchr::memmem::find(&signed, PE_DATA).unwrap();
        let path = scratch.flipped("data.exe", &signed, data);
        signer.expect(&path, Verdict::Invalid, &format!("{context}, data"));
        // The exclusions are exactly the two fields: the data directory
        // next to the certificate table's (base relocations) is covered.
        let path = scratch.flipped("dir5.exe", &signed, fields.security + 8);
        signer.expect(&path, Verdict::Invalid, &format!("{context}, directory 5"));

        // A byte of the certificate table changed: still bound. Authenticode
        // leaves the table out of its own digest (it holds the signature,
        // written after hashing), and the seal does the same so that it
        // survives signing; the table's integrity is the Authenticode
        // signature's business, checked by Windows, not by the seal.
        let path = scratch.flipped("cert.exe", &signed, table.start + 100);
        signer.expect(
            &path,
            Verdict::SealedAndBound,
            &format!("{context}, certificate byte"),
        );
    }
}

/// The security directory is left out of the digest, but where it points
/// ends the coverage: rewriting it after sealing, to call the sections after
/// the record a "certificate table", changes what is hashed, so it cannot
/// hide a change to those sections.
#[test]
fn pe_a_security_directory_moved_after_sealing_hides_nothing() {
    let signer = signer();
    let record = record(&sample_entries());
    let scratch = Scratch::new();
    let original = pe_image(true, &record);
    let fields = pe_fields(&original, true);
    let path = scratch.write("app.exe", &original);
    signer.seal(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    // `.data` starts file-aligned, after the record; claim it and the rest
    // of the file are the table.
    let data = memchr::memmem::find(&bytes, PE_DATA).unwrap();
    assert!(data > record_offset(&bytes, &record) + record.len());
    let len = bytes.len() - data;
    set_u32(&mut bytes, fields.security, data as u32);
    set_u32(&mut bytes, fields.security + 4, len as u32);
    let path = scratch.write("moved.exe", &bytes);
    signer.expect(&path, Verdict::Invalid, "moved directory");
    bytes[data] ^= 0x5a;
    let path = scratch.write("tampered.exe", &bytes);
    signer.expect(
        &path,
        Verdict::Invalid,
        "`.data` changed under a moved directory",
    );
}

/// Bytes appended after the certificate table (an "overlay" some programs
/// read at run time) are part of the file. The table is the last thing in a
/// signed image; Authenticode's own digest changes with the file's length.
/// The seal's verdict, "a trusted key sealed exactly this file", should not
/// survive an appended payload.
#[test]
fn pe_bytes_appended_after_the_certificate_table_break_the_seal() {
    let signer = signer();
    let record = record(&sample_entries());
    let scratch = Scratch::new();
    let original = pe_image(true, &record);
    let fields = pe_fields(&original, true);
    let path = scratch.write("app.exe", &original);
    signer.seal(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    sign_like_signtool(&mut bytes, &fields, 500, 7);
    let path = scratch.write("signed.exe", &bytes);
    signer.expect(&path, Verdict::SealedAndBound, "signed");
    bytes.extend_from_slice(b"MALICIOUS OVERLAY PAYLOAD.......");
    let path = scratch.write("appended.exe", &bytes);
    signer.expect(&path, Verdict::Invalid, "bytes after the certificate table");
}

// ---------------------------------------------------------------------------
// 3. A Mach-O executable with LC_CODE_SIGNATURE, and `codesign -f`.

const MH_MAGIC_64: u32 = 0xfeed_facf;
const CPU_TYPE_ARM64: u32 = 0x0100_000c;
const MH_EXECUTE: u32 = 2;
const LC_SEGMENT_64: u32 = 0x19;
const LC_CODE_SIGNATURE: u32 = 0x1d;
const VM_BASE: u64 = 0x1_0000_0000;
const PAGE: usize = 0x4000;
/// `nop` x 15, `ret`.
const MACHO_CODE: [u8; 64] = {
    let mut code = [0u8; 64];
    let mut i = 0;
    while i < 60 {
        code[i] = 0x1f;
        code[i + 1] = 0x20;
        code[i + 2] = 0x03;
        code[i + 3] = 0xd5;
        i += 4;
    }
    code[60] = 0xc0;
    code[61] = 0x03;
    code[62] = 0x5f;
    code[63] = 0xd6;
    code
};
/// `__LINKEDIT` content before the signature (a string table, say).
const LINKEDIT: &[u8] = b"\0_main\0_buildtrace_record\0__mh_execute_header\0\0";

/// A hand-assembled arm64 MH_EXECUTE and where its parts are.
struct MachO {
    bytes: Vec<u8>,
    code: usize,
    record: usize,
    /// File offset of the `__LINKEDIT` LC_SEGMENT_64 command.
    linkedit_cmd: usize,
    /// File offset of the LC_CODE_SIGNATURE command.
    signature_cmd: usize,
    /// The signature's data (`dataoff` to the end of the file).
    signature: Range<usize>,
}

fn name16(name: &str) -> [u8; 16] {
    let mut n = [0u8; 16];
    n[..name.len()].copy_from_slice(name.as_bytes());
    n
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

/// section_64 (80 bytes).
fn section64(b: &mut Vec<u8>, sect: &str, offset: usize, size: usize, flags: u32) {
    b.extend_from_slice(&name16(sect));
    b.extend_from_slice(&name16("__TEXT"));
    put64(b, VM_BASE + offset as u64); // addr
    put64(b, size as u64);
    put32(b, offset as u32);
    put32(b, 4); // align 2^4
    put32(b, 0); // reloff
    put32(b, 0); // nreloc
    put32(b, flags);
    put32(b, 0);
    put32(b, 0);
    put32(b, 0);
}

/// A code-signature SuperBlob of `len` bytes (magic, length, count, filler).
fn code_signature(len: usize, seed: u8) -> Vec<u8> {
    let mut blob = Vec::new();
    blob.extend_from_slice(&0xfade_0cc0u32.to_be_bytes());
    blob.extend_from_slice(&(len as u32).to_be_bytes());
    blob.extend_from_slice(&0u32.to_be_bytes());
    blob.extend((blob.len()..len).map(|i| (i as u8).wrapping_mul(13) ^ seed));
    blob
}

fn macho_executable(record: &[u8], signature_len: usize) -> MachO {
    const CODE_AT: usize = 0x400;
    const RECORD_AT: usize = 0x800;
    const LINKEDIT_AT: usize = PAGE;
    let mut cmds = Vec::new();
    // LC_SEGMENT_64 __TEXT, from the start of the file, two sections.
    put32(&mut cmds, LC_SEGMENT_64);
    put32(&mut cmds, 72 + 2 * 80);
    cmds.extend_from_slice(&name16("__TEXT"));
    put64(&mut cmds, VM_BASE);
    put64(&mut cmds, PAGE as u64); // vmsize
    put64(&mut cmds, 0); // fileoff
    put64(&mut cmds, PAGE as u64); // filesize
    put32(&mut cmds, 5); // maxprot r-x
    put32(&mut cmds, 5); // initprot
    put32(&mut cmds, 2); // nsects
    put32(&mut cmds, 0);
    // S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS
    section64(&mut cmds, "__text", CODE_AT, MACHO_CODE.len(), 0x8000_0400);
    section64(&mut cmds, "__buildtrace", RECORD_AT, record.len(), 0);
    // LC_SEGMENT_64 __LINKEDIT; sizes set below.
    let linkedit_cmd = 32 + cmds.len();
    put32(&mut cmds, LC_SEGMENT_64);
    put32(&mut cmds, 72);
    cmds.extend_from_slice(&name16("__LINKEDIT"));
    put64(&mut cmds, VM_BASE + PAGE as u64);
    put64(&mut cmds, 0); // vmsize
    put64(&mut cmds, LINKEDIT_AT as u64);
    put64(&mut cmds, 0); // filesize
    put32(&mut cmds, 1); // r--
    put32(&mut cmds, 1);
    put32(&mut cmds, 0);
    put32(&mut cmds, 0);
    // LC_CODE_SIGNATURE; dataoff and datasize set below.
    let signature_cmd = 32 + cmds.len();
    put32(&mut cmds, LC_CODE_SIGNATURE);
    put32(&mut cmds, 16);
    put32(&mut cmds, 0);
    put32(&mut cmds, 0);

    let mut b = Vec::new();
    put32(&mut b, MH_MAGIC_64);
    put32(&mut b, CPU_TYPE_ARM64);
    put32(&mut b, 0); // CPU_SUBTYPE_ARM64_ALL
    put32(&mut b, MH_EXECUTE);
    put32(&mut b, 3); // ncmds
    put32(&mut b, cmds.len() as u32);
    put32(&mut b, 1); // MH_NOUNDEFS
    put32(&mut b, 0);
    b.extend_from_slice(&cmds);
    assert!(b.len() <= CODE_AT);
    b.resize(CODE_AT, 0);
    b.extend_from_slice(&MACHO_CODE);
    b.resize(RECORD_AT, 0);
    b.extend_from_slice(record);
    assert!(b.len() <= LINKEDIT_AT);
    b.resize(LINKEDIT_AT, 0);
    b.extend_from_slice(LINKEDIT);
    b.resize(b.len().next_multiple_of(16), 0);
    let dataoff = b.len();
    set_u32(&mut b, signature_cmd + 8, dataoff as u32);
    let mut m = MachO {
        bytes: b,
        code: CODE_AT,
        record: RECORD_AT,
        linkedit_cmd,
        signature_cmd,
        signature: dataoff..dataoff,
    };
    codesign(&mut m, signature_len, 1);
    m
}

/// What `codesign -f` does to the file: a new signature of `len` bytes at
/// the same offset, LC_CODE_SIGNATURE's datasize and `__LINKEDIT`'s sizes
/// updated to match.
fn codesign(m: &mut MachO, len: usize, seed: u8) {
    let dataoff = m.signature.start;
    m.bytes.truncate(dataoff);
    m.bytes.extend_from_slice(&code_signature(len, seed));
    m.signature = dataoff..m.bytes.len();
    set_u32(&mut m.bytes, m.signature_cmd + 12, len as u32);
    let linkedit_at = PAGE;
    let filesize = (m.bytes.len() - linkedit_at) as u64;
    set_u64(&mut m.bytes, m.linkedit_cmd + 48, filesize);
    set_u64(
        &mut m.bytes,
        m.linkedit_cmd + 32,
        filesize.next_multiple_of(PAGE as u64),
    );
}

/// The digest `codesign` leaves alone, computed from the layout: the file
/// up to the signature, with LC_CODE_SIGNATURE's dataoff/datasize,
/// `__LINKEDIT`'s vmsize/filesize and the seal fields zeroed.
fn macho_expected_digest(m: &MachO, slot: usize) -> [u8; 32] {
    sha256_with_zeros(
        &m.bytes,
        m.signature.start,
        &[
            m.signature_cmd + 8..m.signature_cmd + 16,
            m.linkedit_cmd + 32..m.linkedit_cmd + 40,
            m.linkedit_cmd + 48..m.linkedit_cmd + 56,
            seal_fields(slot),
        ],
    )
}

#[test]
fn a_mach_o_executable_stays_sealed_through_codesign() {
    let signer = signer();
    let record = record(&sample_entries());
    let scratch = Scratch::new();
    let mut m = macho_executable(&record, 300);
    let path = scratch.write("app", &m.bytes);
    assert_eq!(record_offset(&m.bytes, &record), m.record);
    let found = inspect_path(&path, &Limits::default()).unwrap();
    assert_eq!(found.format(), Format::MachO);
    assert_eq!(
        found.location(),
        &Location::Section {
            name: SECTION_MACHO,
            offset: m.record as u64
        }
    );
    assert_eq!(found.record_bytes(), &record[..]);
    signer.expect(&path, Verdict::Unsigned, "Mach-O");

    let before = m.bytes.clone();
    let sealed = signer.seal(&path);
    m.bytes = std::fs::read(&path).unwrap();
    let slot = slot_offset(&m.bytes, &record);
    let expected = macho_expected_digest(&m, slot);
    assert_eq!(sealed.digest, expected);
    assert_sealed_in_place(&before, &m.bytes, slot, expected);
    signer.expect(&path, Verdict::SealedAndBound, "Mach-O sealed");

    // Re-signed with a signature of another size, larger then smaller.
    for (len, seed) in [(1000, 2), (120, 3)] {
        codesign(&mut m, len, seed);
        let path = scratch.write(&format!("resigned-{len}"), &m.bytes);
        let v = signer.expect(&path, Verdict::SealedAndBound, &format!("re-signed, {len}"));
        assert_eq!(macho_expected_digest(&m, slot), expected);
        assert_eq!(v.seal.unwrap().file_digest, expected);
    }

    // A byte of code.
    let path = scratch.flipped("code", &m.bytes, m.code + 9);
    signer.expect(&path, Verdict::Invalid, "Mach-O code");
    // A byte of the record's payload.
    let path = scratch.flipped("payload", &m.bytes, m.record + 64 + 10);
    signer.expect(&path, Verdict::Invalid, "Mach-O payload");
    // A byte of `__LINKEDIT` before the signature.
    let path = scratch.flipped("linkedit", &m.bytes, PAGE + 2);
    signer.expect(&path, Verdict::Invalid, "Mach-O __LINKEDIT");
    // `__LINKEDIT`'s fileoff is not among the fields `codesign` rewrites.
    let path = scratch.flipped("fileoff", &m.bytes, m.linkedit_cmd + 41);
    let v = verify_path(&path, &signer.trusted, &Limits::default());
    assert!(
        !matches!(&v, Ok(v) if v.verdict == Verdict::SealedAndBound),
        "{v:?}"
    );
    // A byte of the signature: `codesign` owns it, the seal leaves it out.
    let path = scratch.flipped("signature", &m.bytes, m.signature.start + 20);
    signer.expect(&path, Verdict::SealedAndBound, "Mach-O signature byte");
}

/// LC_CODE_SIGNATURE's `dataoff` is left out of the digest, but it ends the
/// coverage: moving it after sealing, to start right after the record,
/// changes what is hashed, so it cannot hide a change to what follows.
#[test]
fn mach_o_a_moved_code_signature_hides_nothing() {
    let signer = signer();
    let record = record(&sample_entries());
    let scratch = Scratch::new();
    let m = macho_executable(&record, 300);
    let path = scratch.write("app", &m.bytes);
    signer.seal(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let after_record = m.record + record.len();
    assert_eq!(after_record % 16, 0);
    set_u32(&mut bytes, m.signature_cmd + 8, after_record as u32);
    let datasize = (bytes.len() - after_record) as u32;
    set_u32(&mut bytes, m.signature_cmd + 12, datasize);
    bytes[PAGE + 2] ^= 0x5a; // `__LINKEDIT` content (symbols, fixups)
    let path = scratch.write("tampered", &bytes);
    signer.expect(
        &path,
        Verdict::Invalid,
        "__LINKEDIT changed under a moved signature",
    );
}

/// As for PE: the signature ends the file (`__LINKEDIT` is the last
/// segment and ends with it); bytes appended after it are part of the file.
#[test]
fn mach_o_bytes_appended_after_the_code_signature_break_the_seal() {
    let signer = signer();
    let record = record(&sample_entries());
    let scratch = Scratch::new();
    let m = macho_executable(&record, 300);
    let path = scratch.write("app", &m.bytes);
    signer.seal(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"MALICIOUS TRAILER...............");
    let path = scratch.write("appended", &bytes);
    signer.expect(&path, Verdict::Invalid, "bytes after the code signature");
}

/// A universal file holding `thin` at 16 KiB.
fn universal(thin: &[u8]) -> Vec<u8> {
    assert_eq!(PAGE, 1 << 14);
    objects::universal(thin, CPU_TYPE_ARM64, 0, 14)
}

#[test]
fn a_universal_mach_o_file_is_refused_with_lipo_advice() {
    let signer = signer();
    let record = record(&sample_entries());
    let scratch = Scratch::new();
    let m = macho_executable(&record, 300);
    let fat = universal(&m.bytes);
    let path = scratch.write("app", &fat);
    // The reader does read it, through its first architecture.
    let found = inspect_path(&path, &Limits::default()).unwrap();
    assert_eq!(
        found.location(),
        &Location::Section {
            name: SECTION_MACHO,
            offset: (PAGE + m.record) as u64
        }
    );
    let error = seal_file(&path, None, &signer.key, &Limits::default())
        .expect_err("a universal file is not sealed");
    let message = error.to_string();
    assert!(message.contains("lipo"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), fat, "the input is unchanged");
    assert_eq!(scratch.names(), ["app"], "no temporary file is left");

    // A sealed thin file put into a universal one is not verified as a
    // whole: the verifier says to check it per architecture.
    let thin = scratch.write("thin", &m.bytes);
    signer.seal(&thin);
    let sealed_thin = std::fs::read(&thin).unwrap();
    let path = scratch.write("fat-of-sealed", &universal(&sealed_thin));
    let error = verify_path(&path, &signer.trusted, &Limits::default())
        .expect_err("a universal file is not verified as a whole");
    assert!(error.to_string().contains("lipo -thin"), "{error}");
}

// ---------------------------------------------------------------------------
// 4. A raw record, as `$OUT_DIR/buildtrace.bin`.

#[test]
fn a_raw_record_file_seals_and_verifies() {
    let signer = signer();
    let record = record(&sample_entries());
    let scratch = Scratch::new();
    let path = scratch.write("buildtrace.bin", &record);
    signer.expect(&path, Verdict::Unsigned, "raw record");
    let sealed = signer.seal(&path);
    assert_eq!(sealed.format, Format::RawRecord);
    assert_eq!(sealed.location, Location::MagicScan { offset: 0 });
    let bytes = std::fs::read(&path).unwrap();
    let slot = slot_offset(&bytes, &record);
    assert_eq!(slot, record.len() - SLOT_LEN);
    let expected = sha256_with_zeros(&bytes, bytes.len(), &[seal_fields(slot)]);
    assert_eq!(sealed.digest, expected);
    assert_sealed_in_place(&record, &bytes, slot, expected);
    signer.expect(&path, Verdict::SealedAndBound, "raw record sealed");

    // Sealing again replaces the seal, same digest.
    let again = signer.seal(&path);
    assert_eq!(again.digest, expected);
    assert_eq!(
        again.replaced,
        Some(buildtrace::signing::key_id(signer.key.verifying_key()))
    );
    signer.expect(&path, Verdict::SealedAndBound, "raw record sealed twice");

    // The payload: its own digest no longer matches.
    let path = scratch.flipped("payload.bin", &bytes, 64 + 3);
    signer.expect(&path, Verdict::Invalid, "raw record payload");
    // The header's reserved flags, ignored by readers: only the seal sees it.
    let path = scratch.flipped("flags.bin", &bytes, 28);
    signer.expect(&path, Verdict::Invalid, "raw record header flags");
    // One byte appended.
    let mut longer = bytes.clone();
    longer.push(0);
    let path = scratch.write("longer.bin", &longer);
    signer.expect(&path, Verdict::Invalid, "raw record with a byte appended");
}

#[test]
fn the_record_written_by_the_build_script_seals() {
    let signer = signer();
    let scratch = Scratch::new();
    let original = std::fs::read(concat!(env!("OUT_DIR"), "/buildtrace.bin")).unwrap();
    let path = scratch.write("buildtrace.bin", &original);
    let sealed = signer.seal(&path);
    let bytes = std::fs::read(&path).unwrap();
    let slot = bytes.len() - SLOT_LEN;
    let expected = sha256_with_zeros(&bytes, bytes.len(), &[seal_fields(slot)]);
    assert_eq!(sealed.digest, expected);
    assert_sealed_in_place(&original, &bytes, slot, expected);
    signer.expect(&path, Verdict::SealedAndBound, "OUT_DIR record");
    let path = scratch.flipped("flags.bin", &bytes, 28);
    signer.expect(&path, Verdict::Invalid, "OUT_DIR record, header flags");
}
