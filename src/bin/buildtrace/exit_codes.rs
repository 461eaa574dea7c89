//! What the exit status of `buildtrace` means.

/// The outcome of a run, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitCode {
    /// A record was found and printed, or help or the version was asked for.
    Success,
    /// The file was read but holds no record.
    NoRecord,
    /// The file is unreadable, not an executable, or holds a broken record;
    /// or the command line is wrong.
    Error,
}

/// The exit codes, for `--help`.
pub(crate) const HELP: &str = "\
Exit status:
  0  a record was found (or --help, --version)
  1  the file was read but has no buildtrace record
  2  the file is unreadable, not an executable or holds a broken record, or the usage is wrong";

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        match code {
            ExitCode::Success => std::process::ExitCode::SUCCESS,
            ExitCode::NoRecord => std::process::ExitCode::from(1),
            ExitCode::Error => std::process::ExitCode::from(2),
        }
    }
}
