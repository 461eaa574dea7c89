//! Every name buildtrace writes or reads: resource attributes, the startup
//! span and its attributes, the attributes of its events.
//!
//! One module owns them so that the producer (the build script and the
//! running program), the offline reader and the command-line tool can never
//! disagree: renaming a key here renames it everywhere. It depends on
//! nothing and is compiled in every configuration, including our own build
//! script.
//!
//! Names that the OpenTelemetry semantic conventions define are spelled as
//! there (a test checks them against `opentelemetry-semantic-conventions`);
//! facts of our own live under `buildtrace.`.

// ---- Resource: the semantic conventions --------------------------------

/// `service.name`.
pub const SERVICE_NAME: &str = "service.name";
/// `service.version`: the package version.
pub const SERVICE_VERSION: &str = "service.version";
/// `service.instance.id`: one per process, set at init.
pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";
/// `telemetry.sdk.name`, set by the OpenTelemetry SDK.
pub const TELEMETRY_SDK_NAME: &str = "telemetry.sdk.name";
/// `telemetry.distro.name`: `buildtrace`.
pub const TELEMETRY_DISTRO_NAME: &str = "telemetry.distro.name";
/// `telemetry.distro.version`: buildtrace's version.
pub const TELEMETRY_DISTRO_VERSION: &str = "telemetry.distro.version";
/// `vcs.ref.head.revision`: the commit.
pub const VCS_REF_HEAD_REVISION: &str = "vcs.ref.head.revision";
/// `vcs.ref.head.name`: the branch or tag.
pub const VCS_REF_HEAD_NAME: &str = "vcs.ref.head.name";
/// `vcs.ref.head.type`: `branch` or `tag`.
pub const VCS_REF_HEAD_TYPE: &str = "vcs.ref.head.type";
/// `vcs.repository.url.full`: the scrubbed remote.
pub const VCS_REPOSITORY_URL_FULL: &str = "vcs.repository.url.full";
/// `process.runtime.name`: `rustc`.
pub const PROCESS_RUNTIME_NAME: &str = "process.runtime.name";
/// `process.runtime.version`: the compiler's release.
pub const PROCESS_RUNTIME_VERSION: &str = "process.runtime.version";
/// `process.runtime.description`: a summary of `rustc -vV`.
pub const PROCESS_RUNTIME_DESCRIPTION: &str = "process.runtime.description";
/// `cicd.pipeline.name`.
pub const CICD_PIPELINE_NAME: &str = "cicd.pipeline.name";
/// `cicd.pipeline.run.id`.
pub const CICD_PIPELINE_RUN_ID: &str = "cicd.pipeline.run.id";
/// `cicd.pipeline.run.url.full`.
pub const CICD_PIPELINE_RUN_URL_FULL: &str = "cicd.pipeline.run.url.full";

// Derived at run time (and by the offline reader), never stored.

/// `os.type`, from the target's OS, spelled as the conventions spell it.
pub const OS_TYPE: &str = "os.type";
/// `host.arch`, from the target's architecture, spelled as the conventions spell it.
pub const HOST_ARCH: &str = "host.arch";
/// `process.executable.name`: the file name.
pub const PROCESS_EXECUTABLE_NAME: &str = "process.executable.name";
/// `process.executable.build_id.gnu`: the linker's build-id.
pub const PROCESS_EXECUTABLE_BUILD_ID_GNU: &str = "process.executable.build_id.gnu";
/// `process.executable.build_id.htlhash`.
pub const PROCESS_EXECUTABLE_BUILD_ID_HTLHASH: &str = "process.executable.build_id.htlhash";
/// What every `process.executable.*` name starts with: facts of the file,
/// not of the build.
pub const PROCESS_EXECUTABLE_PREFIX: &str = "process.executable.";

// ---- Resource: buildtrace's own -----------------------------------------

