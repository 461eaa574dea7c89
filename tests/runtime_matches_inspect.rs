//! What a program reports about itself at run time (its OpenTelemetry
//! resource) is exactly what `buildtrace inspect --json` reads from its file.

mod common;

use common::{run, Build, Repo};
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn the_resource_detector_and_inspect_json_agree_attribute_for_attribute() {
    let repo = Repo::new();
    let built = Build::new().features("otel").run(&repo.dir);

    let out = run(Command::new(&built.exe).arg("--resource"));
    let runtime: BTreeMap<String, String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("resource\t"))
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();

    let json = run(Command::new(env!("CARGO_BIN_EXE_buildtrace"))
        .arg("inspect")
        .arg("--json")
        .arg(&built.exe));
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).unwrap();
    let offline: BTreeMap<String, String> = json
        .into_iter()
        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect();

    assert_eq!(runtime, offline);
    // And both carry the facts that only exist once linked.
    for key in [
        "os.type",
        "host.arch",
        "process.executable.name",
        "process.executable.build_id.htlhash",
    ] {
        assert!(runtime.contains_key(key), "{key} missing");
    }
    assert_eq!(runtime["os.type"], "linux");
    assert_eq!(
        runtime["vcs.ref.head.revision"],
        repo.git(&["rev-parse", "HEAD"])
    );
}
