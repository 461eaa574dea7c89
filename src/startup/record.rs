//! A startup record as the ring holds it: fixed size, `Copy`, no heap.
//!
//! A [`Record`] is a tick count, the thread, a pointer to what recorded it (a
//! [`Site`] a `startup!` call site made at compile time, or a `tracing`
//! callsite's metadata), up to [`MAX_ATTRS`] values of eight bytes and a
//! shared text area. Keys and names are never copied: they live in the site.
//! Only the bytes a record uses are written, and a slot is
//! [`SLOT_BYTES`](super::SLOT_BYTES) long, aligned to cache lines. At drain
//! it becomes an [`Event`]: the same facts, spelled out.

use super::event::{Arg, Event, EventValue, InlineStr, Origin, Site};
use super::{INLINE_STR_LEN, MAX_ATTRS, MESSAGE_LEN};
use core::fmt;
use core::mem::MaybeUninit;

/// Copies `src` into `dst` (of the same length): for the short text of a
/// record, a few word moves instead of a call to `memcpy`.
#[inline(always)]
fn copy_short(dst: &mut [MaybeUninit<u8>], src: &[u8]) {
    debug_assert_eq!(dst.len(), src.len());
    let n = src.len().min(dst.len());
    let word = |at: usize| u64::from_ne_bytes(src[at..at + 8].try_into().unwrap_or([0; 8]));
    let mut put = |at: usize, w: u64| {
        for (d, b) in dst[at..at + 8].iter_mut().zip(w.to_ne_bytes()) {
            *d = MaybeUninit::new(b);
        }
    };
    match n {
        0 => {}
        1..=7 => {
            for (d, &b) in dst.iter_mut().zip(src) {
                *d = MaybeUninit::new(b);
            }
        }
        // Two words, overlapping in the middle when n < 16.
        8..=16 => {
            let (a, b) = (word(0), word(n - 8));
            put(0, a);
            put(n - 8, b);
        }
        17..=32 => {
            let (a, b, c, d) = (word(0), word(8), word(n - 16), word(n - 8));
            put(0, a);
            put(8, b);
            put(n - 16, c);
            put(n - 8, d);
        }
        _ => {
            // SAFETY: `u8` and `MaybeUninit<u8>` have the same layout.
            let src = unsafe { &*(src as *const [u8] as *const [MaybeUninit<u8>]) };
            dst[..n].copy_from_slice(&src[..n]);
        }
    }
}

/// What recorded a record.
#[derive(Clone, Copy)]
pub(crate) enum Source {
    Site(&'static Site),
    #[cfg(feature = "otel")]
    Tracing(&'static tracing_core::Metadata<'static>),
}

/// Bytes of text a record holds in all: the message and its string values
/// share them. A message keeps up to [`MESSAGE_LEN`] bytes and each string
/// up to [`INLINE_STR_LEN`]; when the area runs out (a long message and
/// several long strings), later text is cut and shown truncated.
pub const TEXT_LEN: usize = 159;

const KIND_I64: u8 = 1;
const KIND_U64: u8 = 2;
const KIND_F64: u8 = 3;
const KIND_BOOL: u8 = 4;
const KIND_STR: u8 = 5;
const KIND_STATIC: u8 = 6;
/// On a string's kind: the text was cut.
const TRUNCATED: u8 = 0x80;

/// A record as the ring holds it (see the module docs).
#[derive(Clone, Copy)]
pub(crate) struct Record {
    pub(crate) ticks: u64,
    source: Source,
    pub(crate) thread: u32,
    len: u8,
    dropped: u8,
    /// Bytes of `text` used.
    used: u8,
    /// Bytes of the message, with [`TRUNCATED`] when it was cut.
    message: u8,
    /// Where in `text` the message starts.
    message_at: u8,
    /// The kind of each value, with [`TRUNCATED`] on cut text.
    kinds: [u8; MAX_ATTRS],
    /// Where each key is: its place among the site's keys, or the index of
    /// the `tracing` field.
    keys: [u8; MAX_ATTRS],
    /// A string's offset and length in `text` (`offset << 16 | len`), or a
    /// static string's length.
    lens: [u32; MAX_ATTRS],
    /// Integers, floats and flags as bits; a static string's address.
    values: [u64; MAX_ATTRS],
    text: [MaybeUninit<u8>; TEXT_LEN],
}

impl Record {
    /// Writes a new record's fixed fields into `slot`, straight where the
    /// ring keeps it, leaving the text area unwritten until used.
    #[inline]
    pub(crate) fn init(
        slot: &mut MaybeUninit<Record>,
        source: Source,
        ticks: u64,
        thread: u32,
    ) -> &mut Record {
        use core::ptr::addr_of_mut;
        let p = slot.as_mut_ptr();
        // SAFETY: `p` points to a writable `Record`; every field but `text` is
        // written here, and `text` (bytes that may be uninitialised) is valid
        // as it is, so the reference made last is to a valid `Record`.
        unsafe {
            addr_of_mut!((*p).ticks).write(ticks);
            addr_of_mut!((*p).source).write(source);
            addr_of_mut!((*p).thread).write(thread);
            addr_of_mut!((*p).len).write(0);
            addr_of_mut!((*p).dropped).write(0);
            addr_of_mut!((*p).used).write(0);
            addr_of_mut!((*p).message).write(0);
            addr_of_mut!((*p).message_at).write(0);
            addr_of_mut!((*p).kinds).write([0; MAX_ATTRS]);
            addr_of_mut!((*p).keys).write([0; MAX_ATTRS]);
            addr_of_mut!((*p).lens).write([0; MAX_ATTRS]);
            addr_of_mut!((*p).values).write([0; MAX_ATTRS]);
            &mut *p
        }
    }

