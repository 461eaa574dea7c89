//! From a record to the resource attributes a process reports.
//!
//! One function serves the running program (through the
//! [`ResourceDetector`](crate::ProvenanceDetector)) and the offline reader
//! (`buildtrace inspect --json`), so the two can never disagree: every stored
//! entry, plus the facts derived from the binary itself.

use crate::names;
use crate::provenance::{cap_value, Record, Value};

/// Facts about the executable file that the record cannot hold, because they
/// only exist once the file is linked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutableFacts {
    /// `process.executable.name`: the file name.
    pub name: Option<String>,
    /// `process.executable.build_id.gnu`: the linker's build-id, in hex.
    pub build_id_gnu: Option<String>,
    /// `process.executable.build_id.htlhash`.
    pub htlhash: Option<String>,
}

/// One resource attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// The OpenTelemetry attribute name.
    pub key: &'a str,
    /// Its value; text is capped at [`MAX_VALUE_LEN`](crate::provenance::MAX_VALUE_LEN).
    pub value: AttrValue<'a>,
}

/// A value that may borrow from the record or be derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue<'a> {
    /// Text.
    Str(std::borrow::Cow<'a, str>),
    /// A flag.
    Bool(bool),
    /// An integer.
    Int(i64),
}

impl std::fmt::Display for AttrValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrValue::Str(s) => f.write_str(s),
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Int(i) => write!(f, "{i}"),
        }
    }
}

/// `os.type` as the semantic conventions spell it, from Rust's `target_os`.
pub fn semconv_os_type(target_os: &str) -> &str {
    match target_os {
        "macos" | "ios" | "tvos" | "watchos" | "visionos" => "darwin",
        "illumos" => "illumos",
        "solaris" => "solaris",
        other => other, // linux, windows, freebsd, netbsd, openbsd, dragonfly, aix …
    }
}

/// `host.arch` as the semantic conventions spell it, from Rust's `target_arch`.
pub fn semconv_host_arch(target_arch: &str) -> &str {
    match target_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

/// Every resource attribute for `record` and the executable it is in, sorted
/// by key. Per-process attributes (`service.instance.id`, `process.pid`) are
/// not part of it.
pub fn resource_attributes<'a>(
    record: &Record<'a>,
    exe: &'a ExecutableFacts,
) -> Vec<Attribute<'a>> {
    let mut out: Vec<Attribute<'a>> = record
        .entries()
        .map(|e| Attribute {
            key: e.key,
            value: match e.value {
                Value::Str(s) => AttrValue::Str(cap_value(s)),
                Value::Bool(b) => AttrValue::Bool(b),
                Value::Int(i) => AttrValue::Int(i),
            },
        })
        .collect();
    let mut derive = |key: &'static str, value: Option<&'a str>| {
        if let Some(v) = value {
            out.push(Attribute {
                key,
                value: AttrValue::Str(cap_value(v)),
            });
        }
    };
    derive(
        names::OS_TYPE,
        record.get_str(names::TARGET_OS).map(semconv_os_type),
    );
    derive(
        names::HOST_ARCH,
        record.get_str(names::TARGET_ARCH).map(semconv_host_arch),
    );
    derive(names::PROCESS_EXECUTABLE_NAME, exe.name.as_deref());
    derive(
        names::PROCESS_EXECUTABLE_BUILD_ID_GNU,
        exe.build_id_gnu.as_deref(),
    );
    derive(
        names::PROCESS_EXECUTABLE_BUILD_ID_HTLHASH,
        exe.htlhash.as_deref(),
    );
    seal_attributes(record.seal_slot(), &mut out);
    out.sort_by(|a, b| a.key.cmp(b.key));
    out
}

fn seal_attributes(slot: &[u8], out: &mut Vec<Attribute<'_>>) {
    let text = |key, value: String| Attribute {
        key,
        value: AttrValue::Str(value.into()),
    };
    let (state, slot) = match crate::slot::Slot::parse(slot) {
        Ok(s) if s.seal.is_some() => ("sealed", s),
        Ok(s) if s.payload.is_some() => ("payload_signed", s),
        Ok(s) => ("unsigned", s),
        Err(_) => ("malformed", crate::slot::Slot::default()),
    };
    out.push(text(names::SEAL_STATE, state.to_owned()));
    if let Some(seal) = slot.seal {
        out.push(text(
            names::SEAL_DIGEST,
            crate::provenance::hex(seal.digest),
        ));
        out.push(text(
            names::SEAL_KEY_ID,
            crate::provenance::hex(seal.signature.key_id),
        ));
    }
    if let Some(payload) = slot.payload {
        out.push(text(
            names::SEAL_PAYLOAD_KEY_ID,
            crate::provenance::hex(payload.key_id),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_follow_semconv_not_rust() {
        assert_eq!(semconv_os_type("macos"), "darwin");
        assert_eq!(semconv_os_type("linux"), "linux");
        assert_eq!(semconv_os_type("windows"), "windows");
        assert_eq!(semconv_host_arch("x86_64"), "amd64");
        assert_eq!(semconv_host_arch("aarch64"), "arm64");
        assert_eq!(semconv_host_arch("x86"), "x86");
    }
}
