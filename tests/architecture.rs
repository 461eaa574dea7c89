//! The rooms of `src/` import only what ARCHITECTURE.md allows them to, no
//! file under `src/` grows past 800 lines, and the crate docs' feature table
//! is the one `Cargo.toml` declares.
//!
//! The import rule is read from the source text: every `crate::…` path (and
//! every `super::…` path that climbs out of its room) outside comments names
//! the room it reaches; a reach that the table below does not allow fails,
//! naming the file, the line and the rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each room and the rooms it may import. Keep in step with ARCHITECTURE.md.
const ALLOWED: &[(&str, &[&str])] = &[
    // The vocabulary and the low-level rooms: nothing, or almost nothing.
    ("names", &[]),
    ("sync", &[]),
    ("signing", &[]),
    ("scrub", &[]),
    ("ring", &["sync"]),
    ("provenance", &["names"]),
    ("slot", &["provenance"]),
    ("build_id", &["provenance"]),
    ("embed", &["startup"]),
    ("attributes", &["names", "provenance", "slot"]),
    // The build-script side: compiled into our own build.rs by path, so it
    // may only reach rooms that build.rs includes too.
    (
        "build",
        &["names", "provenance", "slot", "signing", "scrub"],
    ),
    // The offline reader never reaches the telemetry side.
    (
        "inspect",
        &[
            "names",
            "provenance",
            "slot",
            "attributes",
            "build_id",
            "embed",
        ],
    ),
    (
        "seal",
        &[
            "inspect",
            "signing",
            "scrub",
            "names",
            "provenance",
            "slot",
            "attributes",
        ],
    ),
    ("startup", &["ring", "sync", "names", "embed"]),
    // The other offline reader: Jaeger's answers are hostile too, and
    // printed with the reader's terminal escaping.
    ("jaeger", &["names", "inspect"]),
    (
        "resource",
        &["attributes", "build_id", "embed", "provenance", "names"],
    ),
    (
        "telemetry",
        &[
            "startup",
            "resource",
            "names",
            "provenance",
            "attributes",
            "embed",
            "process_context",
        ],
    ),
    // The process context: the OTEP header, the publisher and a reader of
    // other processes that depends on no telemetry state; it renders with
    // the offline reader's escaping.
    ("process_context", &["inspect"]),
];

/// Items re-exported at the crate root, and the room each comes from.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("provenance", "provenance"), // the function reads the record through embed
    ("htlhash", "build_id"),
    ("htlhash_of_file", "build_id"),
    ("gnu_build_id", "build_id"),
    ("read_gnu_build_id", "build_id"),
    ("ready", "startup"),
    ("ProvenanceDetector", "resource"),
    ("Record", "provenance"),
    ("Value", "provenance"),
    ("init", "telemetry"),
    ("try_init", "telemetry"),
    ("Builder", "telemetry"),
    ("Guard", "telemetry"),
    ("InitError", "telemetry"),
    // Re-exported crates.
    ("opentelemetry", "extern"),
    ("opentelemetry_sdk", "extern"),
    ("opentelemetry_otlp", "extern"),
    ("tracing_opentelemetry", "extern"),
    ("tracing_subscriber", "extern"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The library's files with their room (`None` for `lib.rs`), binaries left out.
fn library_files() -> Vec<(PathBuf, Option<String>)> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| !p.starts_with(src.join("bin")))
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_path_buf();
            let first = rel.components().next().unwrap().as_os_str();
            let first = first.to_str().unwrap().trim_end_matches(".rs").to_owned();
            let room = (first != "lib").then_some(first);
            (p, room)
        })
        .collect()
}

/// How many `super::` steps from `file` reach the crate root.
fn depth_to_root(file: &Path) -> usize {
    let rel = file.strip_prefix(root().join("src")).unwrap();
    let parts = rel.components().count();
    let is_mod = rel.file_name().is_some_and(|n| n == "mod.rs");
    // src/a.rs and src/a/mod.rs are depth 1; src/a/b.rs is 2; and so on.
    if is_mod {
        parts - 1
    } else {
        parts
    }
}

