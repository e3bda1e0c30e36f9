//! Time-bucket keys (`2016-01`, `2016-W01`, `2016-01-04T13:00`, what
//! `--key 'month(date)'` writes) on a time axis: each bucket at its start,
//! in days since 1970, so gaps in time are gaps on the axis, and ticks
//! labelled as the buckets are.

use mapfold_core::derive::{civil, days};

/// How fine a series' time buckets are, which its tick labels follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    Month,
    Day,
    Minute,
}

fn num(t: &str, len: usize) -> Option<u32> {
    (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
}

/// The start of a bucket key, in days since 1970-01-01, and its grain.
fn parse(key: &str) -> Option<(f64, Grain)> {
    let (y, rest) = key.split_once('-')?;
    let y = num(y, 4)? as i32;
    if let Some(q) = rest.strip_prefix('Q') {
        let q = num(q, 1).filter(|q| (1..=4).contains(q))?;
        return Some((days(y, 3 * q - 2, 1) as f64, Grain::Month));
    }
    if let Some(w) = rest.strip_prefix('W') {
        let w = num(w, 2).filter(|w| (1..=53).contains(w))?;
        // Week 1 holds January 4th; weeks start on Monday.
        let jan4 = days(y, 1, 4);
        let monday = jan4 - (jan4 + 3).rem_euclid(7);
        return Some(((monday + 7 * i64::from(w - 1)) as f64, Grain::Day));
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let (m, d) = match date.split_once('-') {
        Some((m, d)) => (num(m, 2)?, Some(num(d, 2)?)),
        None => (num(date, 2)?, None),
    };
    if !(1..=12).contains(&m) || d.is_some_and(|d| !(1..=31).contains(&d)) {
        return None;
    }
    let start = days(y, m, d.unwrap_or(1)) as f64;
    match (d, time) {
        (None, None) => Some((start, Grain::Month)),
        (Some(_), None) => Some((start, Grain::Day)),
        (Some(_), Some(t)) => {
            let (h, mi) = t.split_once(':')?;
            let (h, mi) = (num(h, 2)?, num(mi, 2)?);
            (h < 24 && mi < 60).then(|| (start + f64::from(h * 60 + mi) / 1440.0, Grain::Minute))
        }
        (None, Some(_)) => None,
    }
}

/// The grain of `keys` when every one is a time bucket (and there are
/// two at least), the finest among them.
pub fn grain<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<Grain> {
    let mut fine = None;
    let mut n = 0;
    for k in keys {
        let (_, g) = parse(k)?;
        n += 1;
        fine = Some(match (fine, g) {
            (Some(Grain::Minute), _) | (_, Grain::Minute) => Grain::Minute,
            (Some(Grain::Day), _) | (_, Grain::Day) => Grain::Day,
            _ => Grain::Month,
        });
    }
    fine.filter(|_| n >= 2)
}

/// A bucket key's place on the axis.
pub fn position(key: &str) -> Option<f64> {
    parse(key).map(|(x, _)| x)
}

/// The tick label of axis position `x` at grain `g`: `2016-03`,
/// `2016-03-04`, `2016-03-04 13:00`.
pub fn label(x: f64, g: Grain) -> String {
    if !x.is_finite() || x.abs() > 3e6 {
        return String::new();
    }
    let day = x.floor();
    let (y, m, d) = civil(day as i64);
    match g {
        Grain::Month => format!("{y:04}-{m:02}"),
        Grain::Day => format!("{y:04}-{m:02}-{d:02}"),
        Grain::Minute => {
            let mins = ((x - day) * 1440.0).round() as u32;
            format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", mins / 60, mins % 60)
        }
    }
}

/// Ticks of a time axis over `lo..hi` (days since 1970) and their labels,
/// at calendar boundaries: the first of every 1, 2, 3, 6 or 12 months
/// (`2016-03`, or `2016` by years) over a long span, every 1, 2, 7 or 14
/// days (`2016-03-04`) over weeks, every 1 to 12 hours (`03-04 13:00`)
/// within days; ten at most.
pub fn ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) || hi - lo > 3e6 {
        return Vec::new();
    }
    let span = hi - lo;
    let fits = |n: f64| n <= 10.0;
    if span > 45.0 {
        let (y0, m0, _) = civil(lo.floor() as i64);
        let months = span / 30.44;
        let step = [1, 2, 3, 6, 12, 24, 60, 120, 240, 600]
            .into_iter()
            .find(|&k| fits(months / k as f64))
            .unwrap_or(1200);
        // Month index since year 0, rounded up to a multiple of the step.
        let mut k = (i64::from(y0) * 12 + i64::from(m0) - 1).div_euclid(step) * step;
        let mut out = Vec::new();
        loop {
            let (y, m) = (k.div_euclid(12) as i32, (k.rem_euclid(12) + 1) as u32);
            let x = days(y, m, 1) as f64;
            if x > hi {
                return out;
            }
            if x >= lo {
                let label = if step >= 12 {
                    format!("{y:04}")
                } else {
                    format!("{y:04}-{m:02}")
                };
                out.push((x, label));
            }
            k += step;
        }
    }
    let (step, unit) = if span > 2.0 {
        let k = [1.0, 2.0, 7.0, 14.0, 28.0]
            .into_iter()
            .find(|&k| fits(span / k))
            .unwrap_or(28.0);
        (k, 1.0)
    } else {
        let h = [1.0, 2.0, 3.0, 6.0, 12.0, 24.0]
            .into_iter()
            .find(|&k| fits(span * 24.0 / k))
            .unwrap_or(24.0);
        (h, 1.0 / 24.0)
    };
    let width = step * unit;
    let mut x = (lo / width).ceil() * width;
    let mut out = Vec::new();
    while x <= hi + 1e-9 {
        let label = if unit == 1.0 {
            label(x, Grain::Day)
        } else {
            let full = label(x, Grain::Minute);
            full.get(5..).unwrap_or_default().to_owned()
        };
        out.push((x, label));
        x += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_on_a_time_axis() {
        assert_eq!(position("1970-01"), Some(0.0));
        assert_eq!(position("1970-01-02"), Some(1.0));
        assert_eq!(position("1970-01-01T12:00"), Some(0.5));
        assert_eq!(position("1970-Q2"), Some(90.0));
        // 2016-W01 starts on Monday 2016-01-04.
        assert_eq!(position("2016-W01"), position("2016-01-04"));
        assert_eq!(position("2016"), None);
        assert_eq!(position("Apia"), None);
        assert_eq!(grain(["2016-01", "2016-02"]), Some(Grain::Month));
        assert_eq!(grain(["2016-01", "x"]), None);
        assert_eq!(
            label(position("2016-03-04T13:05").expect("key"), Grain::Minute),
            "2016-03-04 13:05"
        );
        // A year of weeks: months, at their first days.
        let t = ticks(days(2025, 1, 6) as f64, days(2025, 12, 29) as f64);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["2025-03", "2025-05", "2025-07", "2025-09", "2025-11"]
        );
        assert!(t.iter().all(|(x, _)| civil(*x as i64).2 == 1));
        let t = ticks(days(2016, 1, 1) as f64, days(2016, 1, 20) as f64);
        // Every second day over 19 days.
        assert_eq!(
            (t[0].1.as_str(), t[1].1.as_str()),
            ("2016-01-02", "2016-01-04")
        );
        let t = ticks(0.0, 0.5);
        assert_eq!(t[1].1, "01-01 02:00");
    }
}
