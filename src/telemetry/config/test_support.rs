//! Test helpers shared by the rooms' tests: injected environments, a
//! resolution over one, and the variables a list of warnings names.

use std::collections::HashMap;
#[cfg(unix)]
use std::ffi::OsStr;
use std::ffi::OsString;

use super::transport::Transports;
use super::{resolve_for, Config, Overrides, Warning};

/// An injected environment holding exactly `pairs`.
pub(super) fn env_os(pairs: Vec<(&str, OsString)>) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> =
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    move |name| map.get(name).cloned()
}

pub(super) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    env_os(pairs.iter().map(|&(k, v)| (k, OsString::from(v))).collect())
}

pub(super) fn run(pairs: &[(&str, &str)], overrides: &Overrides) -> (Config, Vec<Warning>) {
    resolve_all(&env_of(pairs), overrides)
}

/// [`resolve`](super::resolve) for a build with both transports, whatever
/// this one's features: the rules of the specification, on their own.
pub(super) fn resolve_all(
    env: &dyn Fn(&str) -> Option<OsString>,
    overrides: &Overrides,
) -> (Config, Vec<Warning>) {
    resolve_for(env, overrides, Transports::ALL)
}

/// Environment entries of a table row.
pub(super) type Pairs = &'static [(&'static str, &'static str)];
/// The variables a table row expects warnings about, in order.
pub(super) type Warned = &'static [&'static str];
/// An optional value in a table row.
pub(super) type Text = Option<&'static str>;

pub(super) fn vars(warnings: &[Warning]) -> Vec<&'static str> {
    warnings.iter().map(Warning::variable).collect()
}

#[cfg(unix)]
pub(super) fn not_unicode(prefix: &str) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe");
    OsStr::from_bytes(&bytes).to_os_string()
}
