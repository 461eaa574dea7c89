//! Outside git, or with git missing or refusing, the build still succeeds and
//! records what the next source in the chain knows — never someone else's commit.

mod common;

use common::{report, Build, Repo};
use std::process::Command;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn outside_git_vcs_facts_are_unknown_and_the_source_is_none() {
    let repo = Repo::without_git();
    let r = report(&repo.build().exe);
    assert_eq!(r["buildtrace.vcs.source"], "none");
    assert!(!r.contains_key("vcs.ref.head.revision"));
    assert!(!r.contains_key("buildtrace.git.dirty"));
    assert_eq!(r["buildtrace.source.time_source"], "none");
}

#[test]
fn inside_an_unrelated_repository_its_commit_is_not_reported() {
    let outer = tempfile::tempdir().unwrap();
    common::git_out(outer.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(outer.path().join("README"), "unrelated").unwrap();
    common::git_out(outer.path(), &["add", "-A"]);
    common::git_out(outer.path(), &["commit", "-q", "-m", "unrelated"]);
    let outer_head = common::git_out(outer.path(), &["rev-parse", "HEAD"]);

    let name = common::unique_name();
    let dir = outer.path().join("vendor").join("app");
    common::write_fixture(&dir, &name);
    let r = report(&Build::new().run(&dir).exe);
    assert_eq!(r["buildtrace.vcs.source"], "none");
    assert!(
        !r.values().any(|v| v == &outer_head),
        "the enclosing repository's commit leaked: {r:?}"
    );
}

#[test]
fn a_workspace_member_committed_in_a_monorepo_reports_the_monorepo_commit() {
    let mono = tempfile::tempdir().unwrap();
    let dir = mono.path().join("crates").join("app");
    common::write_fixture(&dir, &common::unique_name());
    common::git_out(mono.path(), &["init", "-q", "-b", "main"]);
    common::git_out(mono.path(), &["add", "-A"]);
    common::git_out(mono.path(), &["commit", "-q", "-m", "mono"]);
    let r = report(&Build::new().run(&dir).exe);
    assert_eq!(
        r["vcs.ref.head.revision"],
        common::git_out(mono.path(), &["rev-parse", "HEAD"])
    );
}

#[test]
fn cargo_vcs_info_is_used_for_a_published_crate() {
    let repo = Repo::without_git();
    std::fs::write(
        repo.dir.join(".cargo_vcs_info.json"),
        format!("{{\n  \"git\": {{\n    \"sha1\": \"{SHA}\",\n    \"dirty\": true\n  }},\n  \"path_in_vcs\": \"\"\n}}\n"),
    )
    .unwrap();
    let r = report(&repo.build().exe);
    assert_eq!(r["buildtrace.vcs.source"], "cargo_vcs_info");
    assert_eq!(r["vcs.ref.head.revision"], SHA);
    assert_eq!(r["buildtrace.git.dirty"], "true");
}

#[test]
fn the_ci_commit_is_used_outside_git_and_the_run_is_recorded() {
    let repo = Repo::without_git();
    let built = Build::new()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_REF_NAME", "v1.2.3")
        .env("GITHUB_REF_TYPE", "tag")
        .env("GITHUB_WORKFLOW", "release")
        .env("GITHUB_RUN_ID", "987")
        .env("GITHUB_RUN_ATTEMPT", "3")
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_REPOSITORY", "acme/app")
        .run(&repo.dir);
    let r = report(&built.exe);
    assert_eq!(r["buildtrace.vcs.source"], "ci");
    assert_eq!(r["vcs.ref.head.revision"], SHA);
    assert_eq!(r["vcs.ref.head.name"], "v1.2.3");
    assert_eq!(r["vcs.ref.head.type"], "tag");
    assert_eq!(r["buildtrace.ci.provider"], "GitHub Actions");
    assert_eq!(r["cicd.pipeline.name"], "release");
    assert_eq!(r["cicd.pipeline.run.id"], "987");
    assert_eq!(r["buildtrace.ci.run.attempt"], "3");
    assert_eq!(
        r["cicd.pipeline.run.url.full"],
        "https://github.example/acme/app/actions/runs/987/attempts/3"
    );
}

#[test]
fn override_variables_come_last_and_are_validated() {
    let repo = Repo::without_git();
    let r = report(
        &Build::new()
            .env("BUILDTRACE_VCS_REVISION", SHA)
            .env("BUILDTRACE_VCS_REF_NAME", "release/7")
            .env("BUILDTRACE_VCS_REF_TYPE", "branch")
            .env(
                "BUILDTRACE_VCS_URL",
                "https://bot:CANARY@git.example/o/r.git",
            )
            .run(&repo.dir)
            .exe,
    );
    assert_eq!(r["buildtrace.vcs.source"], "override");
    assert_eq!(r["vcs.ref.head.revision"], SHA);
    assert_eq!(r["vcs.ref.head.name"], "release/7");
    assert_eq!(r["vcs.repository.url.full"], "https://git.example/o/r");

    let bad = Build::new()
        .env("BUILDTRACE_VCS_REVISION", "not a commit")
        .run(&repo.dir);
    assert_eq!(report(&bad.exe)["buildtrace.vcs.source"], "none");
    assert!(
        bad.stderr
            .contains("BUILDTRACE_VCS_REVISION is not a hex commit id"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_missing_git_warns_and_the_build_succeeds() {
    let repo = Repo::new();
    let built = Build::new()
        .env("BUILDTRACE_GIT", "/nonexistent/git")
        .run(&repo.dir);
    assert!(built.stderr.contains("warning: fx-"), "{}", built.stderr);
    assert!(
        built.stderr.contains("`/nonexistent/git` not found"),
        "{}",
        built.stderr
    );
    let r = report(&built.exe);
    assert_eq!(r["buildtrace.vcs.source"], "none");
}

#[test]
fn a_repository_git_refuses_warns_and_the_build_succeeds() {
    let repo = Repo::new();
    let is_root = common::run(Command::new("id").arg("-u")) == "0";
    let env = if is_root {
        // The real refusal: a checkout owned by someone else.
        common::run(Command::new("chown").args(["-R", "nobody"]).arg(&repo.dir));
        vec![]
    } else {
        // Not root: a git that answers exactly as git does.
        let fake = repo.tmp.path().join("git");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho \"fatal: detected dubious ownership in repository at '$PWD'\" >&2\nexit 128\n",
        )
        .unwrap();
        common::run(Command::new("chmod").arg("+x").arg(&fake));
        vec![("BUILDTRACE_GIT".to_owned(), fake.display().to_string())]
    };
    let mut b = Build::new();
    b.env = env;
    let built = b.run(&repo.dir);
    assert!(
        built.stderr.contains("dubious ownership"),
        "{}",
        built.stderr
    );
    assert!(built.stderr.contains("safe.directory"), "{}", built.stderr);
    assert_eq!(report(&built.exe)["buildtrace.vcs.source"], "none");
}

#[test]
fn a_repository_without_commits_is_dirty_with_no_revision() {
    let repo = Repo::without_git();
    common::git_out(&repo.dir, &["init", "-q", "-b", "main"]);
    let r = report(&repo.build().exe);
    assert_eq!(r["buildtrace.vcs.source"], "git");
    assert_eq!(r["buildtrace.git.dirty"], "true");
    assert!(!r.contains_key("vcs.ref.head.revision"));
}
