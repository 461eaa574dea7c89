//! The one precedence rule (code, then each candidate variable that parses,
//! then the default) with the way variables are read, and the small parsers
//! and formatters its callers share.

use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use super::vars::{ENV_INT_MAX, QUOTE_LEN};
use super::Warning;

pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// A variable as read: empty counts as unset.
pub(super) enum Raw {
    Unset,
    NotUnicode,
    Text(String),
}

pub(super) fn read(env: Env<'_>, name: &str) -> Raw {
    match env(name) {
        None => Raw::Unset,
        Some(v) if v.is_empty() => Raw::Unset,
        Some(v) => match v.into_string() {
            Ok(s) => Raw::Text(s),
            Err(_) => Raw::NotUnicode,
        },
    }
}

/// Where a resolved value came from, as a warning says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Code,
    Env(&'static str),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Code => f.write_str("set in code"),
            Source::Env(var) => write!(f, "from {var}"),
            Source::Default => f.write_str("the default"),
        }
    }
}

/// A variable and the parser of its value.
pub(super) type Candidate<'p, T> = (&'static str, &'p dyn Fn(&str) -> Result<T, String>);

/// The one precedence rule: `code`, else the first candidate variable whose
/// value parses, else `default`. Each variable that was set but rejected gets
/// a warning saying what is used instead.
pub(super) fn first_valid<T>(
    env: Env<'_>,
    code: Option<T>,
    candidates: &[Candidate<'_, T>],
    default: T,
    show: impl Fn(&T) -> String,
    w: &mut Vec<Warning>,
) -> (T, Source) {
    if let Some(value) = code {
        return (value, Source::Code);
    }
    let mut rejected = Vec::new();
    let mut found = None;
    for &(var, parse) in candidates {
        match read(env, var) {
            Raw::Unset => {}
            Raw::NotUnicode => rejected.push((var, "the value is not valid Unicode".to_owned())),
            Raw::Text(text) => match parse(&text) {
                Ok(value) => {
                    found = Some((value, Source::Env(var)));
                    break;
                }
                Err(why) => rejected.push((var, why)),
            },
        }
    }
    let (value, source) = found.unwrap_or((default, Source::Default));
    for (var, why) in rejected {
        w.push(Warning::new(
            var,
            format!("{why}; ignored, using {} ({source})", show(&value)),
        ));
    }
    (value, source)
}

/// A value quoted in a warning: escaped (one line, no control or bidi
/// characters) and shortened.
pub(super) fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_LEN) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

/// A whole number of milliseconds or items, from 1 to `max`.
pub(super) fn parse_positive(raw: &str, unit: &str, max: u64, zero: &str) -> Result<u64, String> {
    let t = raw.trim();
    match t.parse::<u64>() {
        Ok(0) => Err(format!("{} is zero, {zero}", quote(raw))),
        Ok(n) if n <= max => Ok(n),
        Ok(_) => Err(format!("{} is more than {max} {unit}", quote(raw))),
        Err(_)
            if t.strip_prefix('-')
                .is_some_and(|d| d.parse::<u64>().is_ok()) =>
        {
            Err(format!("{} is negative", quote(raw)))
        }
        Err(_) => Err(format!("{} is not a whole number of {unit}", quote(raw))),
    }
}

pub(super) fn parse_millis(raw: &str, zero: &str) -> Result<Duration, String> {
    parse_positive(raw, "milliseconds", ENV_INT_MAX, zero).map(Duration::from_millis)
}

pub(super) fn show_millis(d: &Duration) -> String {
    format!("{} ms", d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_and_shortens() {
        assert_eq!(quote("a\nb"), r#""a\nb""#);
        let long = quote(&"x".repeat(1000));
        assert!(long.len() < 80 && long.ends_with('…'), "{long}");
    }
}
