//! `tracing` before init: a layer that captures events into the startup ring
//! until the real layer (OpenTelemetry, a formatter …) exists, then hands
//! over to it — once, with nothing lost and nothing seen twice.
//!
//! The layer is installed with the global subscriber at the top of `main`
//! ([`install`]), so no second dispatcher ever exists: tracing's per-callsite
//! interest cache, which silences callsites when dispatchers come and go
//! (tokio-rs/tracing issues 2050 and 2874), is simply rebuilt at the
//! handover. The final layer sits in a write-once cell, so after the handover
//! an event costs one pointer load more than without buildtrace, and
//! downcasting (which `tracing-opentelemetry`'s `OpenTelemetrySpanExt` needs)
//! reaches the final layer.
//!
//! The handover is exact: an event is either captured into the ring (and is
//! in the drain that follows the handover) or passed to the final layer,
//! never both and never neither. Events racing the handover are counted in
//! flight; the handover waits for them before returning.

use super::clock;
use super::event::Arg;
use super::record::{Record as RingRecord, Source};
use core::any::TypeId;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event as TracingEvent, Field, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

type Final<S> = Box<dyn Layer<S> + Send + Sync>;

/// Crates whose own logs never enter telemetry: the exporter's transport
/// and the OpenTelemetry SDK. Exporting their logs would feed the pipeline
/// with itself.
pub const EXCLUDED_TARGETS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "tower_http",
    "reqwest",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
];

/// Whether `target` is one of [`EXCLUDED_TARGETS`] or inside one.
pub fn is_excluded(target: &str) -> bool {
    EXCLUDED_TARGETS.iter().any(|t| {
        target
            .strip_prefix(t)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

struct Shared<S> {
    final_layer: OnceLock<Final<S>>,
    /// Set (SeqCst) once `final_layer` is; with `in_flight`, the two sides
    /// of a store-load handshake in the single order of SeqCst operations.
    handed_over: AtomicBool,
    in_flight: AtomicUsize,
    level: LevelFilter,
}

/// The layer that captures `tracing` events before init and forwards
/// everything to the final layer after [`Handover::complete`].
pub struct PreInitLayer<S> {
    shared: Arc<Shared<S>>,
}

/// Completes the handover from the pre-init capture to the final layer.
#[must_use = "without a handover, tracing events keep going to the startup ring"]
pub struct Handover<S> {
    shared: Arc<Shared<S>>,
}

impl<S> std::fmt::Debug for PreInitLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreInitLayer")
            .field("level", &self.shared.level)
            .field("handed_over", &self.shared.final_layer.get().is_some())
            .finish()
    }
}

impl<S> std::fmt::Debug for Handover<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handover").finish_non_exhaustive()
    }
}

/// A pre-init layer capturing events at `level` and more severe, and the
/// handle that completes its handover. Add the layer to a subscriber of your
/// own, or let [`install`] build the subscriber.
///
/// The final layer must filter globally (an `EnvFilter` used as a layer, a
/// `LevelFilter`), not per layer: per-layer filters need to be known when the
/// subscriber is built.
pub fn layer<S>(level: LevelFilter) -> (PreInitLayer<S>, Handover<S>) {
    let shared = Arc::new(Shared {
        final_layer: OnceLock::new(),
        handed_over: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
        level,
    });
    (
        PreInitLayer {
            shared: shared.clone(),
        },
        Handover { shared },
    )
}

static INSTALLED: std::sync::Mutex<Option<Handover<tracing_subscriber::Registry>>> =
    std::sync::Mutex::new(None);

/// Installs the global `tracing` subscriber: a registry with the pre-init
/// layer (capturing `INFO` and more severe). Call it first thing in `main`;
/// `buildtrace::init` completes the handover. (Without `init`, take the
/// handover with [`take_installed`].)
///
/// # Errors
/// When a global subscriber is already set.
pub fn install() -> Result<(), tracing_core::dispatcher::SetGlobalDefaultError> {
    use tracing_subscriber::layer::SubscriberExt;
    let (layer, handover) = layer(LevelFilter::INFO);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(subscriber))?;
    *INSTALLED.lock().unwrap_or_else(|e| e.into_inner()) = Some(handover);
    Ok(())
}

/// The handover of the capture [`install`] set up; `Some` once.
pub fn take_installed() -> Option<Handover<tracing_subscriber::Registry>> {
    INSTALLED.lock().unwrap_or_else(|e| e.into_inner()).take()
}

