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
    }
}
