//! Reading another process's context, as a profiler does: find the
//! `OTEL_CTX` mapping in `/proc/PID/maps`, read the header and the payload
//! through `/proc/PID/mem`, and keep only a read that two equal, non-zero
//! timestamps bracket.
//!
//! The process is hostile input: the signature and version must match, the
//! declared payload size is checked against [`MAX_PAYLOAD`] before anything
//! is allocated, and the payload must decode as a `ProcessContext`.
//! Reading `/proc/PID/mem` needs ptrace access to the process (the same
//! user and a permissive `kernel.yama.ptrace_scope`, root, or
//! `CAP_SYS_PTRACE`).
#![forbid(unsafe_code)]

use std::io;

use opentelemetry_proto::tonic::common::v1::KeyValue;

use super::header::{Header, MAPPING_NAMES, MAX_PAYLOAD, VERSION};
use super::proto::ProcessContext;

/// How many times a read is tried while the publisher is changing the
/// context (timestamp 0, or changed during the read).
pub const ATTEMPTS: u32 = 3;

/// Why a process's context could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// No process has this PID.
    #[error("no process {pid}: check the PID (`ps -p {pid}`); the process may have exited")]
    NoSuchProcess {
        /// The PID asked for.
        pid: u32,
    },
    /// The process's memory map or memory may not be read.
    #[error("not allowed to read the memory of process {pid}: run as the same user as the process, as root or with CAP_SYS_PTRACE; kernel.yama.ptrace_scope may also forbid it (`sysctl kernel.yama.ptrace_scope`)")]
    PermissionDenied {
        /// The PID asked for.
        pid: u32,
    },
    /// The process has no `OTEL_CTX` mapping.
    #[error("process {pid} publishes no OpenTelemetry process context (no OTEL_CTX mapping): is it built with buildtrace's `process-context` feature (0.1 or later, on Linux), has it called `buildtrace::init()`, and is OTEL_SDK_DISABLED unset?")]
    NoContext {
        /// The PID asked for.
        pid: u32,
    },
    /// The mapping does not start with `OTEL_CTX`.
    #[error("the OTEL_CTX mapping of process {pid} does not start with the OTEL_CTX signature: it is not an OpenTelemetry process context, or it is corrupt")]
    BadSignature {
        /// The PID asked for.
        pid: u32,
    },
    /// The header's version is not the one this reader knows.
    #[error("the process context of process {pid} has header version {version}; this buildtrace reads version {VERSION}: update buildtrace")]
    BadVersion {
        /// The PID asked for.
        pid: u32,
        /// The version found.
        version: u32,
    },
    /// The declared payload size is 0 or over [`MAX_PAYLOAD`].
    #[error("the process context of process {pid} declares a payload of {size} bytes, outside 1..={MAX_PAYLOAD}: the publisher is broken")]
    BadPayloadSize {
        /// The PID asked for.
        pid: u32,
        /// The size found.
        size: u32,
    },
    /// The payload address cannot be read.
    #[error("the process context of process {pid} points to a payload at {address:#x} that cannot be read ({source}): the publisher is broken")]
    PayloadUnreadable {
        /// The PID asked for.
        pid: u32,
        /// The payload address in the header.
        address: u64,
        /// What reading it said.
        source: io::Error,
    },
    /// The timestamp stayed 0 or kept changing over every attempt.
    #[error("the process context of process {pid} was being changed during {ATTEMPTS} attempts (timestamp 0 or changing): try again")]
    Unstable {
        /// The PID asked for.
        pid: u32,
    },
    /// The payload is not a `ProcessContext` message.
    #[error("the process context of process {pid} has a payload that is not a ProcessContext protobuf ({source}): the publisher is broken")]
    Undecodable {
        /// The PID asked for.
        pid: u32,
        /// What the decoder said.
        source: prost::DecodeError,
    },
    /// Any other failure to read `/proc`.
    #[error("cannot read {what} of process {pid}: {source}")]
    Io {
        /// The PID asked for.
        pid: u32,
        /// What was being read.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
    /// Process contexts exist only on Linux.
    #[error("reading a process context needs Linux (/proc); this system has none")]
    Unsupported,
}

impl ReadError {
    /// The context exists but cannot be trusted (signature, version, size,
    /// payload, stability).
    pub fn is_broken_context(&self) -> bool {
        matches!(
            self,
            ReadError::BadSignature { .. }
                | ReadError::BadVersion { .. }
                | ReadError::BadPayloadSize { .. }
                | ReadError::PayloadUnreadable { .. }
                | ReadError::Unstable { .. }
                | ReadError::Undecodable { .. }
        )
    }
}

/// A process's context as read.
#[derive(Debug, Clone)]
pub struct Context {
    /// The process.
    pub pid: u32,
    /// The mapping's name in `/proc/PID/maps`.
    pub mapping: String,
    /// The mapping's start address.
    pub address: u64,
    /// The header of the consistent read.
    pub header: Header,
    /// The decoded payload.
    pub payload: ProcessContext,
}

impl Context {
    /// The resource's attributes.
    pub fn resource_attributes(&self) -> &[KeyValue] {
        self.payload
            .resource
            .as_ref()
            .map_or(&[], |r| r.attributes.as_slice())
    }
}

