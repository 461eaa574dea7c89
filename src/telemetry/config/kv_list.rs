//! The `key=value,…` list of [`OTEL_RESOURCE_ATTRIBUTES`] and
//! [`OTEL_EXPORTER_OTLP_HEADERS`]: splitting, trimming, percent-decoding, the
//! header rules, and the errors that reject a whole list.

use std::ffi::OsStr;
use std::fmt;

use super::values::Headers;
#[cfg(doc)]
use super::{
    resolve,
    vars::{OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES},
};

/// Which side of a `key=value` member an error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberPart {
    /// The part before the first `=`.
    Key,
    /// The part after the first `=`.
    Value,
}

impl fmt::Display for MemberPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemberPart::Key => "key",
            MemberPart::Value => "value",
        })
    }
}

/// Why a `key=value,…` list ([`OTEL_RESOURCE_ATTRIBUTES`],
/// [`OTEL_EXPORTER_OTLP_HEADERS`]) was rejected.
///
/// `member` counts the comma-separated members from 1, empty ones included.
/// The message never quotes the list, which may hold credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyValueListError {
    /// The variable is not valid Unicode.
    NotUnicode,
    /// A member has no `=`.
    MissingEquals {
        /// Position of the member, from 1.
        member: usize,
    },
    /// A member's key is empty after trimming.
    EmptyKey {
        /// Position of the member, from 1.
        member: usize,
    },
    /// A `%` is not followed by two hexadecimal digits.
    InvalidPercentEscape {
        /// Position of the member, from 1.
        member: usize,
        /// Key or value.
        part: MemberPart,
    },
    /// The percent-decoded bytes are not UTF-8.
    NotUtf8 {
        /// Position of the member, from 1.
        member: usize,
        /// Key or value.
        part: MemberPart,
    },
    /// Headers only: the key is not an HTTP header name.
    InvalidHeaderName {
        /// Position of the member, from 1.
        member: usize,
    },
    /// Headers only: the decoded value contains control characters.
    InvalidHeaderValue {
        /// Position of the member, from 1.
        member: usize,
    },
}

impl fmt::Display for KeyValueListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyValueListError::NotUnicode => f.write_str(
                "the value is not valid Unicode; write UTF-8 text and percent-encode other bytes",
            ),
            KeyValueListError::MissingEquals { member } => write!(
                f,
                "member {member} has no `=`; write key=value pairs separated by commas, \
                 with a literal comma encoded as %2C"
            ),
            KeyValueListError::EmptyKey { member } => write!(
                f,
                "member {member} has an empty key; write key=value pairs separated by commas"
            ),
            KeyValueListError::InvalidPercentEscape { member, part } => write!(
                f,
                "member {member} has an invalid percent escape in its {part}; \
                 write escapes as %XX with two hex digits and a literal % as %25"
            ),
            KeyValueListError::NotUtf8 { member, part } => write!(
                f,
                "member {member} has a {part} whose percent-decoded bytes are not UTF-8; \
                 percent-encode UTF-8 text only"
            ),
            KeyValueListError::InvalidHeaderName { member } => write!(
                f,
                "member {member} has a key that is not an HTTP header name; \
                 use letters, digits and !#$%&'*+-.^_`|~ only"
            ),
            KeyValueListError::InvalidHeaderValue { member } => write!(
                f,
                "member {member} has a value with control characters; remove them"
            ),
        }
    }
}

impl std::error::Error for KeyValueListError {}

