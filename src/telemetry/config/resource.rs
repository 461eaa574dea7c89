//! The resolvers of the settings that describe the program rather than the
//! export: whether the SDK is disabled, the resource attributes and the
//! service name.

use crate::provenance::{cap_value, MAX_VALUE_LEN};

use super::kv_list::parse_resource_attributes;
use super::precedence::{quote, read, Env, Raw};
use super::vars::{
    OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_SDK_DISABLED_DEFAULT, OTEL_SERVICE_NAME,
};
use super::Warning;

pub(super) fn resolve_disabled(env: Env<'_>, code: Option<bool>, w: &mut Vec<Warning>) -> bool {
    if let Some(disabled) = code {
        return disabled;
    }
    let why = match read(env, OTEL_SDK_DISABLED) {
        Raw::Unset => return OTEL_SDK_DISABLED_DEFAULT,
        Raw::Text(t) if t.eq_ignore_ascii_case("true") => return true,
        Raw::Text(t) if t.eq_ignore_ascii_case("false") => return false,
        Raw::Text(t) => format!("{} is neither true nor false", quote(&t)),
        Raw::NotUnicode => "the value is not valid Unicode".to_owned(),
    };
    w.push(Warning::new(
        OTEL_SDK_DISABLED,
        format!("{why}; using false, the SDK stays enabled (only `true` disables it)"),
    ));
    OTEL_SDK_DISABLED_DEFAULT
}

pub(super) fn resolve_resource_attributes(
    env: Env<'_>,
    w: &mut Vec<Warning>,
) -> Vec<(String, String)> {
    let raw = match env(OTEL_RESOURCE_ATTRIBUTES) {
        Some(raw) if !raw.is_empty() => raw,
        _ => return Vec::new(),
    };
    let mut attributes = match parse_resource_attributes(&raw) {
        Ok(attributes) => attributes,
        Err(e) => {
            w.push(Warning::new(
                OTEL_RESOURCE_ATTRIBUTES,
                format!(
                    "{e}; the whole variable is discarded, no resource attribute is taken from it"
                ),
            ));
            return Vec::new();
        }
    };
    let mut capped = Vec::new();
    for (key, value) in &mut attributes {
        if value.len() > MAX_VALUE_LEN {
            *value = cap_value(value).into_owned();
            capped.push(quote(key));
        }
    }
    if !capped.is_empty() {
        w.push(Warning::new(
            OTEL_RESOURCE_ATTRIBUTES,
            format!(
                "the value of {} is longer than {MAX_VALUE_LEN} bytes; \
                 kept, cut to {MAX_VALUE_LEN} bytes",
                capped.join(", ")
            ),
        ));
    }
    attributes
}

/// Removes `service.name` from the attributes, returning its value if not
/// empty.
pub(super) fn take_service_name(attributes: &mut Vec<(String, String)>) -> Option<String> {
    let i = attributes
        .iter()
        .position(|(k, _)| k == crate::names::SERVICE_NAME)?;
    Some(attributes.remove(i).1).filter(|v| !v.is_empty())
}