/// `buildtrace.id`: the provenance ID.
pub const ID: &str = "buildtrace.id";
/// `buildtrace.vcs.source`: which source answered (`git`, `cargo_vcs_info`, `ci`, `override`, `none`).
pub const VCS_SOURCE: &str = "buildtrace.vcs.source";
/// `buildtrace.git.dirty`.
pub const GIT_DIRTY: &str = "buildtrace.git.dirty";
/// `buildtrace.git.dirty_digest`: a digest of the dirty diff.
pub const GIT_DIRTY_DIGEST: &str = "buildtrace.git.dirty_digest";
/// `buildtrace.git.commit_time`.
pub const GIT_COMMIT_TIME: &str = "buildtrace.git.commit_time";
/// `buildtrace.rustc.commit_hash`.
pub const RUSTC_COMMIT_HASH: &str = "buildtrace.rustc.commit_hash";
/// `buildtrace.rustc.commit_date`.
pub const RUSTC_COMMIT_DATE: &str = "buildtrace.rustc.commit_date";
/// `buildtrace.rustc.host`.
pub const RUSTC_HOST: &str = "buildtrace.rustc.host";
/// `buildtrace.rustc.llvm_version`.
pub const RUSTC_LLVM_VERSION: &str = "buildtrace.rustc.llvm_version";
/// `buildtrace.target.triple`.
pub const TARGET_TRIPLE: &str = "buildtrace.target.triple";
/// `buildtrace.target.arch`: Rust's `target_arch`.
pub const TARGET_ARCH: &str = "buildtrace.target.arch";
/// `buildtrace.target.os`: Rust's `target_os`.
pub const TARGET_OS: &str = "buildtrace.target.os";
/// `buildtrace.target.env`: Rust's `target_env`.
pub const TARGET_ENV: &str = "buildtrace.target.env";
/// `buildtrace.target.pointer_width`.
pub const TARGET_POINTER_WIDTH: &str = "buildtrace.target.pointer_width";
/// `buildtrace.build.profile`.
pub const BUILD_PROFILE: &str = "buildtrace.build.profile";
/// `buildtrace.build.opt_level`.
pub const BUILD_OPT_LEVEL: &str = "buildtrace.build.opt_level";
/// `buildtrace.build.debug`.
pub const BUILD_DEBUG: &str = "buildtrace.build.debug";
/// `buildtrace.build.features`: the enabled features, as Cargo spells them.
pub const BUILD_FEATURES: &str = "buildtrace.build.features";
/// `buildtrace.build.time`.
pub const BUILD_TIME: &str = "buildtrace.build.time";
/// `buildtrace.build.time_source`.
pub const BUILD_TIME_SOURCE: &str = "buildtrace.build.time_source";
/// `buildtrace.source.time`.
pub const SOURCE_TIME: &str = "buildtrace.source.time";
/// `buildtrace.source.time_source`.
pub const SOURCE_TIME_SOURCE: &str = "buildtrace.source.time_source";
/// `buildtrace.lock.sha256`: the `Cargo.lock` digest.
pub const LOCK_SHA256: &str = "buildtrace.lock.sha256";
/// `buildtrace.lock.packages`: how many packages `Cargo.lock` resolves.
pub const LOCK_PACKAGES: &str = "buildtrace.lock.packages";
/// `buildtrace.auditable.packages`: how many packages the file's
/// cargo-auditable section (`.dep-v0`) lists. Read from the file by
/// `buildtrace inspect`, never stored in the record.
pub const AUDITABLE_PACKAGES: &str = "buildtrace.auditable.packages";
/// `buildtrace.ci.provider`.
pub const CI_PROVIDER: &str = "buildtrace.ci.provider";
/// `buildtrace.ci.run.attempt`.
pub const CI_RUN_ATTEMPT: &str = "buildtrace.ci.run.attempt";

