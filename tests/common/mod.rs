//! Shared helpers: copy the fixture application into a temporary git
//! repository, build it as a user would, and read back what it reports.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// Every fixture build shares one target directory (so buildtrace and its
/// dependencies compile once); builds are serialised and each executable is
/// copied out before the next build can overwrite it. Cargo hashes a path
/// package by its name and version, not its location, so each copy gets a
/// name of its own (see [`Repo::new`]); else two copies would share one
/// build-script unit.
static BUILD: Mutex<()> = Mutex::new(());

pub fn buildtrace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixture-target")
}

/// Runs a command, panicking with its output when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

/// A minimal, deterministic environment: nothing from the CI running the
/// tests (CI, GITHUB_*, …) leaks into the fixture's build.
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    cmd.env_clear();
    for var in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "TMPDIR",
    ] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd
}

/// `git` with a fixed identity and dates, isolated from the machine's config.
pub fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    clean_env(&mut c);
    c.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Fixture")
        .env("GIT_AUTHOR_EMAIL", "fixture@example.invalid")
        .env("GIT_COMMITTER_NAME", "Fixture")
        .env("GIT_COMMITTER_EMAIL", "fixture@example.invalid")
        .env("GIT_AUTHOR_DATE", "2024-02-03T04:05:06Z")
        .env("GIT_COMMITTER_DATE", "2024-02-03T04:05:06Z");
    c
}

pub fn git_out(dir: &Path, args: &[&str]) -> String {
    run(git(dir).args(args))
}

/// An ECDSA P-256 key pair made by OpenSSL, as a user makes one:
/// `(private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)` in `dir`.
pub fn openssl_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&private));
    run(Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public));
    (private, public)
}

/// Copies an executable so that it can be run at once, whatever other test
/// threads are doing.
///
/// A copy made in this process holds a writable descriptor on the new file
/// while it is written; a thread that forks to spawn a child in that window
/// hands the child a duplicate of it, and until that child execs, running the
/// copy fails with `ETXTBSY` ("Text file busy"). `cp` writes the file in its
/// own process, so this process never holds such a descriptor: once `cp` has
/// exited, nothing can have the file open for writing.
pub fn copy_executable(from: &Path, to: &Path) {
    run(Command::new("cp").arg("--").arg(from).arg(to));
}

/// Writes the fixture application into `dir`, pointing at this checkout of
/// buildtrace, with a lock file resolved from buildtrace's own.
pub fn write_fixture(dir: &Path, name: &str) {
    let src = buildtrace_root().join("tests/fixture");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = std::fs::read_to_string(src.join("Cargo.toml"))
        .unwrap()
        .replace(
            "path = \"../..\"",
            &format!("path = {:?}", buildtrace_root().display().to_string()),
        )
        .replace("name = \"fixture\"", &format!("name = {name:?}"));
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    for f in ["build.rs", "src/main.rs", ".gitignore"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::fs::copy(buildtrace_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    // Trims buildtrace's lock to the fixture's graph, offline and without
    // upgrading anything.
    let mut c = Command::new(env!("CARGO"));
    clean_env(&mut c);
    run(c
        .current_dir(dir)
        .args(["metadata", "--offline", "--format-version=1"]));
}

/// A temporary directory holding a git repository of the fixture.
pub struct Repo {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    /// The package name, which is also `service.name`.
    pub name: String,
}

/// A package name unique within this test binary, and the same on every run
/// (so the shared target directory does not grow).
pub fn unique_name() -> String {
    format!(
        "fx-{}-{}",
        env!("CARGO_CRATE_NAME").replace('_', "-"),
        unique()
    )
}

impl Repo {
    /// The fixture, committed once on branch `main`.
    pub fn new() -> Repo {
        Repo::named(&unique_name())
    }

    /// The fixture as package `name`, committed once on branch `main`.
    pub fn named(name: &str) -> Repo {
        let repo = Repo::without_git_named(name);
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "fixture"]);
        repo
    }

    /// The fixture outside any repository.
    pub fn without_git() -> Repo {
        Repo::without_git_named(&unique_name())
    }

    pub fn without_git_named(name: &str) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        write_fixture(&dir, name);
        Repo {
            tmp,
            dir,
            name: name.to_owned(),
        }
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_out(&self.dir, args)
    }

    pub fn build(&self) -> Built {
        Build::new().run(&self.dir)
    }
}

/// A `cargo build` of the fixture.
#[derive(Default, Clone)]
pub struct Build {
    pub profile: Option<String>,
    pub features: Option<String>,
    pub env: Vec<(String, String)>,
    /// Build with `cargo auditable build`, this being the `cargo-auditable`
    /// executable.
    pub auditable: Option<PathBuf>,
    /// `--target`: a cross build (its environment from `scripts/cross/env.sh`).
    pub target: Option<String>,
    /// Build with `cargo zigbuild` (Mach-O, linked by zig).
    pub zigbuild: bool,
}

