//! The three outputs of `buildtrace inspect`, and terminal escaping.
//!
//! All three show the same attributes, from [`Inspection::attributes`]:
//!
//! - [`write_human`], for a terminal, in the manner of `go version -m`; text
//!   from the file goes through [`escape_terminal`];
//! - [`write_json`], one JSON object of typed attribute values;
//! - [`write_env`], a value for `OTEL_RESOURCE_ATTRIBUTES`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use crate::attributes::AttrValue;
use crate::provenance::VERSION;

use super::{Inspection, Location};

/// Writes the human-readable report: a title line, one tab-separated line
/// per attribute in key order, and how the record was found.
///
/// # Examples
///
/// ```text
/// target/debug/app: buildtrace record v1, provenance id 5c0f…
///         buildtrace.build.debug      true
///         service.name                app
/// found in section `.buildtrace` at offset 2273280 (ELF)
/// ```
///
/// # Errors
/// Any error from `out`.
pub fn write_human(out: &mut impl Write, path: &Path, inspection: &Inspection) -> io::Result<()> {
    let record = inspection.record();
    writeln!(
        out,
        "{}: buildtrace record v{VERSION}, provenance id {}",
        escape_terminal(&path.display().to_string()),
        escape_terminal(record.id().unwrap_or("unknown")),
    )?;
    let attributes = inspection.attributes();
    let width = attributes.iter().map(|a| a.key.len()).max().unwrap_or(0);
    for attribute in &attributes {
        writeln!(
            out,
            "\t{:width$}\t{}",
            escape_terminal(attribute.key),
            escape_terminal(&attribute.value.to_string()),
        )?;
    }
    let how = match inspection.location() {
        Location::Section { .. } => "in",
        Location::MagicScan { .. } => "by",
    };
    writeln!(
        out,
        "found {how} {} ({})",
        inspection.location(),
        inspection.format()
    )
}

/// Writes one JSON object mapping each attribute name to its typed value
/// (string, boolean or number), then a newline.
///
/// # Errors
/// Any error from `out`.
pub fn write_json(out: &mut impl Write, inspection: &Inspection) -> io::Result<()> {
    let object: serde_json::Map<String, serde_json::Value> = inspection
        .attributes()
        .into_iter()
        .map(|a| {
            let value = match a.value {
                AttrValue::Str(s) => serde_json::Value::String(s.into_owned()),
                AttrValue::Bool(b) => serde_json::Value::Bool(b),
                AttrValue::Int(i) => serde_json::Value::from(i),
            };
            (a.key.to_owned(), value)
        })
        .collect();
    serde_json::to_writer(&mut *out, &object)?;
    writeln!(out)
}

/// Writes the attributes as `key=value` pairs joined by `,`, then a newline:
/// a value for `OTEL_RESOURCE_ATTRIBUTES`. Keys and values are
/// percent-encoded byte by byte, except for RFC 3986 unreserved characters.
///
/// # Examples
///
/// ```text
/// buildtrace.build.debug=true,service.name=my%20app
/// ```
///
/// # Errors
/// Any error from `out`.
pub fn write_env(out: &mut impl Write, inspection: &Inspection) -> io::Result<()> {
    let mut line = String::new();
    for attribute in inspection.attributes() {
        if !line.is_empty() {
            line.push(',');
        }
        line.push_str(&percent_encode(attribute.key));
        line.push('=');
        line.push_str(&percent_encode(&attribute.value.to_string()));
    }
    writeln!(out, "{line}")
}

