//! Export that never hurts the host.
//!
//! The OTLP exporters need a Tokio reactor; the application may have none,
//! one with a single worker, or be shutting down inside a task. So
//! buildtrace runs its exporters on a runtime of its own, on one dedicated
//! thread ([`ExportRuntime`]), whatever the application does. The SDK's batch
//! processor (its own thread, bounded queue) hands batches to [`Resilient`],
//! which runs each export on that runtime with:
//!
//! - a deadline per attempt, so a black-holed collector cannot hold a batch;
//! - retries with exponential backoff for a window (60 s by default), so a
//!   collector that comes up late still receives the startup span;
//! - shutdown awareness: once the guard is dropped, waiting stops, a last
//!   attempt is bounded by the shutdown deadline, and the runtime is torn
//!   down on its own thread, never inside the application's runtime;
//! - one warning when the collector cannot be reached, and one count of the
//!   spans that were not delivered, instead of a log line per failure;
//! - the OTLP specification's retry rules: only failures it calls transient
//!   are retried (gRPC `UNAVAILABLE`, `CANCELLED`, `DEADLINE_EXCEEDED`,
//!   `ABORTED`, `OUT_OF_RANGE`, `DATA_LOSS`; HTTP 429, 502, 503, 504; no
//!   answer at all), waiting at least what `Retry-After` asks within the
//!   retry window; any other answer (`UNAUTHENTICATED`, HTTP 401, …) loses
//!   the batch at once. The exporters' own retries are off, so the two
//!   layers never multiply.

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A Tokio runtime on a thread of its own.
pub(crate) struct ExportRuntime {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: std::sync::mpsc::Receiver<()>,
}

impl fmt::Debug for ExportRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportRuntime").finish_non_exhaustive()
    }
}

/// A runtime whose thread is starting.
pub(crate) struct Starting {
    handle_rx: std::sync::mpsc::Receiver<std::io::Result<tokio::runtime::Handle>>,
    stop: tokio::sync::oneshot::Sender<()>,
    stopped: std::sync::mpsc::Receiver<()>,
}

impl Starting {
    /// Waits until the runtime is built.
    pub(crate) fn wait(self) -> std::io::Result<ExportRuntime> {
        let handle = self
            .handle_rx
            .recv()
            .map_err(|_| std::io::Error::other("the export thread died while starting"))??;
        Ok(ExportRuntime {
            handle,
            stop: Some(self.stop),
            stopped: self.stopped,
        })
    }
}

impl ExportRuntime {
    /// Starts the runtime's thread and returns at once: the caller goes on
    /// with its own work while the runtime is built, then [`Starting::wait`]s.
    pub(crate) fn spawn() -> std::io::Result<Starting> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (stopped_tx, stopped) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("buildtrace-export".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(runtime.handle().clone()));
                // Also ends when `stop` is dropped unsent: a start abandoned.
                runtime.block_on(async {
                    let _ = stop_rx.await;
                });
                // Whatever is still running (an export stuck on a black hole) is
                // cancelled here, on this thread, not in the application's.
                runtime.shutdown_background();
                let _ = stopped_tx.send(());
            })?;
        Ok(Starting {
            handle_rx,
            stop,
            stopped,
        })
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Stops the runtime, waiting at most `within` for its thread.
    pub(crate) fn shutdown(&mut self, within: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            let _ = self.stopped.recv_timeout(within);
        }
    }
}

impl Drop for ExportRuntime {
    fn drop(&mut self) {
        self.shutdown(Duration::from_millis(100));
    }
}

/// What a failed attempt met, as the transport saw it. Only the HTTP
/// transport sees its answers; without it nothing is ever noted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
pub(super) enum Failure {
    /// An answer that is not a success, with the delay `Retry-After` asked for.
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused, TLS handshake, timeout.
    Transport(String),
}

/// Filled by a transport that sees its responses (HTTP), read by the
/// exporter after a failed attempt. Exports of one exporter never overlap
/// (the batch processor waits for each), so one slot is enough.
#[derive(Debug, Default)]
pub(super) struct LastFailure(Mutex<Option<Failure>>);

