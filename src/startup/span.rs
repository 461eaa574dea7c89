//! The startup span: from process start to init (or to [`ready`]), carrying
//! every startup record as a span event with its original timestamp.

use super::{Drain, Drained, EventValue, Origin};
use crate::names::startup::{
    ATTRS_DROPPED, CLOCK_ERROR_NS, CONSTRUCTOR_MS, CONSTRUCTOR_TO_INIT_MS, DROPPED_COUNT,
    EVENT_COUNT, LEVEL, OS_START_PRECISION_MS, SPAN_NAME, START_SOURCE, TARGET, THREAD_ID,
    TO_INIT_MS, TO_READY_MS,
};
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _};
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::trace::{SdkTracer, Span};
use std::sync::Mutex;
use std::time::SystemTime;

/// When the startup span ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndAt {
    /// When init completes.
    #[default]
    Init,
    /// When the application calls [`ready`].
    Ready,
}

struct Open {
    span: Span,
    start: SystemTime,
    events: u64,
}

static OPEN: Mutex<Option<Open>> = Mutex::new(None);

/// A startup milestone, measured from the process start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Milestone {
    /// Telemetry initialised.
    Init,
    /// The application said it is ready.
    Ready,
}

/// Receives a pre-init `tracing` event with the startup span's context.
pub type LogHook = Box<dyn Fn(&Drained, &opentelemetry::trace::SpanContext) + Send>;
/// Receives a milestone with its time since the process start.
pub type MilestoneHook = Box<dyn Fn(Milestone, std::time::Duration) + Send>;

/// What the telemetry side does with the startup records besides the span:
/// pre-init `tracing` events as log records, milestones as metrics.
#[derive(Default)]
pub struct Hooks {
    /// Called for each pre-init `tracing` event, with the startup span's
    /// context (invalid when the span is not exported).
    pub log: Option<LogHook>,
    /// Called once per milestone, with its time since the process start.
    pub milestone: Option<MilestoneHook>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("log", &self.log.is_some())
            .field("milestone", &self.milestone.is_some())
            .finish()
    }
}

static HOOKS: Mutex<Option<Hooks>> = Mutex::new(None);

/// Sets the hooks [`begin`] and [`ready`] call; before `begin`.
pub fn set_hooks(hooks: Hooks) {
    *HOOKS.lock().unwrap_or_else(|e| e.into_inner()) = Some(hooks);
}

fn milestone(m: Milestone, from: SystemTime, to: SystemTime) {
    let hooks = HOOKS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(f) = hooks.as_ref().and_then(|h| h.milestone.as_ref()) {
        f(m, to.duration_since(from).unwrap_or_default());
    }
}

/// Starts the startup span with `tracer`, drains the ring into it, and ends it
/// now ([`EndAt::Init`]) or leaves it open until [`ready`] ([`EndAt::Ready`]);
/// records made meanwhile are added when it ends.
///
/// Call it once, after the pre-init `tracing` capture has handed over. A
/// second call, or a call after the span ended, does nothing.
pub fn begin(tracer: &SdkTracer, end: EndAt) {
    let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
    if open.is_some() || super::closed() {
        return;
    }
    let drain = super::drain();
    let init = drain.at.unwrap_or_else(SystemTime::now);
    let first_event = drain.events.first().map(|d| d.time);
    let constructor = super::constructor_time();
    // The earliest of what is known. The OS start is rounded down to its
    // clock tick, so it is never after the truth; the constructor and the
    // first event are read in the events' clock, after the truth.
    let (start, source) = [
        (super::process_start_time(), "os"),
        (constructor, "constructor"),
        (first_event, "first_event"),
        (Some(init), "init"),
    ]
    .into_iter()
    .filter_map(|(t, source)| t.map(|t| (t, source)))
    .min_by_key(|&(t, _)| t)
    .unwrap_or((init, "init"));
    let mut attributes = vec![
        KeyValue::new(START_SOURCE, source),
        KeyValue::new(TO_INIT_MS, millis(start, init)),
        KeyValue::new(CLOCK_ERROR_NS, drain.max_clock_error_ns),
    ];
    if let Some(precision) = super::process_start_precision() {
        attributes.push(KeyValue::new(
            OS_START_PRECISION_MS,
            precision.as_secs_f64() * 1e3,
        ));
    }
    if let Some(constructor) = constructor {
        attributes.push(KeyValue::new(CONSTRUCTOR_MS, millis(start, constructor)));
        attributes.push(KeyValue::new(
            CONSTRUCTOR_TO_INIT_MS,
            millis(constructor, init),
        ));
    }
    let span = tracer
        .span_builder(SPAN_NAME)
        .with_kind(SpanKind::Internal)
        .with_start_time(start)
        .with_attributes(attributes)
        .start(tracer);
    let mut state = Open {
        span,
        start,
        events: 0,
    };
    milestone(Milestone::Init, start, init);
    add(&mut state, &drain);
    match end {
        EndAt::Init => finish(state, init, false),
        EndAt::Ready => *open = Some(state),
    }
}

