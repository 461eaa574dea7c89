//! cargo-auditable's dependency list, found beside the record.
//!
//! `cargo auditable build` embeds the build's dependency tree as
//! zlib-compressed JSON (`{"packages": [{"name", "version", "source", …}]}`)
//! in a section named `.dep-v0` (ELF, PE; `__DATA,.dep-v0` on Mach-O), the
//! list syft, trivy, grype and `cargo audit bin` read. buildtrace only
//! reports it (present, how many packages) and never writes it: the two
//! records live side by side, and the seal covers both.
//!
//! The section is read as hostile input: its declared size is checked before
//! anything is read, the compressed bytes and the inflated JSON are bounded
//! by [`MAX_COMPRESSED`] and [`MAX_JSON`] (cargo-auditable's own reader
//! allows 8 MiB of JSON), and nothing in it panics.

use std::path::Path;

use object::read::ReadCache;
use object::{Object, ObjectSection};

use super::{InspectError, Limits};

/// The section's name (the Mach-O section name too, in segment `__DATA`).
pub const SECTION: &str = ".dep-v0";
/// Most compressed bytes read from the section.
pub const MAX_COMPRESSED: u64 = 8 << 20;
/// Most bytes of JSON inflated from it.
pub const MAX_JSON: usize = 8 << 20;

/// What the `.dep-v0` section says, as far as buildtrace reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auditable {
    /// No `.dep-v0` section.
    Absent,
    /// A section whose JSON lists this many packages (the root included).
    Present {
        /// Compressed size of the section.
        section_len: u64,
        /// Entries of `packages`.
        packages: usize,
    },
    /// A section that does not decode; the reason.
    Unreadable(&'static str),
}

/// Looks for cargo-auditable's section in the executable at `path`,
/// examining at most `limits.max_sections` section headers.
///
/// # Errors
/// [`InspectError`] when the file cannot be opened or read; a file whose
/// headers do not parse, or that has no such section, is
/// [`Auditable::Absent`].
pub fn read_path(path: &Path, limits: &Limits) -> Result<Auditable, InspectError> {
    let file = super::open_checked(path)?;
    let cache = ReadCache::new(file);
    let Ok(object) = object::File::parse(&cache) else {
        return Ok(Auditable::Absent);
    };
    let found = object
        .sections()
        .take(limits.max_sections)
        .find(|s| s.name_bytes() == Ok(SECTION.as_bytes()));
    let Some(section) = found else {
        return Ok(Auditable::Absent);
    };
    if section.size() > MAX_COMPRESSED {
        return Ok(Auditable::Unreadable("the section is larger than 8 MiB"));
    }
    let Ok(data) = section.data() else {
        return Ok(Auditable::Unreadable(
            "the section's bytes are outside the file",
        ));
    };
    Ok(decode(data))
}

/// Decodes the section's bytes.
pub fn decode(compressed: &[u8]) -> Auditable {
    let Ok(json) = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, MAX_JSON)
    else {
        return Auditable::Unreadable("not zlib data, or more than 8 MiB of JSON");
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&json) else {
        return Auditable::Unreadable("not JSON");
    };
    match value.get("packages").and_then(serde_json::Value::as_array) {
        Some(packages) => Auditable::Present {
            section_len: compressed.len() as u64,
            packages: packages.len(),
        },
        None => Auditable::Unreadable("no packages list"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_packages_and_refuses_garbage_and_bombs() {
        let json = br#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true},{"name":"b","version":"0.1.0","source":"crates.io"}]}"#;
        let z = miniz_oxide::deflate::compress_to_vec_zlib(json, 6);
        assert_eq!(
            decode(&z),
            Auditable::Present {
                section_len: z.len() as u64,
                packages: 2
            }
        );
        assert!(matches!(decode(b"not zlib"), Auditable::Unreadable(_)));
        assert!(matches!(
            decode(&z[..z.len() / 2]),
            Auditable::Unreadable(_)
        ));
        // 64 MiB of zeros compress to a few dozen KiB: the limit stops the inflation.
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![b' '; 64 << 20], 9);
        assert!(matches!(decode(&bomb), Auditable::Unreadable(_)));
    }
}
