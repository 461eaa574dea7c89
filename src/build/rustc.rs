//! The compiler's identity, from `$RUSTC -vV` (the compiler Cargo really runs).

/// The fields of `rustc -vV`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rustc {
    pub(crate) summary: String,
    pub(crate) release: Option<String>,
    pub(crate) commit_hash: Option<String>,
    pub(crate) commit_date: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) llvm_version: Option<String>,
}

/// Parses the output of `rustc -vV`.
pub(crate) fn parse(verbose_version: &str) -> Rustc {
    let mut lines = verbose_version.lines();
    let mut r = Rustc {
        summary: lines.next().unwrap_or("").trim().to_owned(),
        ..Rustc::default()
    };
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = Some(v.trim().to_owned()).filter(|v| !v.is_empty() && v != "unknown");
        match k.trim() {
            "release" => r.release = v,
            "commit-hash" => r.commit_hash = v,
            "commit-date" => r.commit_date = v,
            "host" => r.host = v,
            "LLVM version" => r.llvm_version = v,
            _ => {}
        }
    }
    r
}

/// Runs `rustc -vV`.
pub(crate) fn query(rustc: &str) -> Result<Rustc, String> {
    let out = std::process::Command::new(rustc)
        .arg("-vV")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("could not run `{rustc} -vV`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{rustc} -vV` failed with {}", out.status));
    }
    Ok(parse(&String::from_utf8_lossy(&out.stdout)))
}

impl Rustc {
    /// `process.runtime.description`: the summary line plus LLVM.
    pub(crate) fn description(&self) -> String {
        match &self.llvm_version {
            Some(llvm) => format!("{} LLVM {llvm}", self.summary),
            None => self.summary.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_every_field() {
        let r = super::parse(
            "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 59807616e1fa\ncommit-date: 2026-04-14\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n",
        );
        assert_eq!(r.release.as_deref(), Some("1.95.0"));
        assert_eq!(r.commit_hash.as_deref(), Some("59807616e1fa"));
        assert_eq!(r.host.as_deref(), Some("x86_64-unknown-linux-gnu"));
        assert_eq!(r.llvm_version.as_deref(), Some("22.1.2"));
        assert_eq!(
            r.description(),
            "rustc 1.95.0 (59807616e 2026-04-14) LLVM 22.1.2"
        );
    }

    #[test]
    fn unknown_fields_of_a_source_build_are_absent() {
        let r = super::parse("rustc 1.95.0-dev\nbinary: rustc\ncommit-hash: unknown\ncommit-date: unknown\nrelease: 1.95.0-dev\n");
        assert_eq!(r.commit_hash, None);
        assert_eq!(r.release.as_deref(), Some("1.95.0-dev"));
    }
}
