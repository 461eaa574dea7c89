//! Medians, ranges, ratios and number formatting.

pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

pub fn range(values: &[f64]) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lo, hi))
}

/// A number with about three significant digits and thin grouping of
/// thousands ("12 345", "123", "12.3", "1.23", "0.123").
pub fn num(x: f64) -> String {
    let a = x.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if a >= 100.0 {
        format!("{:.0}", x)
    } else if a >= 10.0 {
        format!("{:.1}", x)
    } else if a >= 1.0 {
        format!("{:.2}", x)
    } else {
        format!("{:.3}", x)
    };
    group(&s)
}

fn group(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if int.len() <= 3 {
        return s.to_string();
    }
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    format!("{sign}{out}{frac}")
}

/// `x / base` as "1.23×", or "1/1 960" when far below one; "—" when either
/// is missing or the base is zero.
pub fn ratio(x: Option<f64>, base: Option<f64>) -> String {
    match (x, base) {
        (Some(x), Some(b)) if b > 0.0 && x.is_finite() && b.is_finite() => {
            let r = x / b;
            if (0.1..10.0).contains(&r) || r == 0.0 {
                format!("{r:.2}×")
            } else if r >= 10.0 {
                format!("{}×", num(r))
            } else {
                format!("1/{}", group(&format!("{:.0}", b / x)))
            }
        }
        _ => "—".to_string(),
    }
}

/// "12.3 (10.1–15.2)", or "—".
pub fn median_range(values: &[f64]) -> String {
    match (median(values), range(values)) {
        (Some(m), Some((lo, hi))) if lo == hi => num(m),
        (Some(m), Some((lo, hi))) => format!("{} ({}–{})", num(m), num(lo), num(hi)),
        _ => "—".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ratios() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(ratio(Some(2.0), Some(1.0)), "2.00×");
        assert_eq!(ratio(Some(1.0), Some(1992.0)), "1/1 992");
        assert_eq!(ratio(Some(1.0), None), "—");
        assert_eq!(num(12345.6), "12 346");
        assert_eq!(num(0.4321), "0.432");
    }
}
