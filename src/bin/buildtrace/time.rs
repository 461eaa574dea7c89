//! Times as Jaeger gives them (microseconds) and as people read them.
//!
//! Jaeger's API speaks microseconds since the Unix epoch; the CLI prints
//! UTC timestamps in RFC 3339 and short durations, and reads a look-back
//! window such as `2d`. Plain integer arithmetic, so the CLI needs no date
//! library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats microseconds since the Unix epoch as an RFC 3339 UTC timestamp
/// with millisecond precision: `2026-11-26T08:14:43.274Z`.
pub(crate) fn rfc3339_millis(micros: u64) -> String {
    let secs = micros / 1_000_000;
    let millis = (micros % 1_000_000) / 1_000;
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    // Days since 1970 fit an i64 for every u64 of microseconds.
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(i64::MAX));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction: month 1..=12, day 1..=31.
    (year, month as u32, day as u32)
}

/// Formats a duration in microseconds for a person: `850 µs`, `23.6 ms`,
/// `1.25 s`, `2m05s`.
pub(crate) fn human_duration(micros: u64) -> String {
    match micros {
        0..=999 => format!("{micros} µs"),
        1_000..=999_999 => format!("{:.1} ms", micros as f64 / 1e3),
        1_000_000..=59_999_999 => format!("{:.2} s", micros as f64 / 1e6),
        _ => {
            let secs = micros / 1_000_000;
            format!("{}m{:02}s", secs / 60, secs % 60)
        }
    }
}

/// Parses a look-back window: a positive whole number of seconds, minutes,
/// hours or days (`90s`, `30m`, `6h`, `2d`).
///
/// # Errors
/// A message for clap, when the text is not such a window.
pub(crate) fn parse_lookback(text: &str) -> Result<Duration, String> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&i| i > 0)
        .ok_or("expected a number and a unit, such as 30m, 6h or 2d")?;
    let (number, unit) = text.split_at(unit_at);
    let n: u64 = number.parse().map_err(|_| "the number is too large")?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit `{unit}`: use s, m, h or d")),
    };
    match n.checked_mul(scale) {
        Some(0) => Err("the window must be longer than zero".into()),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Err("the window is too long".into()),
    }
}

/// Formats a look-back window in its largest whole unit: `2d`, `90m`.
pub(crate) fn window(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0 => "0s".into(),
        _ if secs.is_multiple_of(86_400) => format!("{}d", secs / 86_400),
        _ if secs.is_multiple_of(3_600) => format!("{}h", secs / 3_600),
        _ if secs.is_multiple_of(60) => format!("{}m", secs / 60),
        _ => format!("{secs}s"),
    }
}

/// Now, in microseconds since the Unix epoch.
pub(crate) fn now_micros() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        // `date -u -d @1795680883.274061 +%FT%T.%3NZ`
        assert_eq!(
            rfc3339_millis(1_795_680_883_274_061),
            "2026-11-26T08:14:43.274Z"
        );
        // A leap day, and the last microsecond of a leap year.
        assert_eq!(
            rfc3339_millis(1_709_164_800_000_000),
            "2024-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339_millis(1_735_689_599_999_999),
            "2024-12-31T23:59:59.999Z"
        );
        // Century rules: 2000 is a leap year, 2100 is not.
        assert_eq!(
            rfc3339_millis(951_782_400_000_000),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339_millis(4_107_542_400_000_000),
            "2100-03-01T00:00:00.000Z"
        );
        // Hostile input does not panic.
        assert!(rfc3339_millis(u64::MAX).ends_with('Z'));
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(human_duration(0), "0 µs");
        assert_eq!(human_duration(999), "999 µs");
        assert_eq!(human_duration(23_622), "23.6 ms");
        assert_eq!(human_duration(1_250_000), "1.25 s");
        assert_eq!(human_duration(125_000_000), "2m05s");
    }

    #[test]
    fn lookback_takes_a_number_and_a_unit() {
        assert_eq!(parse_lookback("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_lookback("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_lookback("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_lookback("2d"), Ok(Duration::from_secs(172_800)));
        for text in ["90s", "90m", "6h", "2d"] {
            assert_eq!(window(parse_lookback(text).unwrap()), text);
        }
        for bad in [
            "",
            "2",
            "d",
            "-1h",
            "1.5h",
            "2w",
            "0h",
            "99999999999999999999d",
        ] {
            assert!(parse_lookback(bad).is_err(), "{bad:?} accepted");
        }
    }
}
