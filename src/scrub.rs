//! URLs without secrets: userinfo, query and fragment removed, the transport
//! normalised, so every spelling of one repository reads the same. The build
//! script scrubs remotes and CI links with it, the attestation its package
//! sources: one rule for everything that leaves the machine.

/// Canonicalises a git remote to `https://host[:port]/owner/repo`.
///
/// Accepted: `https`/`http`/`git`/`ssh`/`git+ssh` URLs and scp-like
/// `user@host:path`. Userinfo (where tokens hide), query strings
/// (`?private_token=`), fragments, a trailing `.git` and trailing slashes are
/// dropped; the host is lower-cased; ssh and git ports are dropped (they say
/// nothing about the web address). Local paths and `file://` URLs give `None`:
/// they are machine paths, not repositories a reader could open.
#[cfg_attr(not(feature = "build"), allow(dead_code))]
pub(crate) fn canonical_remote(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => return scp_like(raw),
    };
    let keep_port = match scheme.as_str() {
        "https" | "http" => true,
        "ssh" | "git" | "git+ssh" | "ssh+git" => false,
        _ => return None, // file://, ext::, fd:: …
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_port(host_port);
    let port = if keep_port { port } else { None };
    build(host, port, path)
}

/// Scrubs a URL that is not a git remote (a CI run page): userinfo, query and
/// fragment go, the rest is kept. Only `http` and `https` URLs.
#[cfg_attr(not(feature = "build"), allow(dead_code))]
pub(crate) fn scrub_url(raw: &str) -> Option<String> {
    scrub_url_with(raw, &["https", "http"])
}

/// [`scrub_url`] for a URL whose scheme is one of `schemes` (lower case):
/// userinfo, query and fragment go, the host is lower-cased; anything else
/// (a local path, `file://`) is `None`.
#[cfg_attr(not(feature = "seal"), allow(dead_code))]
pub(crate) fn scrub_url_with(raw: &str, schemes: &[&str]) -> Option<String> {
    let raw = raw.trim();
    let (scheme, rest) = raw.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !schemes.contains(&scheme.as_str())
        || raw.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(
        format!("{scheme}://{host}/{path}")
            .trim_end_matches('/')
            .to_owned(),
    )
}

fn scp_like(raw: &str) -> Option<String> {
    // `[user@]host:path`, where host has no slash before the colon (else it
    // is a local path such as `./a:b`).
    let (before, path) = raw.split_once(':')?;
    // A one-letter "host" is a Windows drive (`C:\\repo`), as git reads it.
    if before.contains('/') || before.len() < 2 || path.contains('\\') {
        return None;
    }
    let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
    build(host, None, path)
}

fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        // IPv6 literal
        return match host_port.split_once("]:") {
            Some((h, p)) => (&host_port[..h.len() + 1], Some(p)),
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        Some((h, _)) => (h, None),
        None => (host_port, None),
    }
}

fn build(host: &str, port: Option<&str>, path: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
    {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    // A `~user` path or an empty one names no repository page.
    if path.is_empty() {
        return None;
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("https://{host}{port}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_remote_becomes_one_canonical_url_without_secrets() {
        let cases = [
            "https://user:CANARY@host/o/r.git",
            "https://CANARY@host/o/r",
            "https://host/o/r?private_token=CANARY",
            "git://u:CANARY@host/o/r",
            "ssh://git@host/o/r",
            "git@host:o/r.git",
            "ssh://git@HOST:2222/o/r.git/",
            "https://host/o/r.git#CANARY",
            "git+ssh://CANARY@host/o/r",
        ];
        for raw in cases {
            assert_eq!(
                canonical_remote(raw).as_deref(),
                Some("https://host/o/r"),
                "{raw}"
            );
        }
    }

    #[test]
    fn https_ports_are_kept_and_local_paths_are_refused() {
        assert_eq!(
            canonical_remote("https://h:8443/g/p").as_deref(),
            Some("https://h:8443/g/p")
        );
        for raw in [
            "/srv/git/r.git",
            "file:///srv/r",
            "./a:b",
            "C:\\repo",
            "",
            "https://host/",
            "ext::sh -c x",
        ] {
            assert_eq!(canonical_remote(raw), None, "{raw}");
        }
    }

    #[test]
    fn run_urls_lose_credentials_and_queries() {
        assert_eq!(
            scrub_url("https://u:CANARY@ci.example/o/r/actions/runs/1?token=CANARY").as_deref(),
            Some("https://ci.example/o/r/actions/runs/1")
        );
        assert_eq!(scrub_url("javascript:alert(1)"), None);
    }
}