pub(super) fn resolve_service_name(
    env: Env<'_>,
    code: Option<&str>,
    from_attributes: Option<String>,
    w: &mut Vec<Warning>,
) -> Option<String> {
    if let Some(name) = code.filter(|n| !n.is_empty()) {
        return Some(name.to_owned());
    }
    let fallback = |from_attributes: Option<String>| match from_attributes {
        Some(name) => format!(
            "using {} from service.name in {OTEL_RESOURCE_ATTRIBUTES}",
            quote(&name)
        ),
        None => "using the default service name".to_owned(),
    };
    match read(env, OTEL_SERVICE_NAME) {
        Raw::Unset => from_attributes,
        Raw::NotUnicode => {
            let instead = fallback(from_attributes.clone());
            w.push(Warning::new(
                OTEL_SERVICE_NAME,
                format!("the value is not valid Unicode; ignored, {instead}"),
            ));
            from_attributes
        }
        Raw::Text(name) => {
            if name.len() > MAX_VALUE_LEN {
                w.push(Warning::new(
                    OTEL_SERVICE_NAME,
                    format!(
                        "the value is longer than {MAX_VALUE_LEN} bytes; \
                         kept, cut to {MAX_VALUE_LEN} bytes"
                    ),
                ));
                return Some(cap_value(&name).into_owned());
            }
            Some(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::TRUNCATION_MARK;
    use crate::telemetry::config::test_support::*;
    use crate::telemetry::config::Overrides;
    use std::ffi::OsString;

    // --- OTEL_RESOURCE_ATTRIBUTES -------------------------------------------

    #[derive(Debug, PartialEq)]
    enum Attrs {
        Kept(Vec<(String, String)>),
        Discarded,
    }

    fn kept(pairs: &[(&str, &str)]) -> Attrs {
        Attrs::Kept(
            pairs
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    #[test]
    fn resource_attributes_table() {
        let megabyte = "x".repeat(1 << 20);
        let capped = cap_value(&megabyte).into_owned();
        // (input, expected attributes, expected warning: a word of its message)
        #[allow(unused_mut)]
        let mut cases: Vec<(OsString, Attrs, Option<&str>)> = vec![
            ("a=b".into(), kept(&[("a", "b")]), None),
            ("a=b%2Cc".into(), kept(&[("a", "b,c")]), None),
            ("a%3Dk=v".into(), kept(&[("a=k", "v")]), None),
            ("a=%C3%A9".into(), kept(&[("a", "é")]), None),
            ("a=b=c".into(), kept(&[("a", "b=c")]), None),
            ("a=%ZZ".into(), Attrs::Discarded, Some("discarded")),
            (",,".into(), kept(&[]), None),
            ("=v".into(), Attrs::Discarded, Some("discarded")),
            ("k=".into(), kept(&[("k", "")]), None),
            (" k = v ".into(), kept(&[("k", "v")]), None),
            (
                format!("big={megabyte}").into(),
                Attrs::Kept(vec![("big".into(), capped)]),
                Some("cut"),
            ),
            // Beyond the required inputs.
            ("a=%4".into(), Attrs::Discarded, Some("discarded")),
            ("a=%FF".into(), Attrs::Discarded, Some("discarded")),
            ("a".into(), Attrs::Discarded, Some("discarded")),
            ("x=1,a".into(), Attrs::Discarded, Some("discarded")),
            ("a=1,a=2".into(), kept(&[("a", "2")]), None),
            (
                "\tk\t=\tv\t, ,j=%20".into(),
                kept(&[("k", "v"), ("j", " ")]),
                None,
            ),
            ("k=a+b".into(), kept(&[("k", "a+b")]), None),
            ("".into(), kept(&[]), None),
        ];
        #[cfg(unix)]
        cases.push((not_unicode("a=b"), Attrs::Discarded, Some("Unicode")));

        for (input, want, warning) in cases {
            let shown = format!("{:.40?}", input);
            let env = env_os(vec![(OTEL_RESOURCE_ATTRIBUTES, input)]);
            let mut w = Vec::new();
            let got = resolve_resource_attributes(&env, &mut w);
            match &want {
                Attrs::Kept(pairs) => assert_eq!(&got, pairs, "input {shown}"),
                Attrs::Discarded => assert!(got.is_empty(), "input {shown}: {got:?}"),
            }
            match warning {
                None => assert!(w.is_empty(), "input {shown}: {w:?}"),
                Some(word) => {
                    assert_eq!(vars(&w), [OTEL_RESOURCE_ATTRIBUTES], "input {shown}");
                    assert!(w[0].message().contains(word), "input {shown}: {}", w[0]);
                }
            }
        }
    }

    #[test]
    fn capped_value_keeps_its_start_and_is_marked() {
        let long = format!("k={}", "é".repeat(MAX_VALUE_LEN));
        let env = env_of(&[(OTEL_RESOURCE_ATTRIBUTES, &long)]);
        let mut w = Vec::new();
        let got = resolve_resource_attributes(&env, &mut w);
        assert!(got[0].1.len() <= MAX_VALUE_LEN);
        assert!(got[0].1.starts_with("éé"));
        assert!(got[0].1.ends_with(TRUNCATION_MARK));
        assert_eq!(w.len(), 1);
        assert!(w[0].message().contains("\"k\""), "{}", w[0]);
    }

    // --- service.name --------------------------------------------------------

    #[test]
    fn service_name_precedence() {
        // (code, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, expected)
        let cases: &[(Text, Text, &str, Text)] = &[
            (Some("code"), Some("env"), "service.name=attr", Some("code")),
            (None, Some("env"), "service.name=attr", Some("env")),
            (None, None, "service.name=attr", Some("attr")),
            (None, None, "", None),
            (None, None, "other=1", None),
            (Some(""), Some("env"), "service.name=attr", Some("env")),
            (None, Some(""), "service.name=attr", Some("attr")),
            (None, None, "service.name=", None),
            (None, None, "service.name=a%20b,service.name=c", Some("c")),
            (Some("code"), None, "service.name=attr", Some("code")),
        ];
        for &(code, env_name, attrs, want) in cases {
            let mut pairs = vec![(OTEL_RESOURCE_ATTRIBUTES, attrs)];
            if let Some(name) = env_name {
                pairs.push((OTEL_SERVICE_NAME, name));
            }
            let overrides = Overrides {
                service_name: code.map(str::to_owned),
                ..Overrides::default()
            };
            let (config, warnings) = run(&pairs, &overrides);
            assert_eq!(
                config.service_name.as_deref(),
                want,
                "code {code:?}, env {env_name:?}, attributes {attrs:?}"
            );
            assert!(warnings.is_empty(), "{warnings:?}");
            assert!(
                config
                    .resource_attributes
                    .iter()
                    .all(|(k, _)| k != "service.name"),
                "{:?}",
                config.resource_attributes
            );
        }
    }

    #[test]
    fn service_name_is_capped_and_non_unicode_falls_back() {
        let long = "s".repeat(MAX_VALUE_LEN + 1);
        let (config, warnings) = run(&[(OTEL_SERVICE_NAME, &long)], &Overrides::default());
        let name = config.service_name.unwrap();
        assert!(name.len() <= MAX_VALUE_LEN && name.ends_with(TRUNCATION_MARK));
        assert_eq!(vars(&warnings), [OTEL_SERVICE_NAME]);

        #[cfg(unix)]
        {
            let env = env_os(vec![
                (OTEL_SERVICE_NAME, not_unicode("svc")),
                (OTEL_RESOURCE_ATTRIBUTES, "service.name=attr".into()),
            ]);
            let (config, warnings) = resolve_all(&env, &Overrides::default());
            assert_eq!(config.service_name.as_deref(), Some("attr"));
            assert_eq!(vars(&warnings), [OTEL_SERVICE_NAME]);
            assert!(
                warnings[0].message().contains("\"attr\""),
                "{}",
                warnings[0]
            );
        }
    }

    // --- OTEL_SDK_DISABLED ---------------------------------------------------

    #[test]
    fn sdk_disabled_table() {
        // (env value, code, expected, warns)
        let cases: &[(Text, Option<bool>, bool, bool)] = &[
            (None, None, false, false),
            (Some(""), None, false, false),
            (Some("true"), None, true, false),
            (Some("TRUE"), None, true, false),
            (Some("True"), None, true, false),
            (Some("false"), None, false, false),
            (Some("FaLsE"), None, false, false),
            (Some("1"), None, false, true),
            (Some("yes"), None, false, true),
            (Some(" true"), None, false, true),
            (Some("true"), Some(false), false, false),
            (Some("1"), Some(false), false, false),
            (None, Some(true), true, false),
        ];
        for &(value, code, want, warns) in cases {
            let pairs: Vec<_> = value.map(|v| (OTEL_SDK_DISABLED, v)).into_iter().collect();
            let mut w = Vec::new();
            let got = resolve_disabled(&env_of(&pairs), code, &mut w);
            assert_eq!(got, want, "value {value:?}, code {code:?}");
            assert_eq!(
                !w.is_empty(),
                warns,
                "value {value:?}, code {code:?}: {w:?}"
            );
            if warns {
                assert_eq!(vars(&w), [OTEL_SDK_DISABLED]);
                assert!(w[0].message().contains("using false"), "{}", w[0]);
            }
        }
    }
}