impl<S: Subscriber> Handover<S> {
    /// Routes every later event and span to `layer`, waits for events still
    /// being captured, and rebuilds tracing's interest cache. Drain the ring
    /// after this returns to have every pre-init event.
    ///
    /// Only the first handover takes effect; a second returns `layer` back.
    ///
    /// # Errors
    /// The layer, when a handover already happened.
    pub fn complete<L>(self, layer: L) -> Result<(), L>
    where
        L: Layer<S> + Send + Sync + 'static,
    {
        let mut layer = Some(layer);
        let _ = self.shared.final_layer.get_or_init(|| match layer.take() {
            Some(l) => Box::new(l),
            None => unreachable!("the initialiser runs once, with the layer still there"),
        });
        if let Some(l) = layer {
            return Err(l);
        }
        // Either a capturing event's increment comes first in the SeqCst
        // order (and we wait for it) or this store does (and the event sees
        // it and forwards instead of capturing).
        self.shared.handed_over.store(true, Ordering::SeqCst);
        while self.shared.in_flight.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        tracing_core::callsite::rebuild_interest_cache();
        Ok(())
    }
}

impl<S> PreInitLayer<S> {
    fn final_layer(&self) -> Option<&Final<S>> {
        self.shared.final_layer.get()
    }

    fn captures(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event()
            && *metadata.level() <= self.shared.level
            && !is_excluded(metadata.target())
    }
}

impl<S> Layer<S> for PreInitLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        match self.final_layer() {
            Some(l) => l.register_callsite(metadata),
            None if self.captures(metadata) => Interest::always(),
            None => Interest::never(),
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        match self.final_layer() {
            Some(l) => l.enabled(metadata, ctx),
            None => self.captures(metadata),
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        match self.final_layer() {
            Some(l) => l.max_level_hint(),
            None => Some(self.shared.level),
        }
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            return l.on_event(event, ctx);
        }
        self.shared.in_flight.fetch_add(1, Ordering::SeqCst);
        match self
            .shared
            .handed_over
            .load(Ordering::SeqCst)
            .then(|| self.final_layer())
            .flatten()
        {
            Some(l) => {
                self.shared.in_flight.fetch_sub(1, Ordering::Release);
                l.on_event(event, ctx);
            }
            None => {
                // Left on unwind too (a field's `Debug` may panic): the
                // handover waits for this count to reach zero.
                let _in_flight = InFlight(&self.shared.in_flight);
                capture(event);
            }
        }
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            l.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(&self, span: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            l.on_record(span, values, ctx);
        }
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            l.on_follows_from(span, follows, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            l.on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            l.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            l.on_close(id, ctx);
        }
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        if let Some(l) = self.final_layer() {
            l.on_id_change(old, new, ctx);
        }
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // tracing-subscriber asks whether a layer is an `Option::None` by
        // downcasting to a private marker type; the switch never is, whatever
        // the final layer's outermost part. An empty `Option` layer answers
        // for exactly that marker (and its own type), which identifies it.
        let none: Option<tracing_subscriber::layer::Identity> = None;
        // SAFETY: only whether a pointer is returned is looked at.
        let asks_if_none = unsafe { <_ as Layer<S>>::downcast_raw(&none, id) }.is_some()
            && id != TypeId::of::<Option<tracing_subscriber::layer::Identity>>();
        if asks_if_none {
            return None;
        }
        // SAFETY: the final layer is written once and never replaced or
        // dropped while this layer lives, so a pointer into it stays valid
        // as long as the subscriber that owns this layer; the caller's
        // contract for `downcast_raw` is forwarded unchanged.
        self.final_layer()
            .and_then(|l| unsafe { l.downcast_raw(id) })
    }
}

/// One capture in flight, until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

fn capture(event: &TracingEvent<'_>) {
    if super::closed() {
        return;
    }
    let metadata = event.metadata();
    clock::ensure_first_anchor();
    if let Some((mut claim, thread)) = super::claim() {
        // The whole record first: should a field's `Debug` panic, the claim
        // still publishes a valid record as it unwinds, with the fields
        // before it.
        let record = RingRecord::init(
            claim.slot(),
            Source::Tracing(metadata),
            clock::ticks(),
            thread,
        );
        event.record(&mut Fields(record));
    }
}

/// Copies an event's fields into a record: the message into its text, the
/// others as values, typed where tracing gives a type, formatted otherwise.
struct Fields<'a>(&'a mut RingRecord);

impl tracing_core::field::Visit for Fields<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push(field.index(), Arg::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push(field.index(), Arg::U64(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push(field.index(), Arg::F64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push(field.index(), Arg::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.set_message(format_args!("{value}"));
        } else {
            self.0.push(field.index(), Arg::Str(value));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.set_message(format_args!("{value:?}"));
        } else {
            self.0.push_debug(field.index(), value);
        }
    }
}