/// Parses an [`OTEL_RESOURCE_ATTRIBUTES`] value: comma-separated
/// `key=value` members, each split at its first `=`, with spaces and tabs
/// around keys and values trimmed and `%XX` escapes decoded; empty members
/// are skipped and the last of duplicate keys wins. Values are *not* capped
/// here ([`resolve`] does that).
///
/// # Errors
/// The whole list is rejected if it is not Unicode or any member has no `=`,
/// an empty key, a bad percent escape or decodes to bytes that are not UTF-8.
///
/// # Examples
/// ```
/// use buildtrace::telemetry::config::parse_resource_attributes;
/// use std::ffi::OsStr;
/// let attrs = parse_resource_attributes(OsStr::new("team=a%2Cb, region = eu ")).unwrap();
/// assert_eq!(attrs, [("team".into(), "a,b".into()), ("region".into(), "eu".into())]);
/// assert!(parse_resource_attributes(OsStr::new("team")).is_err());
/// ```
pub fn parse_resource_attributes(raw: &OsStr) -> Result<Vec<(String, String)>, KeyValueListError> {
    let raw = raw.to_str().ok_or(KeyValueListError::NotUnicode)?;
    let mut out: Vec<(String, String)> = Vec::new();
    for (_, key, value) in parse_list(raw)? {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits and decodes a `key=value,…` list, in order, duplicates kept, each
/// pair with its member's position (from 1, empty members counted).
fn parse_list(raw: &str) -> Result<Vec<(usize, String, String)>, KeyValueListError> {
    let mut out = Vec::new();
    for (i, member) in raw.split(',').enumerate() {
        let member_no = i + 1;
        let member = member.trim_matches(is_blank);
        if member.is_empty() {
            continue;
        }
        let (key, value) = member
            .split_once('=')
            .ok_or(KeyValueListError::MissingEquals { member: member_no })?;
        let key = key.trim_matches(is_blank);
        if key.is_empty() {
            return Err(KeyValueListError::EmptyKey { member: member_no });
        }
        let key = percent_decode(key, member_no, MemberPart::Key)?;
        let value = percent_decode(value.trim_matches(is_blank), member_no, MemberPart::Value)?;
        out.push((member_no, key, value));
    }
    Ok(out)
}

fn percent_decode(s: &str, member: usize, part: MemberPart) -> Result<String, KeyValueListError> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&c| (c as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err(KeyValueListError::InvalidPercentEscape { member, part }),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| KeyValueListError::NotUtf8 { member, part })
}

/// A header list: decoded, validated for HTTP, the last of keys equal but for
/// case wins.
pub(super) fn parse_headers(raw: &str) -> Result<Headers, KeyValueListError> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let mut out: Vec<(String, String)> = Vec::new();
    for (member, key, value) in parse_list(raw)? {
        if !key.chars().all(is_tchar) {
            return Err(KeyValueListError::InvalidHeaderName { member });
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(KeyValueListError::InvalidHeaderValue { member });
        }
        match out.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            Some(slot) => *slot = (key, value),
            None => out.push((key, value)),
        }
    }
    Ok(Headers(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use crate::telemetry::config::test_support::not_unicode;

    #[test]
    fn resource_attribute_errors_name_the_member_and_part() {
        use KeyValueListError as E;
        let cases: &[(&str, KeyValueListError)] = &[
            ("a", E::MissingEquals { member: 1 }),
            ("x=1,,a", E::MissingEquals { member: 3 }),
            (" = v", E::EmptyKey { member: 1 }),
            (
                "a=%ZZ",
                E::InvalidPercentEscape {
                    member: 1,
                    part: MemberPart::Value,
                },
            ),
            (
                "a=1,%4=v",
                E::InvalidPercentEscape {
                    member: 2,
                    part: MemberPart::Key,
                },
            ),
            (
                "a=%",
                E::InvalidPercentEscape {
                    member: 1,
                    part: MemberPart::Value,
                },
            ),
            (
                "a=%C3",
                E::NotUtf8 {
                    member: 1,
                    part: MemberPart::Value,
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_resource_attributes(OsStr::new(input)),
                Err(*want),
                "input {input:?}"
            );
        }
        #[cfg(unix)]
        assert_eq!(
            parse_resource_attributes(&not_unicode("a=")),
            Err(E::NotUnicode)
        );
    }
}
