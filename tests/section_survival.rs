//! The record survives every optimisation and stripping a release pipeline
//! applies, and reads back unchanged both at run time and with binutils.

mod common;

use common::{objcopy_section, readelf_sections, report, run, Build, Repo};
use std::process::Command;

/// The record's entries as the running program reads them, minus the
/// facts that legitimately differ between profiles.
fn comparable(exe: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut r = report(exe);
    for k in [
        "buildtrace.build.profile",
        "buildtrace.build.opt_level",
        "buildtrace.build.debug",
        "buildtrace.id",
        "process.executable.build_id.gnu",
    ] {
        r.remove(k);
    }
    r
}

#[test]
fn every_profile_of_the_matrix_keeps_the_record() {
    let repo = Repo::new();
    let env = ("SOURCE_DATE_EPOCH", "1700000000");
    let base = Build::new()
        .env(env.0, env.1)
        .profile("release")
        .run(&repo.dir);
    let expected = comparable(&base.exe);
    assert_eq!(
        expected["vcs.ref.head.revision"],
        repo.git(&["rev-parse", "HEAD"])
    );

    for profile in ["fat", "thin", "cgu1", "small", "stripped"] {
        let built = Build::new()
            .env(env.0, env.1)
            .profile(profile)
            .run(&repo.dir);
        assert!(
            readelf_sections(&built.exe).contains(" .buildtrace "),
            "{profile}: readelf lists no .buildtrace"
        );
        let r = report(&built.exe);
        assert_eq!(r["buildtrace.build.profile"], profile);
        assert_eq!(
            comparable(&built.exe),
            expected,
            "{profile}: record differs"
        );
        let section = objcopy_section(&built.exe, ".buildtrace");
        assert!(
            section.starts_with(b"\x89BTRACE\x1a"),
            "{profile}: section does not start with the magic"
        );
        assert!(
            section.len() <= 4096,
            "{profile}: section is {} bytes",
            section.len()
        );
    }
}

#[test]
fn strip_and_objcopy_afterwards_and_explicit_gc_sections_keep_the_record() {
    let repo = Repo::new();
    let built = Build::new()
        .profile("release")
        .env("RUSTFLAGS", "-C link-arg=-Wl,--gc-sections")
        .run(&repo.dir);
    let before = objcopy_section(&built.exe, ".buildtrace");
    let expected = report(&built.exe);

    for tool in [["strip", "--strip-all"], ["objcopy", "--strip-all"]] {
        let copy = repo.tmp.path().join(format!("stripped-by-{}", tool[0]));
        common::copy_executable(&built.exe, &copy);
        run(Command::new(tool[0]).arg(tool[1]).arg(&copy));
        assert!(
            !readelf_sections(&copy).contains(".symtab"),
            "{} left a symbol table",
            tool[0]
        );
        assert!(
            readelf_sections(&copy).contains(" .buildtrace "),
            "{} removed the section",
            tool[0]
        );
        assert_eq!(
            objcopy_section(&copy, ".buildtrace"),
            before,
            "{} changed the record",
            tool[0]
        );
        assert_eq!(
            report(&copy),
            expected,
            "{}: the program reads another record",
            tool[0]
        );
    }
}