/// One mapping line of `/proc/PID/maps`: start, end, permissions, name.
fn parse_maps_line(line: &str) -> Option<(u64, u64, &str, &str)> {
    let mut fields = line.splitn(6, ' ');
    let range = fields.next()?;
    let perms = fields.next()?;
    let (_offset, _dev, _inode) = (fields.next()?, fields.next()?, fields.next()?);
    let name = fields.next().unwrap_or("").trim_start();
    let (start, end) = range.split_once('-')?;
    Some((
        u64::from_str_radix(start, 16).ok()?,
        u64::from_str_radix(end, 16).ok()?,
        perms,
        name,
    ))
}

/// The first non-executable `OTEL_CTX` mapping in a `/proc/PID/maps` text:
/// `(start, end, name)`.
pub fn find_mapping(maps: &str) -> Option<(u64, u64, &str)> {
    maps.lines()
        .filter_map(parse_maps_line)
        .find_map(|(start, end, perms, name)| {
            (MAPPING_NAMES.contains(&name) && !perms.contains('x')).then_some((start, end, name))
        })
}

/// Reads the context process `pid` publishes.
///
/// # Errors
/// See [`ReadError`]; each message ends with what to do.
#[cfg(target_os = "linux")]
pub fn read_pid(pid: u32) -> Result<Context, ReadError> {
    use super::header::{HEADER_LEN, SIGNATURE};
    use prost::Message as _;
    use std::os::unix::fs::FileExt as _;
    use std::time::Duration;

    let proc_error = |what: &'static str| {
        move |e: io::Error| match e.kind() {
            io::ErrorKind::NotFound => ReadError::NoSuchProcess { pid },
            io::ErrorKind::PermissionDenied => ReadError::PermissionDenied { pid },
            _ if e.raw_os_error() == Some(libc::ESRCH) => ReadError::NoSuchProcess { pid },
            _ if e.raw_os_error() == Some(libc::EPERM) => ReadError::PermissionDenied { pid },
            _ => ReadError::Io {
                pid,
                what,
                source: e,
            },
        }
    };
    if pid == 0 {
        return Err(ReadError::NoSuchProcess { pid });
    }
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(proc_error("the memory map"))?;
    let (start, end, name) = find_mapping(&maps).ok_or(ReadError::NoContext { pid })?;
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).map_err(proc_error("the memory"))?;
    if end.saturating_sub(start) < HEADER_LEN as u64 {
        return Err(ReadError::BadSignature { pid });
    }
    let read_header = || -> Result<Header, ReadError> {
        let mut bytes = [0u8; HEADER_LEN];
        mem.read_exact_at(&mut bytes, start)
            .map_err(proc_error("the context header"))?;
        let header = Header::decode(&bytes).ok_or(ReadError::BadSignature { pid })?;
        if header.signature != SIGNATURE {
            return Err(ReadError::BadSignature { pid });
        }
        if header.version != VERSION {
            return Err(ReadError::BadVersion {
                pid,
                version: header.version,
            });
        }
        Ok(header)
    };
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(10 << attempt));
        }
        let header = read_header()?;
        if header.published_at_ns == 0 {
            continue;
        }
        if header.payload_size == 0 || header.payload_size > MAX_PAYLOAD {
            return Err(ReadError::BadPayloadSize {
                pid,
                size: header.payload_size,
            });
        }
        let mut payload = vec![0u8; header.payload_size as usize];
        mem.read_exact_at(&mut payload, header.payload)
            .map_err(|source| ReadError::PayloadUnreadable {
                pid,
                address: header.payload,
                source,
            })?;
        if read_header()?.published_at_ns != header.published_at_ns {
            continue;
        }
        let payload = ProcessContext::decode(payload.as_slice())
            .map_err(|source| ReadError::Undecodable { pid, source })?;
        return Ok(Context {
            pid,
            mapping: name.to_owned(),
            address: start,
            header,
            payload,
        });
    }
    Err(ReadError::Unstable { pid })
}

/// Reads the context process `pid` publishes: Linux only.
///
/// # Errors
/// Always [`ReadError::Unsupported`] on this system.
#[cfg(not(target_os = "linux"))]
pub fn read_pid(pid: u32) -> Result<Context, ReadError> {
    let _ = pid;
    Err(ReadError::Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_otel_ctx_mapping_name_and_skips_executable_ones() {
        let maps = "\
55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234                       /usr/bin/app
7f0000000000-7f0000001000 r-xp 00000000 00:01 5                          /memfd:OTEL_CTX (deleted)
7f1000000000-7f1000001000 rw-p 00000000 00:01 6                          /memfd:OTEL_CTX (deleted)
";
        assert_eq!(
            find_mapping(maps),
            Some((
                0x7f10_0000_0000,
                0x7f10_0000_1000,
                "/memfd:OTEL_CTX (deleted)"
            ))
        );
        for name in MAPPING_NAMES {
            let line = format!("1000-2000 rw-p 00000000 00:00 0 {name}\n");
            assert_eq!(find_mapping(&line), Some((0x1000, 0x2000, name)));
        }
        assert_eq!(
            find_mapping("1000-2000 rw-p 00000000 00:00 0 [anon:OTEL_CTX2]\n"),
            None
        );
        assert_eq!(find_mapping("1000-2000 rw-p 00000000 00:00 0\n"), None);
        assert_eq!(find_mapping("garbage\n\n"), None);
    }

    #[test]
    fn a_missing_process_is_named_as_such() {
        // PID 0 is never a process in /proc.
        assert!(matches!(
            read_pid(0),
            Err(ReadError::NoSuchProcess { pid: 0 }) | Err(ReadError::Unsupported)
        ));
    }
}