/// Escapes what could deceive a terminal: control characters (C0, DEL, C1),
/// bidirectional overrides, isolates and marks, and zero-width characters
/// become `\u{…}`.
///
/// # Examples
///
/// ```
/// use buildtrace::inspect::render::escape_terminal;
/// assert_eq!(escape_terminal("ok\x1b[2J\u{202e}"), "ok\\u{1b}[2J\\u{202e}");
/// assert_eq!(escape_terminal("plain"), "plain");
/// ```
pub fn escape_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(deceives_terminal) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if deceives_terminal(c) {
            // Writing to a String cannot fail.
            let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

fn deceives_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

pub(crate) fn percent_encode(text: &str) -> Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if text.bytes().all(unreserved) {
        return Cow::Borrowed(text);
    }
    let mut encoded = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if unreserved(b) {
            encoded.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    Cow::Owned(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{inspect_reader, Limits};
    use crate::provenance::{encode_payload, encode_record, OwnedValue};
    use sha2::{Digest, Sha256};
    use std::collections::BTreeMap;

    /// A raw record with one value of each kind, one that needs encoding,
    /// and a stored `os.type` that the derived one must replace.
    fn inspection() -> Inspection {
        let mut entries = BTreeMap::new();
        entries.insert("buildtrace.git.dirty".into(), OwnedValue::Bool(true));
        entries.insert("buildtrace.lock.packages".into(), OwnedValue::Int(-163));
        entries.insert(
            "buildtrace.target.os".into(),
            OwnedValue::Str("linux".into()),
        );
        entries.insert("os.type".into(), OwnedValue::Str("stored".into()));
        entries.insert(
            "service.name".into(),
            OwnedValue::Str("my app, v=1%".into()),
        );
        let record = encode_record(&encode_payload(&entries), |p| Sha256::digest(p).into());
        inspect_reader(std::io::Cursor::new(record), &Limits::default()).unwrap()
    }

    fn render(write: fn(&mut Vec<u8>, &Inspection) -> io::Result<()>) -> (String, String) {
        let inspection = inspection();
        let mut out = Vec::new();
        write(&mut out, &inspection).unwrap();
        let htlhash = inspection.facts().htlhash.clone().unwrap();
        (String::from_utf8(out).unwrap(), htlhash)
    }

    #[test]
    fn human_output_is_aligned_in_key_order() {
        let (out, htlhash) = render(|out, i| write_human(out, Path::new("app"), i));
        let pad = |key: &str| format!("{key:35}");
        assert_eq!(
            out,
            format!(
                "app: buildtrace record v1, provenance id unknown\n\
                 \t{}\ttrue\n\
                 \t{}\t-163\n\
                 \t{}\tunsigned\n\
                 \t{}\tlinux\n\
                 \t{}\tlinux\n\
                 \tprocess.executable.build_id.htlhash\t{htlhash}\n\
                 \t{}\tmy app, v=1%\n\
                 found by magic scan at offset 0 (raw record)\n",
                pad("buildtrace.git.dirty"),
                pad("buildtrace.lock.packages"),
                pad("buildtrace.seal.state"),
                pad("buildtrace.target.os"),
                pad("os.type"),
                pad("service.name"),
            )
        );
    }

    #[test]
    fn json_is_one_object_of_typed_values() {
        let (out, htlhash) = render(write_json);
        assert_eq!(
            out,
            format!(
                "{{\"buildtrace.git.dirty\":true,\"buildtrace.lock.packages\":-163,\
                 \"buildtrace.seal.state\":\"unsigned\",\"buildtrace.target.os\":\"linux\",\"os.type\":\"linux\",\
                 \"process.executable.build_id.htlhash\":\"{htlhash}\",\
                 \"service.name\":\"my app, v=1%\"}}\n"
            )
        );
    }

    #[test]
    fn env_output_is_percent_encoded_pairs() {
        let (out, htlhash) = render(write_env);
        assert_eq!(
            out,
            format!(
                "buildtrace.git.dirty=true,buildtrace.lock.packages=-163,\
                 buildtrace.seal.state=unsigned,buildtrace.target.os=linux,os.type=linux,\
                 process.executable.build_id.htlhash={htlhash},\
                 service.name=my%20app%2C%20v%3D1%25\n"
            )
        );
    }

    #[test]
    fn escapes_controls_bidi_and_zero_width_only() {
        for c in [
            '\0', '\t', '\n', '\x1b', '\x7f', '\u{85}', '\u{9f}', '\u{61c}', '\u{200b}',
            '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2060}', '\u{2066}',
            '\u{2069}', '\u{feff}',
        ] {
            let text = c.to_string();
            assert_eq!(escape_terminal(&text), format!("\\u{{{:x}}}", u32::from(c)));
        }
        for kept in [
            "é", "日本", "\u{a0}", "a-b_c~d", "\\", "\u{2070}", "\u{201f}",
        ] {
            assert_eq!(escape_terminal(kept), kept);
        }
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        assert_eq!(percent_encode("a.B-c_9~"), "a.B-c_9~");
        assert_eq!(percent_encode("a=b,c d%"), "a%3Db%2Cc%20d%25");
        assert_eq!(percent_encode("é\n"), "%C3%A9%0A");
    }
}
