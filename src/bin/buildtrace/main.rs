//! `buildtrace`: read the build provenance embedded in an executable, follow
//! it into Jaeger, and seal, verify, compare and attest binaries.

// The tool carries its own record, so `buildtrace inspect $(which buildtrace)`
// works, and the tests have a real binary to read.
buildtrace::embed!();

mod attest;
mod diff;
mod exit_codes;
mod inspect;
mod keygen;
mod lookup;
mod seal;
mod traces;
mod verify;
mod verify_attestation;

use std::ffi::OsString;
use std::io::{self, Write};

use buildtrace::inspect::{render, InspectError};
use buildtrace::process_context::read::ReadError;
use clap::{Parser, Subcommand};

use exit_codes::{ExitCode, NotFound};

/// Read the build provenance that `buildtrace::embed!()` put in a binary, and
/// find that build's traces in Jaeger.
#[derive(Debug, Parser)]
#[command(
    version,
    subcommand_required = true,
    arg_required_else_help = false,
    after_help = exit_codes::HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the provenance record of an executable (ELF, Mach-O or PE), or
    /// with --pid the OpenTelemetry process context of a running process.
    #[command(after_help = exit_codes::HELP)]
    Inspect(inspect::InspectArgs),
    /// List the traces in Jaeger that exactly this build of FILE emitted.
    ///
    /// Reads FILE's service.name and provenance id (buildtrace.id) and asks
    /// Jaeger's query API for that service's traces whose process carries
    /// the id: one line per trace with its id, start (UTC), root span, span
    /// count and duration, oldest first. Every request to Jaeger gives up
    /// after 5 s without progress.
    #[command(after_help = exit_codes::HELP)]
    Traces(traces::TracesArgs),
    /// Print the build provenance of the process that emitted a trace.
    ///
    /// Fetches the trace from Jaeger's query API and prints its process's
    /// tags, grouped (build, compiler, target, build settings, CI,
    /// executable, service); when the trace holds the `startup` span, its
    /// events as a timeline from process start to ready. Every request to
    /// Jaeger gives up after 5 s without progress.
    #[command(after_help = exit_codes::HELP)]
    Lookup(lookup::LookupArgs),
    /// Seal a linked binary: sign the SHA-256 of the file into its record.
    ///
    /// The digest covers the whole file with the seal fields read as zeros
    /// (PE: also Authenticode's certificate table and fields; Mach-O: the
    /// code signature), so run it after `strip` and before platform code
    /// signing. The file is replaced atomically, permissions kept; sealing
    /// again replaces the seal.
    Seal(seal::SealArgs),
    /// Check a binary's seal and build-time signature against trusted keys.
    ///
    /// Verdicts: absent, unsigned, payload-authentic, sealed-and-bound,
    /// invalid (with what no longer matches), untrusted-key.
    #[command(after_help = exit_codes::VERIFY_HELP)]
    Verify(verify::VerifyArgs),
    /// Which provenance facts two binaries' records disagree on.
    #[command(after_help = exit_codes::DIFF_HELP)]
    Diff(diff::DiffArgs),
    /// Print an in-toto Statement (SLSA provenance v1) for a binary; with
    /// --key, signed into a Sigstore bundle (or a DSSE envelope).
    ///
    /// The bundle is keyed and offline (no transparency log entry):
    /// `cosign verify-blob-attestation --key KEY.pub --bundle FILE.sigstore.json
    /// --type slsaprovenance1 --insecure-ignore-tlog=true FILE` accepts it, as
    /// does `buildtrace verify-attestation`.
    #[command(after_help = exit_codes::HELP)]
    Attest(attest::AttestArgs),
    /// Check that a Sigstore bundle or DSSE envelope attests FILE, signed by
    /// a trusted key.
    ///
    /// Checks the signature over the DSSE envelope, that the payload is an
    /// in-toto Statement of the expected predicate type, and that FILE's
    /// SHA-256 is one of its subjects. Transparency log entries and
    /// timestamps are not checked (keyed, offline verification).
    #[command(after_help = exit_codes::VERIFY_ATTESTATION_HELP)]
    VerifyAttestation(verify_attestation::VerifyAttestationArgs),
    /// Create an ECDSA P-256 key pair for seal, verify and attest.
    Keygen(keygen::KeygenArgs),
}

fn main() -> std::process::ExitCode {
    let code = match run(std::env::args_os(), &mut io::stdout().lock()) {
        Ok(code) => code,
        Err(error) => report(&error, &mut io::stderr().lock()),
    };
    code.into()
}

fn run(args: impl IntoIterator<Item = OsString>, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // clap reports --help and --version as errors; they are what the user asked for.
        Err(help) if !help.use_stderr() => {
            write!(out, "{}", help.render())?;
            out.flush()?;
            return Ok(ExitCode::Success);
        }
        Err(usage) => return Err(usage.into()),
    };
    match cli.command {
        Command::Inspect(args) => inspect::run(&args, out)?,
        Command::Traces(args) => traces::run(&args, out)?,
        Command::Lookup(args) => lookup::run(&args, out)?,
        Command::Seal(args) => seal::run(&args, out)?,
        Command::Verify(args) => return verify::run(&args, out),
        Command::Diff(args) => return diff::run(&args, out),
        Command::Attest(args) => attest::run(&args, out)?,
        Command::VerifyAttestation(args) => return verify_attestation::run(&args, out),
        Command::Keygen(args) => keygen::run(&args, out)?,
    }
    Ok(ExitCode::Success)
}

/// Prints `error` as one line and chooses the exit code.
fn report(error: &anyhow::Error, stderr: &mut impl Write) -> ExitCode {
    // `buildtrace inspect app | head -1` is a success.
    if error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
    {
        return ExitCode::Success;
    }
    let (message, code) = match error.downcast_ref::<clap::Error>() {
        Some(usage) => {
            // The first paragraph of clap's message is the problem; the rest
            // (usage, tips) would not fit on one line.
            let rendered = usage.render().to_string();
            let paragraph = rendered.split("\n\n").next().unwrap_or_default();
            let problem = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
            let problem = problem.strip_prefix("error: ").unwrap_or(&problem);
            (
                format!("{problem}; run `buildtrace --help` for usage"),
                ExitCode::Error,
            )
        }
        None => {
            let not_found = error.downcast_ref::<NotFound>().is_some()
                || error
                    .downcast_ref::<InspectError>()
                    .is_some_and(InspectError::is_no_record);
            let code = if let Some(read) = error.downcast_ref::<ReadError>() {
                ExitCode::of_read_error(read)
            } else if not_found {
                ExitCode::NotFound
            } else {
                ExitCode::Error
            };
            (format!("{error:#}"), code)
        }
    };
    // The message quotes paths and Jaeger's answers, which can hold anything.
    let _ = writeln!(stderr, "buildtrace: {}", render::escape_terminal(&message));
    code
}
