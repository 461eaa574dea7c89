//! `Record::parse` on arbitrary bytes: an error or a consistent record,
//! never a panic.
#![no_main]

#[path = "checks.rs"]
mod checks;

use buildtrace::provenance::Record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Record::parse(data) {
        Ok(record) => {
            assert!(data.starts_with(record.as_bytes()));
            checks::check_record(&record);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
