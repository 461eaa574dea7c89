//! A valid header around an arbitrary payload: the entry decoder, iteration
//! and lookup. With the header right, the only possible error is a bad entry.
#![no_main]

#[path = "checks.rs"]
mod checks;

use buildtrace::provenance::{encode_record, FormatError, Record, MAX_PAYLOAD_LEN};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|payload: &[u8]| {
    if payload.len() > MAX_PAYLOAD_LEN {
        return;
    }
    let bytes = encode_record(payload, |p| Sha256::digest(p).into());
    match Record::parse(&bytes) {
        Ok(record) => {
            assert_eq!(record.payload(), payload);
            assert_eq!(record.as_bytes(), &bytes[..]);
            checks::check_record(&record);
        }
        Err(error) => {
            assert!(matches!(error, FormatError::BadEntry(_)), "{error:?}");
            let _ = error.to_string();
        }
    }
});