/// Marks the application ready: ends the startup span opened with
/// [`EndAt::Ready`], with the records made since init. Does nothing
/// otherwise; safe to call more than once.
pub fn ready() {
    let state = OPEN.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut state) = state {
        let drain = super::drain();
        add(&mut state, &drain);
        let at = drain.at.unwrap_or_else(SystemTime::now);
        finish(state, at, true);
    }
}

fn finish(mut state: Open, at: SystemTime, ready: bool) {
    // Records that raced the first drain.
    super::close();
    let drain = super::drain();
    add(&mut state, &drain);
    if drain.dropped > 0 {
        state.span.add_event_with_timestamp(
            format!("{} startup events dropped", drain.dropped),
            at,
            vec![KeyValue::new(DROPPED_COUNT, drain.dropped as i64)],
        );
        tracing::warn!(
            target: "buildtrace",
            dropped = drain.dropped,
            capacity = super::capacity(),
            "the startup ring was full: {} startup events were dropped; build with a larger BUILDTRACE_STARTUP_CAPACITY",
            drain.dropped
        );
    }
    state
        .span
        .set_attribute(KeyValue::new(EVENT_COUNT, state.events as i64));
    state
        .span
        .set_attribute(KeyValue::new(DROPPED_COUNT, drain.dropped as i64));
    if ready {
        state
            .span
            .set_attribute(KeyValue::new(TO_READY_MS, millis(state.start, at)));
        milestone(Milestone::Ready, state.start, at);
    }
    state.span.end_with_timestamp(at);
}

fn add(state: &mut Open, drain: &Drain) {
    let hooks = HOOKS.lock().unwrap_or_else(|e| e.into_inner());
    let log = hooks.as_ref().and_then(|h| h.log.as_ref());
    let context = state.span.span_context().clone();
    for d in &drain.events {
        if let (Some(log), Origin::Tracing(_)) = (log, d.event.origin) {
            log(d, &context);
        }
        let (name, attributes) = event(d);
        state
            .span
            .add_event_with_timestamp(name, d.time, attributes);
        state.events += 1;
    }
}

fn event(d: &Drained) -> (std::borrow::Cow<'static, str>, Vec<KeyValue>) {
    let e = &d.event;
    let mut attributes = Vec::with_capacity(e.attrs().len() + 3);
    let mut name: std::borrow::Cow<'static, str> = e.name.into();
    if let Origin::Tracing(metadata) = e.origin {
        // Named by its message, as tracing-opentelemetry names the events
        // it records.
        name = e.message.to_string().into();
        attributes.push(KeyValue::new(LEVEL, metadata.level().as_str()));
        attributes.push(KeyValue::new(TARGET, metadata.target()));
    }
    for (key, value) in e.attrs() {
        attributes.push(KeyValue::new(*key, otel_value(value)));
    }
    attributes.push(KeyValue::new(THREAD_ID, i64::from(e.thread)));
    if e.attrs_dropped > 0 {
        attributes.push(KeyValue::new(ATTRS_DROPPED, i64::from(e.attrs_dropped)));
    }
    (name, attributes)
}

/// A record's value as an OpenTelemetry value.
pub fn otel_value(v: &EventValue) -> OtelValue {
    match *v {
        EventValue::I64(i) => OtelValue::I64(i),
        EventValue::U64(u) => {
            i64::try_from(u).map_or_else(|_| OtelValue::from(u.to_string()), OtelValue::I64)
        }
        EventValue::F64(f) => OtelValue::F64(f),
        EventValue::Bool(b) => OtelValue::Bool(b),
        EventValue::Static(s) => OtelValue::from(s),
        EventValue::Str(s) => OtelValue::from(s.to_string()),
        EventValue::Empty => OtelValue::from(""),
    }
}

fn millis(from: SystemTime, to: SystemTime) -> f64 {
    to.duration_since(from)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}
