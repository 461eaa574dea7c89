//! Running one build once: launch timestamp, the process's own report,
//! peak RSS from `wait4`, a deadline; and the collector conditions that
//! need no Collector (refused, black-holed).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exit {
    /// "ok", "exit N", "signal N", "timeout".
    pub status: String,
    /// Launch (right before spawn) to the end of `wait4`, in ms.
    pub wall_ms: f64,
    /// `ru_maxrss` from `wait4`, KiB: not the child's own peak on Linux,
    /// which carries the parent's over at exec; the services report their
    /// own (`peak_rss_kib`, from `VmHWM`).
    pub maxrss_kib: i64,
    /// The `compare:` values the process printed on standard error.
    pub values: BTreeMap<String, f64>,
    /// The last lines of standard error that were not `compare:` lines.
    pub stderr_tail: String,
}

/// Spawns `program` with `env` (after removing every inherited `OTEL_*`
/// and `RUST_LOG` variable), `LAUNCH_NS` set to the time right before the
/// spawn; calls `launched(launch_ns)` once it runs; waits at most
/// `timeout`, then kills it.
pub fn run(
    program: &Path,
    env: &[(String, String)],
    timeout: Duration,
    logs: &Path,
    name: &str,
    launched: impl FnOnce(u128),
) -> Result<Exit, String> {
    let out = File::create(logs.join(format!("{name}.out"))).map_err(|e| e.to_string())?;
    let err_path = logs.join(format!("{name}.err"));
    let err = File::create(&err_path).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars_os() {
        if let Some(k) = k.to_str() {
            if k.starts_with("OTEL_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    let launch = now_ns();
    cmd.env("LAUNCH_NS", launch.to_string());
    let child = cmd
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let pid = child.id() as libc::pid_t;
    launched(launch);

    // A watchdog kills the process at the deadline; wait4 reaps it and
    // gives its resource usage (std's Child::wait does not).
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(timeout).is_err() {
            // SAFETY: plain kill(2) on the child we spawned and have not reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        } else {
            false
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = loop {
        // SAFETY: valid pointers to locals for the duration of the call.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break rc;
    };
    let ended = now_ns();
    let _ = done_tx.send(());
    let killed = watchdog.join().unwrap_or(false);
    drop(child);
    if rc != pid {
        return Err(format!("wait4({pid}): {}", std::io::Error::last_os_error()));
    }
    let status = if killed {
        "timeout".to_string()
    } else if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => "ok".to_string(),
            n => format!("exit {n}"),
        }
    } else if libc::WIFSIGNALED(status) {
        format!("signal {}", libc::WTERMSIG(status))
    } else {
        format!("status {status}")
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let mut values = BTreeMap::new();
    let mut other = Vec::new();
    for line in stderr.lines() {
        match line.strip_prefix("compare: ") {
            Some(rest) => {
                for kv in rest.split_whitespace() {
                    if let Some((k, v)) = kv.split_once('=') {
                        if let Ok(v) = v.parse::<f64>() {
                            values.insert(k.to_string(), v);
                        }
                    }
                }
            }
            None => other.push(line),
        }
    }
    let tail = other[other.len().saturating_sub(5)..].join(" | ");
    Ok(Exit {
        status,
        wall_ms: (ended.saturating_sub(launch)) as f64 / 1e6,
        maxrss_kib: usage.ru_maxrss,
        values,
        stderr_tail: tail,
    })
}

/// A loopback port nothing listens on (bound by the kernel, then released,
/// and checked to refuse).
pub fn refused_port() -> Result<u16, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_ok() {
        return Err(format!("port {port} unexpectedly accepts connections"));
    }
    Ok(port)
}

/// A listener that accepts every connection and keeps it open without
/// reading or writing: clients wait for an answer that never comes. Runs
/// until the harness exits.
pub fn black_hole() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1))
        .map_err(|e| format!("the black-hole listener does not accept: {e}"))?;
    Ok(port)
}
