//! What every decoded record must satisfy, whatever bytes it came from.

use std::collections::BTreeMap;

use buildtrace::names;

use buildtrace::provenance::{
    encode_payload, OwnedValue, Record, Value, ALIGN, MAX_ENTRIES, MAX_PAYLOAD_LEN, MAX_VALUE_LEN,
    SEAL_LEN,
};

/// Checks the record's views against each other and its entries against a
/// re-encoding.
pub fn check_record(record: &Record<'_>) {
    let bytes = record.as_bytes();
    assert_eq!(bytes.len() % ALIGN, 0, "record length not aligned");
    assert!(record.payload().len() <= MAX_PAYLOAD_LEN);
    assert_eq!(record.payload_digest().len(), 32);
    assert_eq!(record.seal_slot().len(), SEAL_LEN);
    assert!(bytes.ends_with(record.seal_slot()));

    let entries: Vec<_> = record.entries().collect();
    assert_eq!(entries.len(), record.entries().len());
    assert!(entries.len() <= MAX_ENTRIES);
    for pair in entries.windows(2) {
        assert!(pair[0].key < pair[1].key, "keys not strictly sorted");
    }
    let mut owned = BTreeMap::new();
    let mut capped = false;
    for entry in &entries {
        assert!(!entry.key.is_empty() && entry.key.len() <= 255);
        assert!(entry.key.bytes().all(|c| c.is_ascii_graphic()));
        assert_eq!(record.get(entry.key), Some(entry.value));
        let _ = entry.value.to_string();
        let value = match entry.value {
            Value::Str(s) => {
                assert_eq!(record.get_str(entry.key), Some(s));
                capped |= s.len() > MAX_VALUE_LEN;
                OwnedValue::Str(s.to_owned())
            }
            Value::Bool(b) => {
                assert_eq!(record.get_str(entry.key), None);
                OwnedValue::Bool(b)
            }
            Value::Int(i) => {
                assert_eq!(record.get_str(entry.key), None);
                OwnedValue::Int(i)
            }
        };
        owned.insert(entry.key.to_owned(), value);
        // A key just after this one is absent unless it is the next entry.
        let after = format!("{}\0", entry.key);
        assert_eq!(record.get(&after), None);
    }
    for probe in ["", names::SERVICE_NAME, names::ID, "~"] {
        let present = entries.iter().find(|e| e.key == probe).map(|e| e.value);
        assert_eq!(record.get(probe), present, "lookup of {probe:?}");
    }
    assert_eq!(record.id(), record.get_str(names::ID));
    // The payload is exactly its entries: re-encoding gives the same bytes
    // (the encoder caps long text, which a reader accepts).
    if !capped {
        assert_eq!(
            encode_payload(&owned),
            record.payload(),
            "re-encoding differs"
        );
    }
    let _ = format!("{record:?}");
}