/// The first path segments reached from the crate root on `line`.
fn crate_reaches(line: &str, depth: usize) -> Vec<String> {
    let mut found = Vec::new();
    let climb = "super::".repeat(depth);
    for prefix in ["crate::", climb.as_str()] {
        let mut rest = line;
        while let Some(at) = rest.find(prefix) {
            // `$crate::` in a macro is the crate too; any other identifier
            // character before the prefix is another path (`mycrate::`).
            let before = rest[..at].chars().last();
            let after = &rest[at + prefix.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if prefix != "crate::" && after.starts_with("super::") {
                continue; // climbs further: counted at its own depth, if any
            }
            let names: Vec<&str> = if let Some(group) = after.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or("");
                group
                    .split(',')
                    .map(|m| m.trim().split("::").next().unwrap_or("").trim())
                    .collect()
            } else {
                vec![after
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")]
            };
            found.extend(
                names
                    .into_iter()
                    .filter(|n| !n.is_empty() && *n != "self")
                    .map(str::to_owned),
            );
        }
    }
    found
}

/// `mod name {` (with any visibility), opening an inline module.
fn opens_inline_mod(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.iter().position(|w| *w == "mod").is_some_and(|i| {
        words.get(i + 2) == Some(&"{") && words[..i].iter().all(|w| w.starts_with("pub"))
    })
}

fn room_of(item: &str, rooms: &BTreeSet<&str>) -> Option<String> {
    if rooms.contains(item) {
        return Some(item.to_owned());
    }
    ROOT_ITEMS
        .iter()
        .find(|(name, _)| *name == item)
        .map(|(_, room)| (*room).to_owned())
}

#[test]
fn rooms_import_only_what_the_architecture_allows() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(room, deps)| (*room, deps.iter().copied().collect()))
        .collect();
    let rooms: BTreeSet<&str> = allowed.keys().copied().collect();
    let mut violations = Vec::new();
    for (file, room) in library_files() {
        let Some(room) = room else { continue };
        let Some(may) = allowed.get(room.as_str()) else {
            violations.push(format!(
                "{}: room `{room}` is not in the architecture table",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // Inline modules (`mod tests { … }`) add a level for `super::`.
        let mut braces = 0usize;
        let mut inline_mods: Vec<usize> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let depth = depth_to_root(&file) + inline_mods.len();
            if opens_inline_mod(line) {
                inline_mods.push(braces);
            }
            braces += line.matches('{').count();
            braces = braces.saturating_sub(line.matches('}').count());
            while inline_mods.last().is_some_and(|&at| braces <= at) {
                inline_mods.pop();
            }
            for item in crate_reaches(line, depth) {
                match room_of(&item, &rooms) {
                    Some(r) if r == room || r == "extern" || may.contains(r.as_str()) => {}
                    Some(r) => violations.push(format!(
                        "{}:{}: `{room}` imports `{r}` (through `{item}`), which ARCHITECTURE.md does not allow",
                        file.display(),
                        n + 1
                    )),
                    None => violations.push(format!(
                        "{}:{}: `{item}` is not a room or a known root item; add it to this test's tables",
                        file.display(),
                        n + 1
                    )),
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The rooms that our own build.rs compiles by path are exactly the build
/// room and what it may import: nothing the build script cannot compile.
#[test]
fn build_script_includes_the_build_room_and_its_imports() {
    let build_rs = std::fs::read_to_string(root().join("build.rs")).unwrap();
    let included: BTreeSet<String> = build_rs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#[path = \"src/"))
        .map(|p| p.split(['/', '.', '"']).next().unwrap().to_owned())
        .collect();
    let mut expected: BTreeSet<String> = ["build".to_owned()].into();
    let mut frontier = vec!["build"];
    while let Some(room) = frontier.pop() {
        let deps = ALLOWED.iter().find(|(r, _)| *r == room).unwrap().1;
        for dep in deps {
            if expected.insert((*dep).to_owned()) {
                frontier.push(dep);
            }
        }
    }
    assert_eq!(included, expected);
}

/// The rule itself catches a forbidden import (so the test above can fail).
#[test]
fn the_rule_sees_grouped_and_climbing_imports() {
    assert_eq!(
        crate_reaches("use crate::{names, telemetry::config};", 1),
        ["names", "telemetry"]
    );
    assert_eq!(
        crate_reaches("    super::super::startup::close();", 2),
        ["startup"]
    );
    assert_eq!(
        crate_reaches("use super::diagnostics;", 2),
        Vec::<String>::new()
    );
    assert_eq!(
        crate_reaches("$crate::startup::constructor();", 1),
        ["startup"]
    );
    assert_eq!(
        crate_reaches("use mycrate::telemetry;", 1),
        Vec::<String>::new()
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 800).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}

/// The features `Cargo.toml` declares, from `cargo metadata`, with the
/// default ones.
fn declared_features() -> BTreeMap<String, bool> {
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["metadata", "--no-deps", "--format-version=1", "--offline"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let features = meta["packages"][0]["features"].as_object().unwrap();
    let defaults: BTreeSet<&str> = features["default"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // A feature another default feature turns on is on by default too.
    let mut on = defaults.clone();
    let mut frontier: Vec<&str> = defaults.into_iter().collect();
    while let Some(f) = frontier.pop() {
        for implied in features[f].as_array().unwrap() {
            let implied = implied.as_str().unwrap();
            if features.contains_key(implied) && on.insert(implied) {
                frontier.push(implied);
            }
        }
    }
    features
        .keys()
        .filter(|f| *f != "default")
        .map(|f| (f.clone(), on.contains(f.as_str())))
        .collect()
}

#[test]
fn the_crate_docs_feature_table_is_cargo_toml() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let table: BTreeMap<String, bool> = lib
        .lines()
        .skip_while(|l| !l.starts_with("//! # Feature flags"))
        .skip(1)
        .take_while(|l| !l.starts_with("//! #"))
        .filter_map(|l| l.strip_prefix("//! | `"))
        .map(|l| {
            let mut cells = l.split('|').map(str::trim);
            let name = cells.next().unwrap().trim_end_matches('`').to_owned();
            let default = match cells.next().unwrap() {
                "yes" => true,
                "no" => false,
                other => panic!("feature {name}: default column says {other:?}"),
            };
            (name, default)
        })
        .collect();
    assert_eq!(table, declared_features());
}
