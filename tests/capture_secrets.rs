//! No secret reaches the binary, `OUT_DIR` or anything under `target/`:
//! tokens in remote URLs and in the environment of the build.

mod common;

use common::{files_containing, report, Build, Repo};

fn canary(tag: &str) -> String {
    format!("CANARY{tag}{}x{}", std::process::id(), tag.len() * 7919)
}

#[test]
fn tokens_in_remote_urls_never_reach_the_binary_or_target() {
    let forms = [
        ("userpass", "https://user:{}@host/o/r.git"),
        ("token", "https://{}@host/o/r"),
        ("query", "https://host/o/r?private_token={}"),
        ("gitproto", "git://u:{}@host/o/r"),
        ("ssh", "ssh://git@host/o/r#{}"),
        ("scp", "git@host:o/r.git"),
    ];
    let mut secrets = Vec::new();
    for (tag, form) in forms {
        let secret = canary(tag);
        let repo = Repo::new();
        repo.git(&["remote", "add", "origin", &form.replace("{}", &secret)]);
        let built = repo.build();
        let r = report(&built.exe);
        assert_eq!(r["vcs.repository.url.full"], "https://host/o/r", "{form}");
        let bin = std::fs::read(&built.exe).unwrap();
        assert!(
            memchr::memmem::find(&bin, secret.as_bytes()).is_none(),
            "{form}: secret in binary"
        );
        let out_dir = built.out_dir.expect("no OUT_DIR reported");
        assert!(
            files_containing(&out_dir, &[secret.as_bytes()]).is_empty(),
            "{form}: secret in OUT_DIR"
        );
        secrets.push(secret);
    }
    let needles: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    let hits = files_containing(&common::target_dir(), &needles);
    assert!(hits.is_empty(), "a secret under target/: {hits:?}");
}

#[test]
fn secret_environment_variables_never_reach_the_binary_or_target() {
    let repo = Repo::new();
    let secrets: Vec<(&str, String)> = [
        "GITHUB_TOKEN",
        "CARGO_REGISTRY_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
    ]
    .into_iter()
    .map(|k| (k, canary(k)))
    .collect();
    // On a CI that buildtrace recognises, the secrets sit next to the
    // variables it does read.
    let mut b = Build::new()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_RUN_ID", "1");
    for (k, v) in &secrets {
        b = b.env(k, v.clone());
    }
    let built = b.run(&repo.dir);
    assert_eq!(report(&built.exe)["cicd.pipeline.run.id"], "1");
    let bin = std::fs::read(&built.exe).unwrap();
    for (k, v) in &secrets {
        assert!(
            memchr::memmem::find(&bin, v.as_bytes()).is_none(),
            "{k} in binary"
        );
    }
    let needles: Vec<&[u8]> = secrets.iter().map(|(_, v)| v.as_bytes()).collect();
    let hits = files_containing(&common::target_dir(), &needles);
    assert!(hits.is_empty(), "a secret under target/: {hits:?}");
}
