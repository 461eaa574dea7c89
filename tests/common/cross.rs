//! The cross targets of `scripts/cross/targets.tsv`, set up by
//! `scripts/cross/setup.sh`: their rows, cargo environment
//! (`scripts/cross/env.sh`), runner (`scripts/cross/run`) and the tools that
//! read their files independently of buildtrace: `file`, the target's own
//! binutils (`readelf`, `objdump`, `strip`) and, for Mach-O, macholib.
//!
//! Which targets a run checks: `BUILDTRACE_CROSS=ci` requires the rows
//! marked `ci` (a missing setup fails) and skips the others; `all` requires
//! every target this machine builds; unset, every target that is set up runs
//! and the others are skipped, saying so.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Target {
    pub triple: String,
    /// What `file` must say: `pe32+`, `pe32`, `elf64-aarch64`, …
    pub format: String,
    /// `native`, `wine`, `qemu-aarch64`, `link` or `-`.
    pub here: String,
    pub os_type: String,
    pub host_arch: String,
    pub ci: bool,
}

fn scripts() -> PathBuf {
    crate::common::buildtrace_root().join("scripts/cross")
}

/// Every row of `targets.tsv`.
pub fn table() -> Vec<Target> {
    let text = std::fs::read_to_string(scripts().join("targets.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() >= 7)
        .map(|f| Target {
            triple: f[0].to_owned(),
            format: f[1].to_owned(),
            here: f[2].to_owned(),
            os_type: f[3].to_owned(),
            host_arch: f[4].to_owned(),
            ci: f[5] == "yes",
        })
        .collect()
}

/// The row of `triple` if this run checks it, or `None`, saying why.
pub fn target(triple: &str) -> Option<Target> {
    let t = table()
        .into_iter()
        .find(|t| t.triple == triple)
        .unwrap_or_else(|| panic!("{triple} is not in scripts/cross/targets.tsv"));
    let mode = std::env::var("BUILDTRACE_CROSS").unwrap_or_default();
    let required = match mode.as_str() {
        "all" => true,
        "ci" if t.ci => true,
        "ci" => {
            eprintln!("SKIPPED: {triple} is not a CI target (BUILDTRACE_CROSS=all runs it)");
            return None;
        }
        _ => false,
    };
    match t.env_result() {
        Ok(_) => Some(t),
        Err(why) => {
            assert!(
                !required,
                "BUILDTRACE_CROSS={mode} requires {triple}, which is not set up: {why}"
            );
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

impl Target {
    fn env_result(&self) -> Result<Vec<(String, String)>, String> {
        let out = Command::new(scripts().join("env.sh"))
            .arg(&self.triple)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }

    /// The environment that builds it (linker, runner, C compiler, …).
    pub fn env(&self) -> Vec<(String, String)> {
        self.env_result().unwrap()
    }

    /// Built and run here (natively, under wine or qemu).
    pub fn runs(&self) -> bool {
        matches!(self.here.as_str(), "native" | "wine" | "qemu-aarch64")
    }

    pub fn is_windows(&self) -> bool {
        self.format.starts_with("pe")
    }

    pub fn is_macho(&self) -> bool {
        self.format.starts_with("macho")
    }

    pub fn is_elf(&self) -> bool {
        self.format.starts_with("elf")
    }

    /// Linked with `cargo zigbuild`.
    pub fn zigbuild(&self) -> bool {
        self.triple.ends_with("-apple-darwin")
    }

    /// `exe` run through the target's runner.
    pub fn command(&self, exe: &Path) -> Command {
        let mut c = Command::new(scripts().join("run"));
        c.arg(&self.triple).arg(exe);
        c
    }

    /// The prefix of the binutils that know this target's format.
    pub fn binutils(&self) -> &'static str {
        match self.triple.as_str() {
            "x86_64-pc-windows-gnu" => "x86_64-w64-mingw32-",
            "i686-pc-windows-gnu" => "i686-w64-mingw32-",
            "aarch64-unknown-linux-gnu" => "aarch64-linux-gnu-",
            "i686-unknown-linux-gnu" => "i686-linux-gnu-",
            _ => "",
        }
    }

    /// What `file -b` must say of an executable of this target.
    pub fn file_says(&self) -> &'static [&'static str] {
        match self.format.as_str() {
            "pe32+" => &["PE32+ executable", "x86-64"],
            "pe32" => &["PE32 executable", "Intel 80386"],
            "elf64-aarch64" => &["ELF 64-bit LSB", "ARM aarch64"],
            "elf64-static" => &["ELF 64-bit LSB", "x86-64", "static"],
            "elf32-i386" => &["ELF 32-bit LSB", "Intel 80386"],
            "elf64-x86-64" => &["ELF 64-bit LSB", "x86-64"],
            "macho-x86_64" => &["Mach-O 64-bit", "x86_64"],
            "macho-arm64" => &["Mach-O 64-bit", "arm64"],
            other => panic!("unknown format {other} in targets.tsv"),
        }
    }

    /// The record's section and the code section, as this format names them.
    pub fn section_names(&self) -> (&'static str, &'static str) {
        if self.is_windows() {
            (".btrace", ".text")
        } else if self.is_macho() {
            ("__TEXT,__buildtrace", "__TEXT,__text")
        } else {
            (".buildtrace", ".text")
        }
    }

    /// Every section: (name, file offset, size), from the format's own tools.
    pub fn sections(&self, exe: &Path) -> Vec<(String, u64, u64)> {
        let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
        if self.is_windows() {
            // Idx Name Size VMA LMA File-off Algn
            let out = crate::common::run(
                Command::new(format!("{}objdump", self.binutils()))
                    .arg("-h")
                    .arg(exe),
            );
            out.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .filter(|f| f.len() == 7 && f[0].parse::<u32>().is_ok())
                .map(|f| (f[1].to_owned(), hex(f[5]), hex(f[2])))
                .collect()
        } else if self.is_macho() {
            let script = "import sys\n\
                from macholib.MachO import MachO\n\
                for h in MachO(sys.argv[1]).headers:\n\
                \x20   for cmd in h.commands:\n\
                \x20       for s in (cmd[2] if isinstance(cmd[2], list) else []):\n\
                \x20           seg = s.segname.rstrip(b'\\0').decode()\n\
                \x20           sect = s.sectname.rstrip(b'\\0').decode()\n\
                \x20           print(f'{seg},{sect} {s.offset:x} {s.size:x}')\n";
            let py = self
                .env()
                .into_iter()
                .find(|(k, _)| k == "PATH")
                .map(|(_, v)| v);
            let zig_dir = py
                .as_deref()
                .and_then(|p| p.split(':').next())
                .map(|bin| Path::new(bin).parent().unwrap().join("py"))
                .expect("no zig directory in the Mach-O environment");
            let out = crate::common::run(
                Command::new("python3")
                    .env("PYTHONPATH", zig_dir)
                    .args(["-c", script])
                    .arg(exe),
            );
            out.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .filter(|f| f.len() == 3)
                .map(|f| (f[0].to_owned(), hex(f[1]), hex(f[2])))
                .collect()
        } else {
            // [Nr] Name Type Address Off Size ...
            let out = crate::common::run(
                Command::new(format!("{}readelf", self.binutils()))
                    .arg("-SW")
                    .arg(exe),
            );
            out.lines()
                .filter(|l| l.trim_start().starts_with('[') && !l.contains("Nr]"))
                .filter_map(|l| l.split_once(']'))
                .map(|(_, rest)| rest.split_whitespace().collect::<Vec<_>>())
                .filter(|f| f.len() >= 5 && !f[0].is_empty())
                .map(|f| (f[0].to_owned(), hex(f[3]), hex(f[4])))
                .collect()
        }
    }

    /// (file offset, size) of section `name`.
    pub fn section(&self, exe: &Path, name: &str) -> (u64, u64) {
        let all = self.sections(exe);
        all.iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, o, s)| (*o, *s))
            .unwrap_or_else(|| panic!("no {name} in {}: {all:?}", exe.display()))
    }

    /// The GNU build-id that the target's `readelf -n` reads, if any.
    pub fn gnu_build_id(&self, exe: &Path) -> Option<String> {
        if !self.is_elf() {
            return None;
        }
        let out = crate::common::run(
            Command::new(format!("{}readelf", self.binutils()))
                .arg("-n")
                .arg(exe),
        );
        out.lines()
            .find_map(|l| l.trim().strip_prefix("Build ID: "))
            .map(str::to_owned)
    }

    /// The format's own header fields, for the tamper matrix: (what, offset).
    pub fn header_fields(&self, exe: &Path) -> Vec<(String, u64)> {
        let bytes = std::fs::read(exe).unwrap();
        if self.is_windows() {
            // The PE signature's offset is at 0x3c; the COFF header follows
            // it (time stamp at +8), then the optional header (+24), whose
            // entry point is at +16.
            let pe = u64::from(u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()));
            assert_eq!(&bytes[pe as usize..pe as usize + 4], b"PE\0\0");
            vec![
                ("PE COFF header: time stamp".into(), pe + 8),
                ("PE optional header: entry point".into(), pe + 24 + 16),
            ]
        } else if self.is_macho() {
            vec![
                ("Mach-O header: ncmds".into(), 16),
                ("Mach-O header: flags".into(), 24),
            ]
        } else if bytes[4] == 1 {
            // ELFCLASS32: e_entry at 24, e_shoff at 32.
            vec![
                ("ELF header: entry point".into(), 24),
                ("ELF header: section table offset".into(), 0x20 + 2),
            ]
        } else {
            vec![
                ("ELF header: entry point".into(), 24),
                ("ELF header: section table offset".into(), 0x28 + 2),
            ]
        }
    }

    /// The format's `strip`, when this machine has one (none for Mach-O).
    pub fn strip(&self) -> Option<String> {
        (!self.is_macho()).then(|| format!("{}strip", self.binutils()))
    }
}
