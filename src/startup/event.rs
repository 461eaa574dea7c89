//! What one startup record holds, as the drain gives it ([`Event`]), and
//! what `startup!` takes ([`Site`], [`Arg`]); the ring's own compact form is
//! in `record.rs`.

use core::fmt;

/// Attributes a record keeps; more are counted in [`Event::attrs_dropped`].
pub const MAX_ATTRS: usize = 4;
/// Bytes of text a record keeps inline per string value; longer text is cut
/// on a character boundary and shown with a trailing `…`.
pub const INLINE_STR_LEN: usize = 30;
/// Bytes of a captured `tracing` event's message a record keeps.
pub const MESSAGE_LEN: usize = 94;

/// A string copied into the record, truncated to `N` bytes.
#[derive(Clone, Copy)]
pub struct InlineStr<const N: usize = INLINE_STR_LEN> {
    len: u8,
    truncated: bool,
    bytes: [u8; N],
}

impl<const N: usize> InlineStr<N> {
    /// An empty string.
    pub const EMPTY: InlineStr<N> = InlineStr {
        len: 0,
        truncated: false,
        bytes: [0; N],
    };

    /// Copies `s`, cut at `N` bytes on a character boundary.
    #[inline]
    pub fn new(s: &str) -> InlineStr<N> {
        let mut out = InlineStr::EMPTY;
        out.push(s);
        out
    }

    fn push(&mut self, s: &str) {
        if self.truncated {
            return;
        }
        let at = self.len as usize;
        let room = N - at;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[at..at + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take as u8;
        self.truncated = take < s.len();
    }

    /// Copies `s` (already cut to fit), marked truncated or not.
    pub(crate) fn with_truncation(s: &str, truncated: bool) -> InlineStr<N> {
        let mut out = InlineStr::new(s);
        out.truncated |= truncated;
        out
    }

    /// The text kept.
    pub fn as_str(&self) -> &str {
        // Only whole characters of a `&str` are ever copied in.
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }

    /// Whether the original text was longer.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl<const N: usize> fmt::Write for InlineStr<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s);
        Ok(())
    }
}

impl<const N: usize> fmt::Display for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

/// An attribute value of a startup record.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum EventValue {
    /// No value (an unused attribute slot).
    Empty,
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A flag.
    Bool(bool),
    /// Text, copied inline.
    Str(InlineStr),
    /// Text that lives for the whole program (tracing's level, target …).
    Static(&'static str),
}

/// `From` each number type for a value type (an [`EventValue`] or an
/// [`Arg`]), widened to the variant's type.
macro_rules! from_numbers {
    ($value:ty) => {
        from_numbers!(@ $value; I64 as i64: i8, i16, i32, i64, isize);
        from_numbers!(@ $value; U64 as u64: u8, u16, u32, u64, usize);
        from_numbers!(@ $value; F64 as f64: f32, f64);
    };
    (@ $value:ty; $variant:ident as $target:ty: $($t:ty),*) => {$(
        impl From<$t> for $value {
            #[inline]
            fn from(v: $t) -> Self {
                Self::$variant(v as $target)
            }
        }
    )*};
}
from_numbers!(EventValue);

impl From<bool> for EventValue {
    #[inline]
    fn from(v: bool) -> EventValue {
        EventValue::Bool(v)
    }
}

impl From<&str> for EventValue {
    #[inline]
    fn from(v: &str) -> EventValue {
        EventValue::Str(InlineStr::new(v))
    }
}

impl From<&String> for EventValue {
    #[inline]
    fn from(v: &String) -> EventValue {
        EventValue::Str(InlineStr::new(v))
    }
}

impl From<&std::path::Path> for EventValue {
    #[inline]
    fn from(v: &std::path::Path) -> EventValue {
        let mut s = InlineStr::EMPTY;
        let _ = fmt::Write::write_fmt(&mut s, format_args!("{}", v.display()));
        EventValue::Str(s)
    }
}

impl fmt::Display for EventValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventValue::Empty => Ok(()),
            EventValue::I64(v) => write!(f, "{v}"),
            EventValue::U64(v) => write!(f, "{v}"),
            EventValue::F64(v) => write!(f, "{v}"),
            EventValue::Bool(v) => write!(f, "{v}"),
            EventValue::Str(v) => write!(f, "{v}"),
            EventValue::Static(v) => f.write_str(v),
        }
    }
}

/// Where a record came from.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Origin {
    /// `buildtrace::startup!`.
    Macro,
    /// A `tracing` event captured before init; its message is
    /// [`Event::message`].
    #[cfg(feature = "otel")]
    Tracing(&'static tracing_core::Metadata<'static>),
}

/// One startup record.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    /// Its name (for a `tracing` event, the callsite's name; the message is
    /// an attribute).
    pub name: &'static str,
    /// A process-unique number of the recording thread (1 for the first
    /// thread that records, and so on).
    pub thread: u32,
    /// Where it came from.
    pub origin: Origin,
    /// How many attributes did not fit.
    pub attrs_dropped: u8,
    len: u8,
    attrs: [(&'static str, EventValue); MAX_ATTRS],
    /// The message of a captured `tracing` event (empty otherwise).
    pub message: InlineStr<MESSAGE_LEN>,
}

impl Event {
    pub(crate) fn new(name: &'static str, thread: u32, origin: Origin) -> Event {
        Event {
            name,
            thread,
            origin,
            attrs_dropped: 0,
            len: 0,
            attrs: [("", EventValue::Empty); MAX_ATTRS],
            message: InlineStr::EMPTY,
        }
    }

    /// Adds an attribute, or counts it when the record is full.
    #[inline]
    pub(crate) fn push(&mut self, key: &'static str, value: EventValue) {
        match self.attrs.get_mut(self.len as usize) {
            Some(slot) => {
                *slot = (key, value);
                self.len += 1;
            }
            None => self.attrs_dropped = self.attrs_dropped.saturating_add(1),
        }
    }

    /// The attributes kept, in the order given.
    pub fn attrs(&self) -> &[(&'static str, EventValue)] {
        &self.attrs[..self.len as usize]
    }
}

/// What a `startup!` call site knows at compile time: its name and keys.
/// The [`startup!`](crate::startup!) macro makes one `static` per call site.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    pub(super) name: &'static str,
    pub(super) keys: &'static [&'static str],
}

impl Site {
    #[doc(hidden)]
    pub const fn new(name: &'static str, keys: &'static [&'static str]) -> Site {
        Site { name, keys }
    }
}

/// A value as `startup!` takes it: borrowed, copied into the record only
/// as far as the record keeps it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Path(&'a std::path::Path),
    Value(&'a EventValue),
    Owned(EventValue),
}

from_numbers!(Arg<'_>);

/// `From<$ty> for Arg` by the variant that holds it.
macro_rules! arg_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl<'a> From<$ty> for Arg<'a> {
            #[inline]
            fn from(v: $ty) -> Self {
                Arg::$variant(v)
            }
        }
    )*};
}

arg_from! {
    bool => Bool,
    &'a str => Str,
    &'a String => Str,
    &'a std::path::Path => Path,
    EventValue => Owned,
    &'a EventValue => Value,
}
