//! A startup span as a terminal timeline, from process start to ready.
//!
//! buildtrace's `startup` span starts when the process started (as the OS
//! reports it) and ends at init, or at `buildtrace::ready()`; its events are
//! the startup records at their original times. Each becomes a row: its
//! offset from the span's start, a bar proportional to that offset, its
//! name and fields. Markers in brackets show the span's own milestones.
//!
//! ```text
//! startup: 2 events, process start to ready in 23.6 ms
//!   +  0.0 ms  ▏                          [process start]
//!   +  3.1 ms  ▏███▏                      config.loaded  path=app.toml
//!   + 16.9 ms  ▏█████████████████▏        [init]
//!   + 23.6 ms  ▏████████████████████████  [ready]
//! ```

use std::io::{self, Write};

use serde_json::Value;

use crate::inspect::render::escape_terminal;
use crate::names::startup::{
    CONSTRUCTOR_MS, DROPPED_COUNT, SPAN_NAME, START_SOURCE, TO_INIT_MS, TO_READY_MS,
};

use super::model::EVENT_FIELD;
use super::{tag, time, Span};

/// The bar's width in cells at the span's end.
const BAR_CELLS: u64 = 24;
/// A cell split in eighths, for sub-cell resolution.
const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/// One row: an offset from the span's start, and what happened.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    offset_us: i64,
    label: String,
    fields: String,
}

