//! What the exit status of `buildtrace` means.

use std::fmt;

use buildtrace::process_context::read::ReadError;

/// The outcome of a run, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitCode {
    /// What was asked for was found and printed, or help or the version was
    /// asked for.
    Success,
    /// The question was answered, and the answer is "none": the file holds
    /// no record, or Jaeger holds no matching trace.
    NotFound,
    /// The file is unreadable, not an executable, or holds a broken record;
    /// Jaeger could not be asked; or the command line is wrong.
    Error,
    /// `verify`: the file was altered after it was signed or sealed.
    Invalid,
    /// `verify`: a signing key is not among the trusted ones.
    UntrustedKey,
    /// `verify`: nothing (or not enough) to verify: no record, an unsigned
    /// one, or less than `--require` asks for.
    NotVerified,
    /// `diff`: the two records differ.
    Differ,
    /// `inspect --pid`: no process has that PID.
    NoSuchProcess,
    /// `inspect --pid`: the process's memory may not be read.
    PermissionDenied,
    /// `inspect --pid`: the process's context is broken (signature, version,
    /// payload size, payload, or changing on every attempt).
    BrokenContext,
}

impl ExitCode {
    /// The exit code for a process-context read that failed.
    pub(crate) fn of_read_error(error: &ReadError) -> ExitCode {
        match error {
            ReadError::NoContext { .. } => ExitCode::NotFound,
            ReadError::NoSuchProcess { .. } => ExitCode::NoSuchProcess,
            ReadError::PermissionDenied { .. } => ExitCode::PermissionDenied,
            e if e.is_broken_context() => ExitCode::BrokenContext,
            _ => ExitCode::Error,
        }
    }
}

/// The exit codes of `verify`, for its `--help`.
pub(crate) const VERIFY_HELP: &str = "\
Exit status:
  0  sealed-and-bound, or payload-authentic (unless --require sealed)
  1  invalid: the file or its record no longer matches its seal or signature
  2  error: the file is unreadable or not an executable, a key file is unusable, or the usage is wrong
  3  untrusted-key: everything checkable matches, but the signing key is not among --pubkey
  4  absent or unsigned: no record, or a record without signature or seal; or less than --require asks";

/// The exit codes of `verify-attestation`, for its `--help`.
pub(crate) const VERIFY_ATTESTATION_HELP: &str = "\
Exit status:
  0  verified: a trusted key signed a statement of the expected type whose subject is the file
  1  invalid: the signature does not verify (edited after signing, or another key), the file is
     not a subject (changed after attesting), or the predicate type differs
  2  error: a file is unreadable, the attestation is not a bundle or DSSE envelope, a key file is
     unusable, or the usage is wrong
  3  untrusted-key: the attestation names a key that is not among --pubkey";

/// The exit codes of `diff`, for its `--help`.
pub(crate) const DIFF_HELP: &str = "\
Exit status:
  0  the two records state the same facts
  1  they differ
  2  error: a file is unreadable, has no record, or the usage is wrong";

/// The exit codes, for `--help`.
pub(crate) const HELP: &str = "\
Exit status:
  0  found: the file's record or the process's context (inspect), its traces (traces), the
     trace (lookup); or --help, --version
  1  not found: the file was read but has no buildtrace record; the process publishes no
     process context (inspect --pid); Jaeger has no trace of the build (traces) or no such
     trace (lookup)
  2  error: the file is unreadable, not an executable or holds a broken record; Jaeger's query
     API did not answer or did not answer JSON; or the usage is wrong (a PID that is not a
     positive number)
  5  inspect --pid: no process has that PID
  6  inspect --pid: not allowed to read the process's memory (another user, no CAP_SYS_PTRACE,
     kernel.yama.ptrace_scope)
  7  inspect --pid: the process context is broken: bad signature or version, payload size 0 or
     over 65536 bytes, an unreadable or undecodable payload, or changing on every attempt";

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        match code {
            ExitCode::Success => std::process::ExitCode::SUCCESS,
            ExitCode::NotFound => std::process::ExitCode::from(1),
            ExitCode::Error => std::process::ExitCode::from(2),
            ExitCode::Invalid | ExitCode::Differ => std::process::ExitCode::from(1),
            ExitCode::UntrustedKey => std::process::ExitCode::from(3),
            ExitCode::NotVerified => std::process::ExitCode::from(4),
            ExitCode::NoSuchProcess => std::process::ExitCode::from(5),
            ExitCode::PermissionDenied => std::process::ExitCode::from(6),
            ExitCode::BrokenContext => std::process::ExitCode::from(7),
        }
    }
}

/// A complete answer that is "none": reported as one line, exit status 1.
///
/// The message says what was looked for and where, and how to look
/// elsewhere.
#[derive(Debug)]
pub(crate) struct NotFound(pub(crate) String);

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFound {}
