//! The whole-file reader on arbitrary bytes: a typed error, or a record that
//! validates, hashes to its digest, lies in the file where it is said to be,
//! and renders.
#![no_main]

#[path = "checks.rs"]
mod checks;

use std::io::Cursor;
use std::path::Path;

use buildtrace::inspect::{inspect_reader, render, Format, Limits, Location};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let inspection = match inspect_reader(Cursor::new(data), &Limits::default()) {
        Ok(inspection) => inspection,
        Err(error) => {
            let _ = error.to_string();
            let _ = error.is_no_record();
            return;
        }
    };
    let record = inspection.record();
    checks::check_record(&record);
    assert_eq!(
        Sha256::digest(record.payload()).as_slice(),
        record.payload_digest()
    );
    let offset = match inspection.location() {
        Location::Section { offset, .. } | Location::MagicScan { offset } => *offset,
        _ => unreachable!("a new location"),
    };
    if inspection.format() == Format::RawRecord {
        assert_eq!(offset, 0);
    }
    let bytes = inspection.record_bytes();
    let at = usize::try_from(offset).expect("offset within the input");
    assert_eq!(
        data.get(at..at + bytes.len()),
        Some(bytes),
        "the record is not at {}",
        inspection.location()
    );
    let _ = inspection.attributes();
    let _ = format!("{inspection:?}");

    let mut out = Vec::new();
    render::write_json(&mut out, &inspection).unwrap();
    serde_json::from_slice::<serde_json::Value>(&out).expect("--json prints JSON");
    out.clear();
    render::write_env(&mut out, &inspection).unwrap();
    out.clear();
    render::write_human(&mut out, Path::new("fuzz"), &inspection).unwrap();
});