/// Writes `span`'s events as a timeline: a title line, then one row per
/// event and milestone in time order.
///
/// # Errors
/// Any error from `out`.
pub fn write(out: &mut impl Write, span: &Span) -> io::Result<()> {
    let rows = rows(span);
    let events = span.logs.len();
    let end = if tag(&span.tags, TO_READY_MS).is_some() {
        "ready"
    } else {
        "init"
    };
    writeln!(
        out,
        "{SPAN_NAME}: {events} event{}, process start to {end} in {}",
        if events == 1 { "" } else { "s" },
        time::human_duration(span.duration_us)
    )?;
    // Events after the span's end (recorded late) widen the scale rather
    // than overflow the bar.
    let scale = (rows.iter().map(|r| r.offset_us).max().unwrap_or(0))
        .max(i64::try_from(span.duration_us).unwrap_or(i64::MAX))
        .max(1);
    let ms = |r: &Row| format!("{:.1}", r.offset_us.unsigned_abs() as f64 / 1e3);
    // Room for `999.9` at least, so short startups line up alike.
    let width = rows.iter().map(|r| ms(r).len()).max().unwrap_or(0).max(5);
    for row in &rows {
        let sign = if row.offset_us < 0 { '-' } else { '+' };
        let line = format!(
            "  {sign}{:>width$} ms  ▏{}  {}{}",
            ms(row),
            bar(row.offset_us, scale),
            row.label,
            row.fields
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    let dropped = tag(&span.tags, DROPPED_COUNT)
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if dropped > 0 {
        writeln!(
            out,
            "  and {dropped} later record{} lost to a full startup ring",
            if dropped == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}

fn rows(span: &Span) -> Vec<Row> {
    let micros_of_ms = |key| {
        tag(&span.tags, key)
            .and_then(Value::as_f64)
            .map(|ms| (ms * 1e3).round() as i64)
    };
    let duration = i64::try_from(span.duration_us).unwrap_or(i64::MAX);
    let marker = |offset_us, label: &str| Row {
        offset_us,
        label: format!("[{label}]"),
        fields: String::new(),
    };
    let start = match tag(&span.tags, START_SOURCE).and_then(Value::as_str) {
        Some("os") | None => "process start".to_owned(),
        Some(other) => format!("start: {}", escape_terminal(other)),
    };
    let mut rows = vec![marker(0, &start)];
    rows.extend(micros_of_ms(CONSTRUCTOR_MS).map(|at| marker(at, "before main")));
    rows.extend(span.logs.iter().map(|log| {
        let name = tag(&log.fields, EVENT_FIELD).map_or_else(String::new, |v| text(v, false));
        let fields: String = (log.fields.iter())
            .filter(|f| f.key != EVENT_FIELD)
            .map(|f| format!("  {}={}", escape_terminal(&f.key), text(&f.value, true)))
            .collect();
        Row {
            offset_us: i64::try_from(log.timestamp_us)
                .unwrap_or(i64::MAX)
                .saturating_sub(i64::try_from(span.start_us).unwrap_or(i64::MAX)),
            label: name,
            fields,
        }
    }));
    match (micros_of_ms(TO_INIT_MS), micros_of_ms(TO_READY_MS)) {
        (init, Some(_)) => {
            rows.extend(init.map(|at| marker(at, "init")));
            rows.push(marker(duration, "ready"));
        }
        (_, None) => rows.push(marker(duration, "init")),
    }
    // Stable: at equal times, the start marker comes first, init and ready
    // after the events.
    rows.sort_by_key(|r| r.offset_us);
    rows
}

/// A value for a terminal; `quoted` strings get quotes when they hold
/// spaces or `=`, so `key=value` pairs stay readable.
fn text(value: &Value, quoted: bool) -> String {
    let plain = match value {
        Value::String(s) if quoted && (s.is_empty() || s.contains([' ', '='])) => value.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    escape_terminal(&plain).into_owned()
}

/// `offset` of `scale` as a bar of up to [`BAR_CELLS`] cells, padded.
fn bar(offset_us: i64, scale: i64) -> String {
    let offset = u64::try_from(offset_us.clamp(0, scale)).unwrap_or(0);
    let scale = u64::try_from(scale).unwrap_or(1);
    // Rounded to the nearest eighth of a cell.
    let eighths = (u128::from(offset) * u128::from(BAR_CELLS * 8) + u128::from(scale) / 2)
        / u128::from(scale);
    let eighths = u64::try_from(eighths).unwrap_or(BAR_CELLS * 8);
    let full = (eighths / 8) as usize;
    let partial = EIGHTHS[(eighths % 8) as usize];
    let drawn = full + usize::from(!partial.is_empty());
    format!(
        "{}{partial}{}",
        "█".repeat(full),
        " ".repeat(BAR_CELLS as usize - drawn)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jaeger::{Log, Tag};
    use serde_json::json;

    fn tags(list: &[(&str, Value)]) -> Vec<Tag> {
        (list.iter())
            .map(|(k, v)| Tag {
                key: (*k).into(),
                value: v.clone(),
            })
            .collect()
    }

    fn startup(span_tags: &[(&str, Value)], logs: &[(u64, &[(&str, Value)])]) -> Span {
        Span {
            span_id: "s".into(),
            operation: SPAN_NAME.into(),
            start_us: 1_000_000,
            duration_us: 24_000,
            process_id: "p1".into(),
            references: vec![],
            tags: tags(span_tags),
            logs: (logs.iter())
                .map(|(at, fields)| Log {
                    timestamp_us: 1_000_000 + at,
                    fields: tags(fields),
                })
                .collect(),
        }
    }

    fn render(span: &Span) -> String {
        let mut out = Vec::new();
        write(&mut out, span).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_are_proportional_and_end_at_ready() {
        let span = startup(
            &[
                (START_SOURCE, json!("os")),
                (CONSTRUCTOR_MS, json!(1.0)),
                (TO_INIT_MS, json!(18.0)),
                (TO_READY_MS, json!(24.0)),
            ],
            &[
                (
                    3_100,
                    &[
                        ("event", json!("config.loaded")),
                        ("path", json!("app.toml")),
                        ("entries", json!(42)),
                    ],
                ),
                (
                    12_000,
                    &[("event", json!("listener bound")), ("addr", json!("a b"))],
                ),
            ],
        );
        assert_eq!(
            render(&span),
            "startup: 2 events, process start to ready in 24.0 ms\n\
             \x20 +  0.0 ms  ▏                          [process start]\n\
             \x20 +  1.0 ms  ▏█                         [before main]\n\
             \x20 +  3.1 ms  ▏███▏                      config.loaded  path=app.toml  entries=42\n\
             \x20 + 12.0 ms  ▏████████████              listener bound  addr=\"a b\"\n\
             \x20 + 18.0 ms  ▏██████████████████        [init]\n\
             \x20 + 24.0 ms  ▏████████████████████████  [ready]\n"
        );
    }

    #[test]
    fn without_ready_the_span_ends_at_init_and_reports_losses() {
        let span = startup(
            &[
                (START_SOURCE, json!("first_event")),
                (DROPPED_COUNT, json!(3)),
            ],
            &[(0, &[("event", json!("main\u{202e}"))])],
        );
        assert_eq!(
            render(&span),
            "startup: 1 event, process start to init in 24.0 ms\n\
             \x20 +  0.0 ms  ▏                          [start: first_event]\n\
             \x20 +  0.0 ms  ▏                          main\\u{202e}\n\
             \x20 + 24.0 ms  ▏████████████████████████  [init]\n\
             \x20 and 3 later records lost to a full startup ring\n"
        );
    }

    #[test]
    fn bars_round_to_eighths_and_stay_in_bounds() {
        assert_eq!(bar(0, 24), " ".repeat(24));
        assert_eq!(bar(24, 24), "█".repeat(24));
        assert_eq!(bar(99, 24), "█".repeat(24));
        assert_eq!(bar(-5, 24), " ".repeat(24));
        assert_eq!(bar(1, 192), format!("▏{}", " ".repeat(23)));
        assert_eq!(bar(i64::MAX, i64::MAX), "█".repeat(24));
    }
}