pub struct Built {
    /// A copy of the executable, safe from later builds.
    pub exe: PathBuf,
    pub stderr: String,
    /// The build scripts cargo ran (their `build-script-build` paths).
    pub scripts_run: Vec<String>,
    /// The fixture's `OUT_DIR`.
    pub out_dir: Option<PathBuf>,
}

impl Build {
    pub fn new() -> Build {
        Build::default()
    }

    pub fn profile(mut self, p: &str) -> Build {
        self.profile = Some(p.to_owned());
        self
    }

    pub fn features(mut self, f: &str) -> Build {
        self.features = Some(f.to_owned());
        self
    }

    /// Builds with `cargo auditable build` (`cargo_auditable` is the
    /// subcommand's executable), which embeds the `.dep-v0` section.
    pub fn auditable(mut self, cargo_auditable: &Path) -> Build {
        self.auditable = Some(cargo_auditable.to_path_buf());
        self
    }

    /// Builds for `target` with `cargo zigbuild` when `zigbuild`, else
    /// `cargo build`.
    pub fn target(mut self, target: &str, zigbuild: bool) -> Build {
        self.target = Some(target.to_owned());
        self.zigbuild = zigbuild;
        self
    }

    pub fn env(mut self, k: &str, v: impl Into<String>) -> Build {
        self.env.push((k.to_owned(), v.into()));
        self
    }

    pub fn run(&self, dir: &Path) -> Built {
        let out = self.output(dir);
        assert!(
            out.status.success(),
            "fixture build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut exe = None;
        let mut out_dir = None;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let ours = msg["manifest_path"]
                .as_str()
                .is_some_and(|m| Path::new(m) == dir.join("Cargo.toml"));
            if msg["reason"] == "compiler-artifact" && ours {
                if let Some(e) = msg["executable"].as_str() {
                    exe = Some(PathBuf::from(e));
                }
            }
            if msg["reason"] == "build-script-executed"
                && msg["package_id"]
                    .as_str()
                    .is_some_and(|p| p.contains(&format!("{}#", dir.display())))
            {
                out_dir = msg["out_dir"].as_str().map(PathBuf::from);
            }
        }
        let exe = exe.expect("cargo reported no fixture executable");
        let copy = dir.parent().unwrap().join(format!("fixture-{}", unique()));
        copy_executable(&exe, &copy);
        let scripts_run = stderr
            .lines()
            .filter(|l| l.trim_start().starts_with("Running `") && l.contains("build-script-build"))
            .map(str::to_owned)
            .collect();
        Built {
            exe: copy,
            stderr,
            scripts_run,
            out_dir,
        }
    }

    /// Runs the build and returns cargo's raw output, success or not.
    pub fn output(&self, dir: &Path) -> Output {
        let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
        let mut c = match &self.auditable {
            Some(sub) => {
                // What `cargo auditable` runs: the subcommand, given its name
                // first and the cargo to call back in `CARGO`.
                let mut c = Command::new(sub);
                clean_env(&mut c);
                c.arg("auditable").env("CARGO", env!("CARGO"));
                c
            }
            None => {
                let mut c = Command::new(env!("CARGO"));
                clean_env(&mut c);
                c
            }
        };
        c.current_dir(dir)
            .arg(if self.zigbuild { "zigbuild" } else { "build" })
            .args([
                "--offline",
                "-v",
                "--message-format=json-render-diagnostics",
            ])
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_TERM_COLOR", "never");
        if let Some(p) = &self.profile {
            c.args(["--profile", p]);
        }
        if let Some(f) = &self.features {
            c.args(["--features", f]);
        }
        if let Some(t) = &self.target {
            c.args(["--target", t]);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// What the fixture reports about itself at run time: `key -> value`.
pub fn report(exe: &Path) -> BTreeMap<String, String> {
    let out = run(&mut Command::new(exe));
    out.lines()
        .filter(|l| !l.starts_with("resource\t"))
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A field of `rustc -vV`, for the compiler Cargo uses.
pub fn rustc_field(name: &str) -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = run(Command::new(rustc).arg("-vV"));
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in rustc -vV"))
        .to_owned()
}

/// The bytes of a section, extracted with binutils' objcopy.
pub fn objcopy_section(exe: &Path, section: &str) -> Vec<u8> {
    let out = tempfile::NamedTempFile::new().unwrap();
    run(Command::new("objcopy")
        .args(["-O", "binary", "--only-section", section])
        .arg(exe)
        .arg(out.path()));
    std::fs::read(out.path()).unwrap()
}

/// Section names, from binutils' `readelf -SW`.
pub fn readelf_sections(exe: &Path) -> String {
    run(Command::new("readelf").arg("-SW").arg(exe))
}

/// Every file under `dir` that contains one of `needles`, read once each.
pub fn files_containing(dir: &Path, needles: &[&[u8]]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                if let Ok(bytes) = std::fs::read(&p) {
                    if needles
                        .iter()
                        .any(|n| memchr::memmem::find(&bytes, n).is_some())
                    {
                        hits.push(p.display().to_string());
                    }
                }
            }
        }
    }
    hits
}
