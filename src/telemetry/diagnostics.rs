//! buildtrace's own warnings: to standard error, one line each, never
//! through the telemetry pipeline they are about (a warning that the
//! collector is unreachable must not itself wait for the collector).

/// Prints one warning line.
pub(crate) fn warn(message: &str) {
    eprintln!(
        "buildtrace: warning: {}",
        message.replace(['\n', '\r'], " ")
    );
}