impl LastFailure {
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    pub(super) fn note(&self, failure: Failure) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(failure);
    }

    fn take(&self) -> Option<Failure> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Whether a failed attempt is worth another, per the OTLP specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Transient: try again, not before `after` if the server said so.
    Retry { after: Option<Duration> },
    /// Permanent: the same request would fail the same way.
    Permanent,
}

/// The gRPC status codes the specification calls retryable (RESOURCE_EXHAUSTED
/// only with retry information, which the exporter's error does not carry).
const RETRYABLE_GRPC: &[&str] = &[
    "Cancelled",
    "DeadlineExceeded",
    "Aborted",
    "OutOfRange",
    "Unavailable",
    "DataLoss",
];

/// Classifies a failed attempt from the exporter's `error` and what the
/// transport noted, and says it in words for the warning.
fn classify(error: &str, noted: Option<Failure>) -> (Verdict, String) {
    match noted {
        Some(Failure::Status { code, retry_after }) => {
            let verdict = if matches!(code, 429 | 502 | 503 | 504) {
                Verdict::Retry { after: retry_after }
            } else {
                Verdict::Permanent
            };
            let reason = http::StatusCode::from_u16(code)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("");
            (
                verdict,
                format!("HTTP {code} {reason}").trim_end().to_owned(),
            )
        }
        Some(Failure::Transport(text)) => (Verdict::Retry { after: None }, text),
        None => {
            // The gRPC exporter says "… failed with gRPC code: Unavailable[: cause]".
            let code = error.split_once("gRPC code: ").map(|(_, rest)| {
                rest.split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or("")
            });
            let verdict = match code {
                Some(code) if !RETRYABLE_GRPC.contains(&code) => Verdict::Permanent,
                _ => Verdict::Retry { after: None },
            };
            (verdict, error.to_owned())
        }
    }
}

/// Retry policy and deadlines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// How long a batch is retried before its spans are counted as lost.
    pub(crate) retry_window: Duration,
    /// The first backoff; doubled after each failure.
    pub(crate) initial_backoff: Duration,
    /// The longest backoff.
    pub(crate) max_backoff: Duration,
    /// The deadline of one attempt.
    pub(crate) attempt_timeout: Duration,
}

/// Shared between the exporter and the guard.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Set when the guard starts shutting down: stop waiting.
    stopping: AtomicBool,
    deadline: Mutex<Option<Instant>>,
    wake: tokio::sync::Notify,
    /// Shared by the signals of one init: one warning for one collector.
    warned: Arc<AtomicBool>,
    /// An attempt failed during shutdown: later batches are not tried.
    gave_up: AtomicBool,
    last_error: Mutex<Option<String>>,
    /// Spans given up on.
    pub(crate) lost_spans: AtomicU64,
    /// Spans of exports still running; those a shutdown cancels are lost.
    in_flight_spans: AtomicU64,
    /// Where spans go, for messages.
    target: Mutex<String>,
    /// Batches delivered.
    pub(crate) delivered_batches: AtomicU64,
    /// What the exported items are called in messages ("spans" unless set).
    items: std::sync::OnceLock<&'static str>,
    /// Attempts that failed.
    pub(crate) failed_attempts: AtomicU64,
}

impl State {
    /// The state of one signal's export, whose items messages call `items`.
    pub(crate) fn for_items(items: &'static str, warned: Arc<AtomicBool>) -> State {
        let state = State {
            warned,
            ..State::default()
        };
        let _ = state.items.set(items);
        state
    }

