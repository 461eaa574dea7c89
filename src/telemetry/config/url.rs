//! Endpoint URLs: the check an environment value must pass, the redaction
//! of credentials for messages, and the signal's path appended to a base URL.

/// Checks that `url` is an `http` or `https` URL with a host (and, if any, a
/// numeric port). The reason never quotes the URL.
pub(super) fn check_url(url: &str) -> Result<(), &'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains whitespace or control characters");
    }
    let (scheme, rest) = url.split_once("://").ok_or("it has no scheme")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("its scheme is neither http nor https");
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let port = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("its IPv6 host has no closing ]")?;
        let is_address = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
        if host.is_empty() || !host.chars().all(is_address) {
            return Err("its IPv6 host is not an address");
        }
        match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or("it has text after its IPv6 host")?,
            ),
        }
    } else {
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        if host.is_empty() {
            return Err("it has no host");
        }
        if host.contains(['[', ']', ':', '\\', '"', '<', '>', '^', '`', '{', '|', '}']) {
            return Err("its host has characters a host name cannot have (IPv6 needs [brackets])");
        }
        port
    };
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        if !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |p| p > 65_535)
        {
            return Err("its port is not a number from 0 to 65535");
        }
    }
    Ok(())
}

/// Appends a signal's path to a base URL, before any query, with one `/`.
pub(super) fn append_path(base: &str, path: &str) -> String {
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let split = base[after_scheme..]
        .find(['?', '#'])
        .map_or(base.len(), |i| after_scheme + i);
    let (head, tail) = base.split_at(split);
    format!("{}{path}{tail}", head.trim_end_matches('/'))
}

/// An endpoint as shown to people: without user information and query,
/// which may carry credentials.
pub(super) fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("<redacted>@{host}"),
        None => authority.to_owned(),
    };
    let tail = match tail.find(['?', '#']) {
        Some(i) => format!("{}?<redacted>", &tail[..i]),
        None => tail.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_check_table() {
        let ok = [
            "http://c",
            "https://c:4318",
            "HTTP://C:4318/path?q#f",
            "http://user:pw@c:1/",
            "http://[::1]:4317",
            "http://[2001:db8::1]",
            "http://c:",
            "http://10.0.0.1:65535",
        ];
        let bad = [
            "c:4318",
            "ftp://c",
            "http://",
            "http:///path",
            "http://:4318",
            "http://c:port",
            "http://c:65536",
            "http://c :1",
            "http://c\n",
            "http://[::1",
            "http://[::1]x",
            "http://[zz]",
            "http://::1:4317",
            "http://user@",
        ];
        for url in ok {
            assert_eq!(check_url(url), Ok(()), "{url}");
        }
        for url in bad {
            assert!(check_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn redact_url_table() {
        let cases = [
            ("http://c:4318/v1/traces", "http://c:4318/v1/traces"),
            ("https://u:p@c/x", "https://<redacted>@c/x"),
            ("https://c/x?api_key=k", "https://c/x?<redacted>"),
            ("https://c#frag", "https://c?<redacted>"),
            ("u:p@c:1", "<redacted>@c:1"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }
}
