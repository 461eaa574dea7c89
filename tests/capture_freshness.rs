//! Every change to what the record says is picked up by the next build; a
//! build with nothing changed reruns nothing.

mod common;

use common::{report, Repo};
use std::collections::BTreeMap;

fn revision_after_build(repo: &Repo) -> BTreeMap<String, String> {
    let r = report(&repo.build().exe);
    assert_eq!(r["vcs.ref.head.revision"], repo.git(&["rev-parse", "HEAD"]));
    r
}

fn commit_edit(repo: &Repo, text: &str) {
    std::fs::write(repo.dir.join("src/extra.txt"), text).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", text]);
}

#[test]
fn a_new_commit_and_an_amend_update_the_record() {
    let repo = Repo::new();
    let first = revision_after_build(&repo);
    commit_edit(&repo, "one");
    let second = revision_after_build(&repo);
    assert_ne!(
        first["vcs.ref.head.revision"],
        second["vcs.ref.head.revision"]
    );

    repo.git(&["commit", "-q", "--amend", "-m", "amended"]);
    let amended = revision_after_build(&repo);
    assert_ne!(
        second["vcs.ref.head.revision"],
        amended["vcs.ref.head.revision"]
    );
}

#[test]
fn an_empty_commit_that_touches_no_file_is_picked_up() {
    let repo = Repo::new();
    revision_after_build(&repo);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "empty"]);
    revision_after_build(&repo);
}

#[test]
fn a_branch_switch_and_a_detached_head_update_the_record() {
    let repo = Repo::new();
    revision_after_build(&repo);
    // A new branch at the same commit changes nothing but HEAD.
    repo.git(&["switch", "-q", "-c", "same-commit"]);
    assert_eq!(
        revision_after_build(&repo)["vcs.ref.head.name"],
        "same-commit"
    );
    repo.git(&["switch", "-q", "-c", "feature/x"]);
    commit_edit(&repo, "on feature");
    let r = revision_after_build(&repo);
    assert_eq!(r["vcs.ref.head.name"], "feature/x");
    assert_eq!(r["vcs.ref.head.type"], "branch");

    repo.git(&["switch", "-q", "main"]);
    let r = revision_after_build(&repo);
    assert_eq!(r["vcs.ref.head.name"], "main");

    repo.git(&["tag", "v9.9.9", "feature/x"]);
    repo.git(&["checkout", "-q", "--detach", "v9.9.9"]);
    let r = revision_after_build(&repo);
    assert_eq!(r["vcs.ref.head.name"], "v9.9.9");
    assert_eq!(r["vcs.ref.head.type"], "tag");

    repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let r = revision_after_build(&repo);
    assert!(
        !r.contains_key("vcs.ref.head.name"),
        "a detached HEAD without tag has no ref name: {r:?}"
    );
}

#[test]
fn packed_refs_after_git_gc_and_a_commit_after_that() {
    let repo = Repo::new();
    commit_edit(&repo, "before gc");
    revision_after_build(&repo);
    repo.git(&["gc", "-q"]);
    assert!(
        !repo.dir.join(".git/refs/heads/main").exists(),
        "gc did not pack the ref"
    );
    revision_after_build(&repo);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "after gc"]);
    revision_after_build(&repo);
    repo.git(&["pack-refs", "--all"]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    revision_after_build(&repo);
}

#[test]
fn a_linked_worktree_records_its_own_head() {
    let repo = Repo::new();
    repo.git(&["branch", "wt-branch"]);
    let wt = repo.tmp.path().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "wt-branch"]);
    let built = common::Build::new().run(&wt);
    let r = report(&built.exe);
    assert_eq!(
        r["vcs.ref.head.revision"],
        common::git_out(&wt, &["rev-parse", "HEAD"])
    );
    assert_eq!(r["vcs.ref.head.name"], "wt-branch");

    std::fs::write(wt.join("src/wt.txt"), "x").unwrap();
    common::git_out(&wt, &["add", "-A"]);
    common::git_out(&wt, &["commit", "-q", "-m", "in worktree"]);
    let r = report(&common::Build::new().run(&wt).exe);
    assert_eq!(
        r["vcs.ref.head.revision"],
        common::git_out(&wt, &["rev-parse", "HEAD"])
    );
    assert_eq!(r["buildtrace.git.dirty"], "false");
}

#[test]
fn dirtying_and_cleaning_the_tree_update_the_record() {
    let repo = Repo::new();
    let clean = report(&repo.build().exe);
    assert_eq!(clean["buildtrace.git.dirty"], "false");

    // A modified tracked file.
    let main = repo.dir.join("src/main.rs");
    let original = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("{original}\n// edit\n")).unwrap();
    let edited = report(&repo.build().exe);
    assert_eq!(edited["buildtrace.git.dirty"], "true");

    // A different edit gives a different digest.
    std::fs::write(&main, format!("{original}\n// other edit\n")).unwrap();
    let edited2 = report(&repo.build().exe);
    assert_ne!(
        edited["buildtrace.git.dirty_digest"],
        edited2["buildtrace.git.dirty_digest"]
    );

    // Cleaned again.
    repo.git(&["checkout", "--", "src/main.rs"]);
    let cleaned = report(&repo.build().exe);
    assert_eq!(cleaned["buildtrace.git.dirty"], "false");
    assert_eq!(cleaned["buildtrace.id"], clean["buildtrace.id"]);

    // A staged new file, then unstaged and removed.
    std::fs::write(repo.dir.join("src/staged.rs"), "// new").unwrap();
    repo.git(&["add", "src/staged.rs"]);
    assert_eq!(report(&repo.build().exe)["buildtrace.git.dirty"], "true");
    repo.git(&["rm", "-q", "--cached", "src/staged.rs"]);
    std::fs::remove_file(repo.dir.join("src/staged.rs")).unwrap();
    assert_eq!(report(&repo.build().exe)["buildtrace.git.dirty"], "false");
}