    fn items(&self) -> &'static str {
        self.items.get().copied().unwrap_or("spans")
    }

    /// Whether an export is running now.
    pub(crate) fn exporting(&self) -> bool {
        self.in_flight_spans.load(Ordering::SeqCst) > 0
    }

    /// Stops all waiting: later attempts are bounded by `deadline`.
    pub(crate) fn begin_shutdown(&self, deadline: Instant) {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = Some(deadline);
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    fn target(&self) -> String {
        self.target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Spans given up on, counting those of exports a shutdown cancelled.
    pub(crate) fn lost(&self) -> u64 {
        self.lost_spans.load(Ordering::Relaxed) + self.in_flight_spans.load(Ordering::Relaxed)
    }

    /// The one line to print at shutdown about what the `states` (one per
    /// signal, sharing their warning) could not deliver, if anything.
    pub(crate) fn shutdown_report(states: &[&State]) -> Option<String> {
        let lost: Vec<String> = states
            .iter()
            .filter(|s| s.lost() > 0)
            .map(|s| format!("{} {}", s.lost(), s.items()))
            .collect();
        let what = match lost.as_slice() {
            [] => return None,
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        let first = states.iter().find(|s| s.lost() > 0)?;
        Some(if first.warned.load(Ordering::Relaxed) {
            format!("{what} were not delivered to the OTLP collector")
        } else {
            let error = first
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_else(|| {
                    format!("{}: no answer before the shutdown deadline", first.target())
                });
            format!("cannot deliver to the OTLP collector at {error}; {what} were not delivered")
        })
    }

    fn shutdown_deadline(&self) -> Option<Instant> {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The deadline of the next attempt: the policy's, or less when a
    /// shutdown has set its own.
    fn attempt_timeout(&self, policy: &Policy) -> Duration {
        match (self.stopping(), self.shutdown_deadline()) {
            (true, Some(deadline)) => deadline
                .saturating_duration_since(Instant::now())
                .min(policy.attempt_timeout),
            _ => policy.attempt_timeout,
        }
    }

    /// Counts a failed attempt, keeps its error for the shutdown report and
    /// warns once (during shutdown the guard says it, with the count).
    fn note_failure(&self, target: &str, error: &str, policy: &Policy, verdict: Verdict) {
        self.failed_attempts.fetch_add(1, Ordering::Relaxed);
        let permanent = match verdict {
            Verdict::Permanent => {
                " (not retried: a permanent failure by the OTLP specification; \
                 check the endpoint, headers and credentials)"
            }
            Verdict::Retry { .. } => "",
        };
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(format!("{target}: {error}{permanent}"));
        if !self.stopping() && !self.warned.swap(true, Ordering::Relaxed) {
            let items = self.items();
            super::diagnostics::warn(&match verdict {
                Verdict::Retry { .. } => format!(
                    "cannot deliver {items} to the OTLP collector at {target} ({error}); retrying for up to {} s, \
                     keeping {items} in a bounded queue",
                    policy.retry_window.as_secs()
                ),
                Verdict::Permanent => format!(
                    "the OTLP collector at {target} refused {items} ({error}); not retried (a permanent \
                     failure by the OTLP specification): check the endpoint, headers and credentials"
                ),
            });
        }
        if self.stopping() {
            // The deadline is shared: one failure at shutdown means the rest
            // of the queue would fail too, only slower.
            self.gave_up.store(true, Ordering::SeqCst);
        }
    }

    /// Waits `backoff`, unless the guard starts shutting down meanwhile;
    /// then the caller makes one last, bounded attempt.
    async fn back_off(&self, backoff: Duration) {
        let wake = self.wake.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        if !self.stopping() {
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = &mut wake => {}
            }
        }
    }
}

/// Delivers one batch: attempts with a deadline each, backing off between
/// them, until it is delivered, the retry window is over or a shutdown ends
/// the waiting. Spans given up on are counted as lost.
async fn deliver<F, Fut>(
    attempt: F,
    spans: u64,
    state: &State,
    policy: Policy,
    target: &str,
    noted: Option<&LastFailure>,
) -> OTelSdkResult
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = OTelSdkResult>,
{
    if state.gave_up.load(Ordering::SeqCst) {
        state.lost_spans.fetch_add(spans, Ordering::Relaxed);
        return Err(OTelSdkError::InternalFailure(
            "the collector failed during shutdown".into(),
        ));
    }
    let give_up_at = Instant::now() + policy.retry_window;
    let mut backoff = policy.initial_backoff;
    loop {
        let timeout = state.attempt_timeout(&policy);
        if let Some(noted) = noted {
            noted.take();
        }
        let (verdict, error) = match tokio::time::timeout(timeout, attempt()).await {
            Ok(Ok(())) => {
                state.delivered_batches.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Ok(Err(e)) => classify(&e.to_string(), noted.and_then(LastFailure::take)),
            Err(_) => (
                Verdict::Retry { after: None },
                format!("no answer within {} ms", timeout.as_millis()),
            ),
        };
        state.note_failure(target, &error, &policy, verdict);
        // The server's Retry-After, if longer than our own backoff.
        let wait = match verdict {
            Verdict::Retry { after } => after.map_or(backoff, |a| a.max(backoff)),
            Verdict::Permanent => Duration::MAX,
        };
        let past_window = Instant::now()
            .checked_add(wait)
            .is_none_or(|at| at > give_up_at);
        if verdict == Verdict::Permanent || state.stopping() || past_window {
            state.lost_spans.fetch_add(spans, Ordering::Relaxed);
            return Err(OTelSdkError::InternalFailure(error));
        }
        state.back_off(wait).await;
        backoff = (backoff * 2).min(policy.max_backoff);
    }
}

/// An exporter made resilient: see the module docs.
pub(crate) struct Resilient<E> {
    inner: Arc<E>,
    runtime: tokio::runtime::Handle,
    policy: Policy,
    state: Arc<State>,
    /// Where the spans go, for the one warning (no credentials: the
    /// configured endpoint never carries headers).
    target: String,
    /// What the transport saw of the last failure, when it tells.
    noted: Option<Arc<LastFailure>>,
}

impl<E> fmt::Debug for Resilient<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resilient")
            .field("target", &self.target)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<E> Resilient<E> {
    pub(crate) fn new(
        inner: E,
        runtime: tokio::runtime::Handle,
        policy: Policy,
        state: Arc<State>,
        target: String,
        noted: Option<Arc<LastFailure>>,
    ) -> Self {
        *state.target.lock().unwrap_or_else(|e| e.into_inner()) = target.clone();
        Resilient {
            inner: Arc::new(inner),
            runtime,
            policy,
            state,
            target,
            noted,
        }
    }
}

impl<E: SpanExporter + 'static> SpanExporter for Resilient<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let inner = self.inner.clone();
        let state = self.state.clone();
        let policy = self.policy;
        let target = self.target.clone();
        let noted = self.noted.clone();
        let task = self.runtime.spawn(async move {
            // Counted until the export ends: one that a shutdown cancels
            // never reaches its own accounting.
            let spans = batch.len() as u64;
            state.in_flight_spans.fetch_add(spans, Ordering::Relaxed);
            let attempt = || inner.export(batch.clone());
            let result = deliver(attempt, spans, &state, policy, &target, noted.as_deref()).await;
            state.in_flight_spans.fetch_sub(spans, Ordering::Relaxed);
            result
        });
        async move {
            task.await.unwrap_or_else(|_| {
                Err(OTelSdkError::InternalFailure(
                    "export cancelled at shutdown".into(),
                ))
            })
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

impl<E: LogExporter + 'static> LogExporter for Resilient<E> {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        // Owned, so that the export runs as a task of the export runtime
        // (cancelled with it), as spans do.
        let owned: Vec<(SdkLogRecord, InstrumentationScope)> = batch
            .iter()
            .map(|(record, scope)| (record.clone(), scope.clone()))
            .collect();
        let inner = self.inner.clone();
        let state = self.state.clone();
        let policy = self.policy;
        let target = self.target.clone();
        let noted = self.noted.clone();
        let task = self.runtime.spawn(async move {
            let records = owned.len() as u64;
            state.in_flight_spans.fetch_add(records, Ordering::Relaxed);
            let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
                owned.iter().map(|(r, s)| (r, s)).collect();
            let attempt = || inner.export(LogBatch::new(&refs));
            let result = deliver(attempt, records, &state, policy, &target, noted.as_deref()).await;
            state.in_flight_spans.fetch_sub(records, Ordering::Relaxed);
            result
        });
        async move {
            task.await.unwrap_or_else(|_| {
                Err(OTelSdkError::InternalFailure(
                    "export cancelled at shutdown".into(),
                ))
            })
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

/// Metrics come borrowed from the SDK's reader thread, so each export is
/// driven from that thread on the export runtime's reactor; the guard keeps
/// the runtime up until it ends (every attempt is bounded by the shutdown
/// deadline). Counted in exports, not data points.
impl<E: PushMetricExporter> PushMetricExporter for Resilient<E> {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.state.in_flight_spans.fetch_add(1, Ordering::SeqCst);
        let delivery = deliver(
            || self.inner.export(metrics),
            1,
            &self.state,
            self.policy,
            &self.target,
            self.noted.as_deref(),
        );
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            // Never block a runtime's thread (a reader flushed from a task).
            std::thread::scope(|s| {
                s.spawn(|| self.runtime.block_on(delivery))
                    .join()
                    .unwrap_or_else(|_| {
                        Err(OTelSdkError::InternalFailure(
                            "metrics export failed".into(),
                        ))
                    })
            })
        } else {
            self.runtime.block_on(delivery)
        };
        self.state.in_flight_spans.fetch_sub(1, Ordering::SeqCst);
        std::future::ready(result)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        self.inner.temporality()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry(after: Option<u64>) -> Verdict {
        Verdict::Retry {
            after: after.map(Duration::from_secs),
        }
    }

    #[test]
    fn http_statuses_follow_the_specification() {
        for (code, verdict) in [
            (429, retry(Some(7))),
            (502, retry(Some(7))),
            (503, retry(Some(7))),
            (504, retry(Some(7))),
            (400, Verdict::Permanent),
            (401, Verdict::Permanent),
            (403, Verdict::Permanent),
            (404, Verdict::Permanent),
            (413, Verdict::Permanent),
            (500, Verdict::Permanent),
        ] {
            let noted = Failure::Status {
                code,
                retry_after: Some(Duration::from_secs(7)),
            };
            let (got, text) = classify("HTTP export failed with status code", Some(noted));
            assert_eq!(got, verdict, "{code}");
            assert!(text.starts_with(&format!("HTTP {code}")), "{text}");
        }
        let (_, text) = classify(
            "",
            Some(Failure::Status {
                code: 401,
                retry_after: None,
            }),
        );
        assert_eq!(text, "HTTP 401 Unauthorized");
    }

    #[test]
    fn no_answer_is_transient_and_says_why() {
        let (verdict, text) = classify(
            "HTTP export failed: network error",
            Some(Failure::Transport(
                "invalid peer certificate: Expired".into(),
            )),
        );
        assert_eq!(verdict, retry(None));
        assert_eq!(text, "invalid peer certificate: Expired");
    }

    #[test]
    fn grpc_codes_follow_the_specification() {
        for (code, retryable) in [
            ("Unavailable", true),
            ("Cancelled", true),
            ("DeadlineExceeded", true),
            ("Aborted", true),
            ("OutOfRange", true),
            ("DataLoss", true),
            ("Unauthenticated", false),
            ("PermissionDenied", false),
            ("InvalidArgument", false),
            ("Unimplemented", false),
            ("ResourceExhausted", false),
            ("Internal", false),
        ] {
            let error = format!("TonicTracesClient export failed with gRPC code: {code}: details");
            let (verdict, text) = classify(&error, None);
            assert_eq!(verdict == retry(None), retryable, "{code}");
            assert_eq!(text, error);
        }
        // Not a status at all (a timeout, a closed client): transient.
        assert_eq!(classify("ExportTimedOut", None).0, retry(None));
    }
}
