//! The tamper matrix: a sealed file, changed one way at a time, must never
//! verify as sealed-and-bound. The same mutants for every object format;
//! where they sit in the file comes from the format's own tools (binutils'
//! `readelf`/`objdump`, macholib for Mach-O), read by the callers.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Offsets within the seal slot (FORMAT.md).
pub const SLOT_FLAGS: u64 = 5;
pub const SEAL_DIGEST: u64 = 112;
pub const SEAL_KEY_ID: u64 = 144;
pub const SEAL_SIG_LEN: u64 = 176;
pub const SEAL_SIG: u64 = 177;
pub const SEAL_FIELDS_LEN: usize = 144;

/// Where a sealed file's parts are, by its format's own tools.
pub struct Layout {
    /// File offset of the record's section.
    pub record: u64,
    /// File offset and size of the code section.
    pub text: (u64, u64),
    /// Fields of the format's own headers: (what, file offset).
    pub header: Vec<(String, u64)>,
    /// The format's `strip`, when this machine has one.
    pub strip: Option<String>,
}

/// File offset of the seal slot: the last 256 bytes of the record, whose
/// length is the header's total-length field (FORMAT.md).
pub fn slot_offset(file: &Path, record: u64) -> u64 {
    let bytes = std::fs::read(file).unwrap();
    let at = record as usize;
    assert_eq!(
        &bytes[at..at + 8],
        b"\x89BTRACE\x1a",
        "no record magic at the section's offset"
    );
    let total = u32::from_le_bytes(bytes[at + 12..at + 16].try_into().unwrap());
    record + u64::from(total) - 256
}

pub fn flip(file: &Path, offset: u64) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[offset as usize] ^= 0x01;
    std::fs::write(file, bytes).unwrap();
}

pub fn write_at(file: &Path, offset: u64, data: &[u8]) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[offset as usize..offset as usize + data.len()].copy_from_slice(data);
    std::fs::write(file, bytes).unwrap();
}

type Mutate = Box<dyn Fn(&Path)>;

/// Runs every mutant of the sealed `golden` through `verify` (exit code and
/// `verify --json` report, with the sealing key trusted and `--require
/// sealed`); `copy` makes a fresh copy to mutate. Panics on the first
/// mutant whose verdict or exit code is not the expected one.
pub fn check_matrix(
    golden: &Path,
    layout: &Layout,
    copy: impl Fn(&Path) -> PathBuf,
    verify: impl Fn(&Path) -> (i32, Value),
) {
    let slot = slot_offset(golden, layout.record);
    let record = layout.record;
    let (text, text_len) = layout.text;
    let mut cases: Vec<(String, Mutate, &str)> = vec![
        (
            "payload byte".into(),
            Box::new(move |f| flip(f, record + 64 + 9)),
            "invalid",
        ),
        (
            "record header (payload length)".into(),
            Box::new(move |f| flip(f, record + 16)),
            "invalid",
        ),
        (
            "seal digest".into(),
            Box::new(move |f| flip(f, slot + SEAL_DIGEST + 3)),
            "invalid",
        ),
        (
            "seal signature".into(),
            Box::new(move |f| flip(f, slot + SEAL_SIG + 40)),
            "invalid",
        ),
        (
            "seal key id".into(),
            Box::new(move |f| flip(f, slot + SEAL_KEY_ID)),
            "untrusted-key",
        ),
        (
            "slot flags".into(),
            Box::new(move |f| flip(f, slot + SLOT_FLAGS)),
            "invalid",
        ),
        (
            "code section".into(),
            Box::new(move |f| flip(f, text + text_len / 2)),
            "invalid",
        ),
        (
            "bytes appended".into(),
            Box::new(|f| {
                let mut b = std::fs::read(f).unwrap();
                b.extend_from_slice(b"appended");
                std::fs::write(f, b).unwrap();
            }),
            "invalid",
        ),
        (
            "seal stripped (fields and flag cleared)".into(),
            Box::new(move |f| {
                write_at(f, slot + SEAL_DIGEST, &[0; SEAL_FIELDS_LEN]);
                write_at(f, slot, &[0; 8]);
            }),
            "unsigned",
        ),
        (
            "seal fields zeroed, flag kept".into(),
            Box::new(move |f| write_at(f, slot + SEAL_DIGEST, &[0; SEAL_FIELDS_LEN])),
            "invalid",
        ),
    ];
    for (what, offset) in &layout.header {
        let offset = *offset;
        cases.push((what.clone(), Box::new(move |f| flip(f, offset)), "invalid"));
    }
    match &layout.strip {
        Some(strip) => {
            let strip = strip.clone();
            cases.push((
                format!("{strip} --strip-all after sealing"),
                Box::new(move |f| {
                    crate::common::run(Command::new(&strip).arg("--strip-all").arg(f));
                }),
                "invalid",
            ));
        }
        None => println!("(no strip for this format here: that mutant is not run)"),
    }
    let mut bound = 0;
    println!("{:<46} {:<18} exit", "mutant", "verdict");
    for (name, mutate, want) in &cases {
        let f = copy(golden);
        mutate(&f);
        let (code, v) = verify(&f);
        let verdict = v["verdict"].as_str().unwrap().to_owned();
        println!("{name:<46} {verdict:<18} {code}");
        if verdict == "sealed-and-bound" || code == 0 {
            bound += 1;
        }
        assert_eq!(&verdict, want, "{name}: {v}");
        let want_code = match *want {
            "invalid" => 1,
            "untrusted-key" => 3,
            _ => 4,
        };
        assert_eq!(code, want_code, "{name}");
        if verdict == "invalid" {
            assert!(
                !v["problems"].as_array().unwrap().is_empty(),
                "{name}: an invalid verdict says what no longer matches"
            );
        }
    }
    assert_eq!(bound, 0, "mutants reported sealed-and-bound");
}