    /// Copies up to `max` bytes of `s` into the text area, cut on a
    /// character boundary; returns (offset, length, cut).
    #[inline(always)]
    fn put_text(&mut self, s: &str, max: usize) -> (usize, usize, bool) {
        let at = self.used as usize;
        let mut take = s.len().min(max).min(TEXT_LEN - at);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        copy_short(&mut self.text[at..at + take], &s.as_bytes()[..take]);
        self.used = (at + take) as u8;
        (at, take, take < s.len())
    }

    /// Text formatted into the text area, cut at `max` bytes.
    fn put_fmt(&mut self, args: fmt::Arguments<'_>, max: usize) -> (usize, usize, bool) {
        struct Cursor<'r> {
            record: &'r mut Record,
            start: usize,
            max: usize,
            cut: bool,
        }
        impl fmt::Write for Cursor<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                if self.cut {
                    return Ok(());
                }
                let room = self.max - (self.record.used as usize - self.start);
                let (_, _, cut) = self.record.put_text(s, room);
                self.cut = cut;
                Ok(())
            }
        }
        let start = self.used as usize;
        let mut c = Cursor {
            record: self,
            start,
            max,
            cut: false,
        };
        let _ = fmt::write(&mut c, args);
        let cut = c.cut;
        (start, self.used as usize - start, cut)
    }

    /// The message of a `tracing` event.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) fn set_message(&mut self, args: fmt::Arguments<'_>) {
        let (at, len, cut) = match args.as_str() {
            Some(s) => self.put_text(s, MESSAGE_LEN),
            None => self.put_fmt(args, MESSAGE_LEN),
        };
        self.message_at = at as u8;
        self.message = len as u8 | if cut { TRUNCATED } else { 0 };
    }

    /// Adds a value for the key at `key` (see [`Record::keys`]), or counts it
    /// when the record is full.
    #[inline(always)]
    pub(crate) fn push(&mut self, key: usize, arg: Arg<'_>) {
        let i = self.len as usize;
        if i >= MAX_ATTRS || key > u8::MAX as usize {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        let (kind, value, len) = self.value(arg);
        self.kinds[i] = kind;
        self.keys[i] = key as u8;
        self.values[i] = value;
        self.lens[i] = len;
        self.len += 1;
    }

    /// A value's kind, bits and text span: the kinds `startup!` takes most,
    /// inline; the others out of line.
    #[inline(always)]
    fn value(&mut self, arg: Arg<'_>) -> (u8, u64, u32) {
        match arg {
            Arg::I64(v) => (KIND_I64, v as u64, 0),
            Arg::U64(v) => (KIND_U64, v, 0),
            Arg::F64(v) => (KIND_F64, v.to_bits(), 0),
            Arg::Bool(v) => (KIND_BOOL, u64::from(v), 0),
            Arg::Str(s) => self.text_value(s),
            rare => self.rare_value(rare),
        }
    }

    /// The values `startup!` rarely gets, out of the inlined path.
    #[cold]
    #[inline(never)]
    fn rare_value(&mut self, arg: Arg<'_>) -> (u8, u64, u32) {
        match arg {
            Arg::Path(p) => {
                let (at, len, cut) = self.put_fmt(format_args!("{}", p.display()), INLINE_STR_LEN);
                (
                    KIND_STR | if cut { TRUNCATED } else { 0 },
                    0,
                    (at << 16 | len) as u32,
                )
            }
            Arg::Value(v) => self.rare_value(Arg::Owned(*v)),
            Arg::Owned(v) => match v {
                EventValue::Empty => (0, 0, 0),
                EventValue::I64(v) => self.value(Arg::I64(v)),
                EventValue::U64(v) => self.value(Arg::U64(v)),
                EventValue::F64(v) => self.value(Arg::F64(v)),
                EventValue::Bool(v) => self.value(Arg::Bool(v)),
                EventValue::Str(s) => {
                    let (kind, value, len) = self.text_value(s.as_str());
                    (
                        kind | if s.is_truncated() { TRUNCATED } else { 0 },
                        value,
                        len,
                    )
                }
                EventValue::Static(s) => match u32::try_from(s.len()) {
                    Ok(len) => (KIND_STATIC, s.as_ptr() as usize as u64, len),
                    Err(_) => self.text_value(s),
                },
            },
            // The common kinds, should they come this way.
            common => self.value(common),
        }
    }

    /// Adds a value formatted with `Debug`, cut at [`INLINE_STR_LEN`].
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) fn push_debug(&mut self, key: usize, value: &dyn fmt::Debug) {
        let i = self.len as usize;
        if i >= MAX_ATTRS || key > u8::MAX as usize {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        let (at, len, cut) = self.put_fmt(format_args!("{value:?}"), INLINE_STR_LEN);
        self.kinds[i] = KIND_STR | if cut { TRUNCATED } else { 0 };
        self.keys[i] = key as u8;
        self.lens[i] = (at << 16 | len) as u32;
        self.len += 1;
    }

    #[inline(always)]
    fn text_value(&mut self, s: &str) -> (u8, u64, u32) {
        let (at, len, cut) = self.put_text(s, INLINE_STR_LEN);
        (
            KIND_STR | if cut { TRUNCATED } else { 0 },
            0,
            (at << 16 | len) as u32,
        )
    }

    fn text(&self, at: usize, len: usize) -> &str {
        let bytes = &self.text[at..at + len];
        // SAFETY: `put_text` initialised every byte below `used`, and every
        // (offset, length) it returned lies below `used`.
        let bytes = unsafe { &*(bytes as *const [MaybeUninit<u8>] as *const [u8]) };
        // Only whole characters of a `&str` are ever copied in.
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The record spelled out.
    pub(crate) fn event(&self) -> Event {
        let (name, origin) = match self.source {
            Source::Site(site) => (site.name, Origin::Macro),
            #[cfg(feature = "otel")]
            Source::Tracing(m) => (m.name(), Origin::Tracing(m)),
        };
        let mut event = Event::new(name, self.thread, origin);
        event.attrs_dropped = self.dropped;
        let message_len = (self.message & !TRUNCATED) as usize;
        event.message = InlineStr::with_truncation(
            self.text(self.message_at as usize, message_len),
            self.message & TRUNCATED != 0,
        );
        for i in 0..self.len as usize {
            let key = match self.source {
                Source::Site(site) => site.keys.get(self.keys[i] as usize).copied(),
                #[cfg(feature = "otel")]
                Source::Tracing(m) => m
                    .fields()
                    .iter()
                    .nth(self.keys[i] as usize)
                    .map(|f| f.name()),
            };
            let (kind, raw, len) = (self.kinds[i], self.values[i], self.lens[i]);
            let value = match kind & !TRUNCATED {
                KIND_I64 => EventValue::I64(raw as i64),
                KIND_U64 => EventValue::U64(raw),
                KIND_F64 => EventValue::F64(f64::from_bits(raw)),
                KIND_BOOL => EventValue::Bool(raw != 0),
                KIND_STR => EventValue::Str(InlineStr::with_truncation(
                    self.text((len >> 16) as usize, (len & 0xffff) as usize),
                    kind & TRUNCATED != 0,
                )),
                KIND_STATIC => {
                    // SAFETY: made from a `&'static str` in `push`: its
                    // address and length, unchanged.
                    EventValue::Static(unsafe {
                        core::str::from_utf8_unchecked(core::slice::from_raw_parts(
                            raw as usize as *const u8,
                            len as usize,
                        ))
                    })
                }
                _ => EventValue::Empty,
            };
            event.push(key.unwrap_or(""), value);
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SITE: Site = Site::new("step", &["a", "b", "c", "d", "e"]);

    fn record(fill: impl FnOnce(&mut Record)) -> Event {
        let mut slot = MaybeUninit::uninit();
        let r = Record::init(&mut slot, Source::Site(&SITE), 7, 3);
        fill(r);
        r.event()
    }

    fn text(v: &EventValue) -> (String, bool) {
        match v {
            EventValue::Str(s) => (s.as_str().to_owned(), s.is_truncated()),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn values_keys_and_name_come_back_as_given() {
        let path = std::path::Path::new("/etc/app.toml");
        let e = record(|r| {
            r.push(0, Arg::from(-5_i32));
            r.push(1, Arg::from(u64::MAX));
            r.push(2, Arg::from(0.25));
            r.push(3, Arg::from(path));
        });
        assert_eq!((e.name, e.thread, e.attrs_dropped), ("step", 3, 0));
        let keys: Vec<_> = e.attrs().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        assert!(matches!(e.attrs()[0].1, EventValue::I64(-5)));
        assert!(matches!(e.attrs()[1].1, EventValue::U64(u64::MAX)));
        assert!(matches!(e.attrs()[2].1, EventValue::F64(f) if f == 0.25));
        assert_eq!(text(&e.attrs()[3].1), ("/etc/app.toml".into(), false));
    }

    #[test]
    fn a_fifth_value_is_counted_not_kept() {
        let e = record(|r| {
            for i in 0..5 {
                r.push(i, Arg::from(true));
            }
        });
        assert_eq!((e.attrs().len(), e.attrs_dropped), (4, 1));
    }

    #[test]
    fn text_is_cut_on_character_boundaries_and_marked() {
        // 29 ASCII bytes then a 3-byte character: 30 bytes would split it.
        let long = format!("{}€tail", "x".repeat(29));
        let e = record(|r| {
            r.push(0, Arg::from(long.as_str()));
            r.push(1, Arg::from("short"));
            r.push(2, Arg::from(""));
        });
        assert_eq!(text(&e.attrs()[0].1), ("x".repeat(29), true));
        assert_eq!(text(&e.attrs()[1].1), ("short".into(), false));
        assert_eq!(text(&e.attrs()[2].1), (String::new(), false));
        for n in 0..=40 {
            let s: String = "é".repeat(n);
            let e = record(|r| r.push(0, Arg::from(s.as_str())));
            let (kept, cut) = text(&e.attrs()[0].1);
            assert!(s.starts_with(&kept) && kept.len() <= INLINE_STR_LEN);
            assert_eq!(cut, kept.len() < s.len(), "{n}");
            assert!(kept.len() + 2 > INLINE_STR_LEN || !cut);
        }
    }

    #[test]
    fn the_message_and_strings_share_the_text_area() {
        let message = "m".repeat(MESSAGE_LEN + 10);
        let values: Vec<String> = (0..4)
            .map(|i| format!("{i}").repeat(INLINE_STR_LEN))
            .collect();
        let e = record(|r| {
            r.set_message(format_args!("{message}"));
            for (i, v) in values.iter().enumerate() {
                r.push(i, Arg::from(v.as_str()));
            }
        });
        assert_eq!(e.message.as_str(), &message[..MESSAGE_LEN]);
        assert!(e.message.is_truncated());
        // 94 + 30 + 30 = 154 of 159 bytes: the third string gets 5, the
        // fourth none, both marked as cut.
        let kept: Vec<_> = e.attrs().iter().map(|(_, v)| text(v)).collect();
        assert_eq!(kept[0], (values[0].clone(), false));
        assert_eq!(kept[1], (values[1].clone(), false));
        assert_eq!(
            kept[2],
            (
                values[2][..TEXT_LEN - MESSAGE_LEN - 2 * INLINE_STR_LEN].to_owned(),
                true
            )
        );
        assert_eq!(kept[3], (String::new(), true));
    }

    #[test]
    fn the_message_may_come_between_values() {
        let e = record(|r| {
            r.push(0, Arg::from("before"));
            r.set_message(format_args!("listener bound on {}", 8080));
            r.push(1, Arg::from("after"));
        });
        assert_eq!(e.message.as_str(), "listener bound on 8080");
        assert!(!e.message.is_truncated());
        assert_eq!(text(&e.attrs()[0].1), ("before".into(), false));
        assert_eq!(text(&e.attrs()[1].1), ("after".into(), false));
    }

    #[test]
    fn event_values_pass_through_unchanged() {
        let cut = EventValue::from("y".repeat(40).as_str());
        let e = record(|r| {
            r.push(
                0,
                Arg::from(EventValue::Static(
                    "a static string longer than thirty bytes",
                )),
            );
            r.push(1, Arg::from(&cut));
            r.push(2, Arg::from(EventValue::Empty));
        });
        assert!(matches!(
            e.attrs()[0].1,
            EventValue::Static("a static string longer than thirty bytes")
        ));
        assert_eq!(text(&e.attrs()[1].1), ("y".repeat(INLINE_STR_LEN), true));
        assert!(matches!(e.attrs()[2].1, EventValue::Empty));
    }

    #[test]
    fn a_short_copy_is_exact_at_every_length() {
        let src: Vec<u8> = (0..64).map(|i| i as u8 ^ 0x5a).collect();
        for n in 0..=64 {
            let mut dst = [MaybeUninit::new(0xff_u8); 64];
            copy_short(&mut dst[..n], &src[..n]);
            // SAFETY: every byte was initialised above.
            let got: Vec<u8> = dst.iter().map(|b| unsafe { b.assume_init() }).collect();
            assert_eq!(&got[..n], &src[..n], "{n}");
            assert!(
                got[n..].iter().all(|&b| b == 0xff),
                "{n}: wrote past the end"
            );
        }
    }
}