/// `buildtrace.seal.state`: `sealed`, `payload_signed`, `unsigned`, or
/// `malformed` (the slot does not decode). What the slot *claims*: the
/// running program does no cryptography; `buildtrace verify` checks it.
pub const SEAL_STATE: &str = "buildtrace.seal.state";
/// `buildtrace.seal.digest`: the sealed file digest (SHA-256, hex), the value
/// an attestation's subject is matched against.
pub const SEAL_DIGEST: &str = "buildtrace.seal.digest";
/// `buildtrace.seal.key_id`: the id of the key that sealed the file.
pub const SEAL_KEY_ID: &str = "buildtrace.seal.key_id";
/// `buildtrace.seal.payload_key_id`: the id of the key that signed the
/// payload at build time.
pub const SEAL_PAYLOAD_KEY_ID: &str = "buildtrace.seal.payload_key_id";
/// What every seal attribute starts with.
pub const SEAL_PREFIX: &str = "buildtrace.seal.";

/// The groups a person reads a resource in, each with the name prefixes it
/// takes; the first group whose prefix matches wins, the rest is "other".
/// Every prefix is built from this module's names.
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "build",
        &[
            ID,
            "vcs.",
            "buildtrace.vcs.",
            "buildtrace.git.",
            "buildtrace.source.",
            BUILD_TIME,
        ],
    ),
    ("compiler", &["process.runtime.", "buildtrace.rustc."]),
    ("target", &["buildtrace.target.", OS_TYPE, HOST_ARCH]),
    ("build settings", &["buildtrace.build.", "buildtrace.lock."]),
    ("CI", &["cicd.", "buildtrace.ci."]),
    ("executable", &[PROCESS_EXECUTABLE_PREFIX]),
    (
        "seal (claimed; check the file with `buildtrace verify`)",
        &[SEAL_PREFIX],
    ),
    ("service", &["service.", "telemetry."]),
];

/// The startup span: its name, its attributes and those of its events.
pub mod startup {
    /// Name of the startup span.
    pub const SPAN_NAME: &str = "startup";
    /// Span attribute: records delivered as events.
    pub const EVENT_COUNT: &str = "buildtrace.startup.event_count";
    /// Span attribute: records lost to a full ring.
    pub const DROPPED_COUNT: &str = "buildtrace.startup.dropped_count";
    /// Span attribute: milliseconds from process start to init.
    pub const TO_INIT_MS: &str = "buildtrace.startup.to_init_ms";
    /// Span attribute: milliseconds from process start to ready.
    pub const TO_READY_MS: &str = "buildtrace.startup.to_ready_ms";
    /// Span attribute: the bound on the error of event timestamps, in ns.
    pub const CLOCK_ERROR_NS: &str = "buildtrace.startup.clock_error_ns";
    /// Span attribute: where the span's start came from: `os` (the
    /// operating system's process start), `constructor` (buildtrace's
    /// constructor, before `main`), `first_event` or `init`.
    pub const START_SOURCE: &str = "buildtrace.startup.start_source";
    /// Span attribute: how coarse the operating system's process start is,
    /// in milliseconds (its clock tick: 10 on Linux); absent where the OS
    /// gives no start.
    pub const OS_START_PRECISION_MS: &str = "buildtrace.startup.os_start_precision_ms";
    /// Span attribute: milliseconds from the span's start to buildtrace's
    /// constructor, which runs before `main` in binaries that use `embed!`.
    pub const CONSTRUCTOR_MS: &str = "buildtrace.startup.constructor_ms";
    /// Span attribute: milliseconds from the constructor to init, both read
    /// in the events' own clock (precise to the clock error).
    pub const CONSTRUCTOR_TO_INIT_MS: &str = "buildtrace.startup.constructor_to_init_ms";

    /// Event attribute: the `tracing` level of a captured event.
    pub const LEVEL: &str = "level";
    /// Event attribute: the `tracing` target of a captured event.
    pub const TARGET: &str = "target";
    /// Event attribute: the thread that recorded the event.
    pub const THREAD_ID: &str = "thread.id";
    /// Event attribute: attributes that did not fit in the record.
    pub const ATTRS_DROPPED: &str = "buildtrace.attrs_dropped";

