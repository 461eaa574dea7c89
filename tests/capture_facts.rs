//! A fresh build of the fixture records the truth, as independent tools tell it.

mod common;

use common::{run, rustc_field, Build, Repo};
use std::process::Command;

#[test]
fn a_fresh_build_records_what_git_rustc_and_cargo_say() {
    let repo = Repo::new();
    repo.git(&[
        "remote",
        "add",
        "origin",
        "git@example.com:acme/fixture.git",
    ]);
    let built = Build::new().features("gamma-ray,alpha").run(&repo.dir);
    let r = common::report(&built.exe);

    assert_eq!(r["vcs.ref.head.revision"], repo.git(&["rev-parse", "HEAD"]));
    assert_eq!(
        r["vcs.ref.head.name"],
        repo.git(&["rev-parse", "--abbrev-ref", "HEAD"])
    );
    assert_eq!(r["vcs.ref.head.type"], "branch");
    assert_eq!(
        r["vcs.repository.url.full"],
        "https://example.com/acme/fixture"
    );
    assert_eq!(r["buildtrace.vcs.source"], "git");
    assert_eq!(
        r["buildtrace.git.dirty"],
        (!repo.git(&["status", "--porcelain"]).is_empty()).to_string()
    );
    assert!(!r.contains_key("buildtrace.git.dirty_digest"));

    let ct = repo.git(&["show", "-s", "--format=%ct", "HEAD"]);
    let date =
        run(Command::new("date").args(["-u", "-d", &format!("@{ct}"), "+%Y-%m-%dT%H:%M:%SZ"]));
    assert_eq!(r["buildtrace.git.commit_time"], date);
    assert_eq!(r["buildtrace.source.time"], date);
    assert_eq!(r["buildtrace.source.time_source"], "commit");
    assert_eq!(r["buildtrace.build.time_source"], "clock");

    assert_eq!(r["process.runtime.name"], "rustc");
    assert_eq!(r["process.runtime.version"], rustc_field("release"));
    assert_eq!(
        r["buildtrace.rustc.commit_hash"],
        rustc_field("commit-hash")
    );
    assert_eq!(
        r["buildtrace.rustc.llvm_version"],
        rustc_field("LLVM version")
    );
    assert_eq!(r["buildtrace.target.triple"], rustc_field("host"));
    assert_eq!(r["buildtrace.build.features"], "alpha,gamma-ray");
    assert_eq!(r["buildtrace.build.profile"], "dev");
    assert_eq!(r["buildtrace.build.opt_level"], "0");
    assert_eq!(r["service.name"], repo.name);
    assert_eq!(r["service.version"], "0.3.1");

    let lock = repo.dir.join("Cargo.lock");
    let sha = run(Command::new("sha256sum").arg(&lock));
    assert_eq!(
        r["buildtrace.lock.sha256"],
        sha.split_whitespace().next().unwrap()
    );
    let packages = run(Command::new("grep")
        .args(["-c", "^\\[\\[package\\]\\]$"])
        .arg(&lock));
    assert_eq!(r["buildtrace.lock.packages"], packages);

    // The section is where FORMAT.md says, as binutils sees it.
    assert!(common::readelf_sections(&built.exe).contains(" .buildtrace "));
    // The running program's GNU build-id is the linker's, as readelf reads it.
    let notes = run(Command::new("readelf").arg("-n").arg(&built.exe));
    let build_id = notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .expect("linker wrote no build-id");
    assert_eq!(r["process.executable.build_id.gnu"], build_id);
}

#[test]
fn untracked_files_make_the_tree_dirty_and_ignored_ones_do_not() {
    let repo = Repo::new();
    std::fs::write(repo.dir.join("ignored.log"), "x").unwrap();
    std::fs::write(repo.dir.join(".gitignore"), "/target\n*.log\n").unwrap();
    repo.git(&["commit", "-qam", "ignore logs"]);
    let clean = common::report(&repo.build().exe);
    assert_eq!(clean["buildtrace.git.dirty"], "false");
    assert!(repo.git(&["status", "--porcelain"]).is_empty());

    std::fs::write(repo.dir.join("src/notes.txt"), "untracked").unwrap();
    assert!(!repo.git(&["status", "--porcelain"]).is_empty());
    let dirty = common::report(&repo.build().exe);
    assert_eq!(dirty["buildtrace.git.dirty"], "true");
    assert_eq!(dirty["buildtrace.git.dirty_digest"].len(), 64);
    assert_ne!(dirty["buildtrace.id"], clean["buildtrace.id"]);
}

#[test]
fn a_no_op_build_reruns_no_build_script() {
    let repo = Repo::new();
    let first = repo.build();
    let again = repo.build();
    assert!(
        again.scripts_run.is_empty(),
        "no-op build reran: {:#?}",
        again.scripts_run
    );
    assert_eq!(common::report(&first.exe), common::report(&again.exe));
    // The detection works: the first build did run the fixture's script.
    assert!(
        first
            .scripts_run
            .iter()
            .any(|l| l.contains(&format!("/build/{}-", repo.name))),
        "{:#?}",
        first.scripts_run
    );
}
