//! Two builds of the same source from two checkout paths, with the same
//! `SOURCE_DATE_EPOCH`, embed byte-identical records.

mod common;

use common::{objcopy_section, report, Build, Repo};

#[test]
fn same_source_two_paths_identical_record_and_id() {
    // One package name for both checkouts: a user's two clones of one crate.
    let name = common::unique_name();
    let a = Repo::named(&name);
    let b = Repo::named(&name);
    assert_ne!(a.dir, b.dir);
    assert_eq!(a.git(&["rev-parse", "HEAD"]), b.git(&["rev-parse", "HEAD"]));

    let build = Build::new().env("SOURCE_DATE_EPOCH", "1700000000");
    let built_a = build.run(&a.dir);
    let built_b = build.run(&b.dir);
    let rec_a = objcopy_section(&built_a.exe, ".buildtrace");
    let rec_b = objcopy_section(&built_b.exe, ".buildtrace");
    assert!(!rec_a.is_empty());
    assert_eq!(rec_a, rec_b, "records differ between checkouts");
    let (ra, rb) = (report(&built_a.exe), report(&built_b.exe));
    assert_eq!(ra["buildtrace.id"], rb["buildtrace.id"]);
    assert_eq!(ra["buildtrace.build.time"], "2023-11-14T22:13:20Z");
    assert_eq!(ra["buildtrace.build.time_source"], "source_date_epoch");
    assert_eq!(ra["buildtrace.source.time"], "2023-11-14T22:13:20Z");

    // No path of the machine and no home directory in the record.
    let text = String::from_utf8_lossy(&rec_a);
    for needle in [
        a.dir.display().to_string(),
        a.tmp.path().display().to_string(),
        std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
        common::buildtrace_root().display().to_string(),
    ] {
        assert!(!text.contains(&needle), "record contains {needle:?}");
    }
}

#[test]
fn the_id_ignores_build_time_but_follows_the_inputs() {
    let repo = Repo::new();
    let one = report(
        &Build::new()
            .env("SOURCE_DATE_EPOCH", "1")
            .run(&repo.dir)
            .exe,
    );
    let two = report(
        &Build::new()
            .env("SOURCE_DATE_EPOCH", "2")
            .run(&repo.dir)
            .exe,
    );
    assert_ne!(one["buildtrace.build.time"], two["buildtrace.build.time"]);
    assert_eq!(one["buildtrace.id"], two["buildtrace.id"]);
    let featured = report(
        &Build::new()
            .env("SOURCE_DATE_EPOCH", "2")
            .features("beta")
            .run(&repo.dir)
            .exe,
    );
    assert_ne!(featured["buildtrace.id"], two["buildtrace.id"]);
}

#[test]
fn an_invalid_source_date_epoch_warns_and_is_marked_never_silent() {
    let repo = Repo::new();
    let built = Build::new()
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .run(&repo.dir);
    assert!(
        built
            .stderr
            .contains("SOURCE_DATE_EPOCH=\"yesterday\" is not"),
        "{}",
        built.stderr
    );
    let r = report(&built.exe);
    assert_eq!(r["buildtrace.source.time"], "invalid");
    assert_eq!(
        r["buildtrace.source.time_source"],
        "source_date_epoch_invalid"
    );
    assert_eq!(
        r["buildtrace.build.time_source"],
        "clock_source_date_epoch_invalid"
    );
}