    /// Histogram (seconds): process start to telemetry init.
    pub const INIT_DURATION: &str = "buildtrace.startup.init.duration";
    /// Histogram (seconds): process start to the application's ready signal.
    pub const READY_DURATION: &str = "buildtrace.startup.ready.duration";
    /// Instrumentation scope of buildtrace's own log records and metrics.
    pub const SCOPE: &str = "buildtrace";
}

#[cfg(all(test, feature = "otel"))]
mod tests {
    use super::*;
    use opentelemetry_semantic_conventions::attribute as semconv;

    /// Our spelling of each semantic-convention name is the conventions' own.
    #[test]
    fn semantic_convention_names_match_the_conventions() {
        for (ours, theirs) in [
            (SERVICE_NAME, semconv::SERVICE_NAME),
            (SERVICE_VERSION, semconv::SERVICE_VERSION),
            (SERVICE_INSTANCE_ID, semconv::SERVICE_INSTANCE_ID),
            (TELEMETRY_SDK_NAME, semconv::TELEMETRY_SDK_NAME),
            (TELEMETRY_DISTRO_NAME, semconv::TELEMETRY_DISTRO_NAME),
            (TELEMETRY_DISTRO_VERSION, semconv::TELEMETRY_DISTRO_VERSION),
            (VCS_REF_HEAD_REVISION, semconv::VCS_REF_HEAD_REVISION),
            (VCS_REF_HEAD_NAME, semconv::VCS_REF_HEAD_NAME),
            (VCS_REF_HEAD_TYPE, semconv::VCS_REF_HEAD_TYPE),
            (VCS_REPOSITORY_URL_FULL, semconv::VCS_REPOSITORY_URL_FULL),
            (PROCESS_RUNTIME_NAME, semconv::PROCESS_RUNTIME_NAME),
            (PROCESS_RUNTIME_VERSION, semconv::PROCESS_RUNTIME_VERSION),
            (
                PROCESS_RUNTIME_DESCRIPTION,
                semconv::PROCESS_RUNTIME_DESCRIPTION,
            ),
            (CICD_PIPELINE_NAME, semconv::CICD_PIPELINE_NAME),
            (CICD_PIPELINE_RUN_ID, semconv::CICD_PIPELINE_RUN_ID),
            (
                CICD_PIPELINE_RUN_URL_FULL,
                semconv::CICD_PIPELINE_RUN_URL_FULL,
            ),
            (OS_TYPE, semconv::OS_TYPE),
            (HOST_ARCH, semconv::HOST_ARCH),
            (PROCESS_EXECUTABLE_NAME, semconv::PROCESS_EXECUTABLE_NAME),
            (
                PROCESS_EXECUTABLE_BUILD_ID_GNU,
                semconv::PROCESS_EXECUTABLE_BUILD_ID_GNU,
            ),
            (
                PROCESS_EXECUTABLE_BUILD_ID_HTLHASH,
                semconv::PROCESS_EXECUTABLE_BUILD_ID_HTLHASH,
            ),
            (startup::THREAD_ID, semconv::THREAD_ID),
        ] {
            assert_eq!(ours, theirs);
        }
    }

    /// Every name of ours is under `buildtrace.`, and every group prefix
    /// matches at least one name this module defines or a convention's
    /// namespace.
    #[test]
    fn own_names_are_namespaced() {
        for name in [
            ID,
            VCS_SOURCE,
            GIT_DIRTY,
            LOCK_SHA256,
            AUDITABLE_PACKAGES,
            SEAL_STATE,
            startup::TO_INIT_MS,
            startup::ATTRS_DROPPED,
        ] {
            assert!(name.starts_with("buildtrace."), "{name}");
        }
        assert!(SEAL_STATE.starts_with(SEAL_PREFIX));
        assert!(PROCESS_EXECUTABLE_NAME.starts_with(PROCESS_EXECUTABLE_PREFIX));
    }
}
