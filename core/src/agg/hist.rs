//! A fixed-edge histogram of a group's values, with underflow, overflow and
//! NaN bins so that every value is counted somewhere.

use serde_json::{Value, json};

use super::{Fields, Partial, json_f64, read_f64, read_u64, write_f64, write_u64};
use crate::error::DecodeError;

/// `bins` equal bins over `[lo, hi]`. Bin `i` holds
/// `floor((x - lo) * bins / (hi - lo)) == i`; `x == hi` falls in the last bin
/// (as in numpy), `x < lo` (and -inf) in underflow, `x > hi` (and +inf) in
/// overflow. The bin of a value depends on nothing but the value, so merging
/// is exact.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistLayout {
    pub lo: f64,
    pub hi: f64,
    pub bins: u32,
}

/// The largest `BINS` accepted: a million bins is already 8 MB per group.
pub const MAX_BINS: u32 = 1_000_000;

impl HistLayout {
    /// Parses `LO:HI:BINS`, e.g. `-5:5:100`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let [lo, hi, bins] = parts[..] else {
            return Err("expected LO:HI:BINS, e.g. -5:5:100".into());
        };
        let num = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{s:?} is not a finite number"))
        };
        let (lo, hi) = (num(lo)?, num(hi)?);
        let bins: u32 = bins
            .trim()
            .parse()
            .map_err(|_| format!("{bins:?} is not a whole number of bins"))?;
        if lo >= hi || !(hi - lo).is_finite() {
            return Err(format!("LO ({lo}) must be below HI ({hi})"));
        }
        if bins == 0 || bins > MAX_BINS {
            return Err(format!("BINS must be 1..={MAX_BINS}"));
        }
        Ok(Self { lo, hi, bins })
    }
}

impl std::fmt::Display for HistLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.lo, self.hi, self.bins)
    }
}

/// Counts per bin. Identity: no layout (merging into it adopts the other's).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hist {
    layout: Option<HistLayout>,
    /// `bins / (hi - lo)`, derived from the layout.
    scale: f64,
    pub counts: Vec<u64>,
    pub underflow: u64,
    pub overflow: u64,
    pub nan: u64,
}

impl Hist {
    pub fn new(layout: HistLayout) -> Self {
        Self {
            layout: Some(layout),
            scale: f64::from(layout.bins) / (layout.hi - layout.lo),
            counts: vec![0; layout.bins as usize],
            ..Self::default()
        }
    }

    pub fn layout(&self) -> Option<HistLayout> {
        self.layout
    }
}

impl Partial for Hist {
    const TAG: &'static str = "h";

    #[inline]
    fn update(&mut self, x: f64) {
        let Some(l) = &self.layout else { return };
        // The in-range case first: one test pair for most values.
        if x >= l.lo && x <= l.hi {
            // In range, so the product is in [0, bins] and bins fit a u32
            // (a cheaper conversion than to usize); `as` saturates.
            let i = ((x - l.lo) * self.scale) as u32 as usize;
            let last = self.counts.len() - 1;
            self.counts[i.min(last)] += 1;
        } else if x < l.lo {
            self.underflow += 1;
        } else if x > l.hi {
            self.overflow += 1;
        } else {
            self.nan += 1;
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        match (self.layout, other.layout) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "histograms with different edges ({a} and {b}): were these partials \
                 written by different jobs?"
            )),
            _ => Ok(()),
        }
    }

    fn merge(&mut self, other: &Self) {
        if other.layout.is_none() {
            return;
        }
        if self.layout.is_none() {
            *self = other.clone();
            return;
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.underflow += other.underflow;
        self.overflow += other.overflow;
        self.nan += other.nan;
    }

    fn finish(&self, out: &mut Fields) {
        let Some(l) = &self.layout else { return };
        out.insert(
            "hist".into(),
            json!({
                "lo": json_f64(l.lo),
                "hi": json_f64(l.hi),
                "bins": Value::from(self.counts.clone()),
                "underflow": self.underflow,
                "overflow": self.overflow,
                "nan": self.nan,
            }),
        );
    }

    fn is_identity(&self) -> bool {
        self.layout.is_none()
    }

    /// `LO:HI:BINS;C0,C1,...;UNDER,OVER,NAN`
    fn encode(&self, out: &mut Vec<u8>) {
        let Some(l) = &self.layout else { return };
        write_f64(out, l.lo);
        out.push(b':');
        write_f64(out, l.hi);
        out.push(b':');
        write_u64(out, u64::from(l.bins));
        out.push(b';');
        for (i, c) in self.counts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_u64(out, *c);
        }
        out.push(b';');
        for (i, c) in [self.underflow, self.overflow, self.nan].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_u64(out, *c);
        }
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let bad = || DecodeError::new("histogram", payload);
        let parts: Vec<&[u8]> = payload.split(|&b| b == b';').collect();
        let [layout, counts, tails] = parts[..] else {
            return Err(bad());
        };
        let l: Vec<&[u8]> = layout.split(|&b| b == b':').collect();
        let [lo, hi, bins] = l[..] else {
            return Err(bad());
        };
        let layout = HistLayout {
            lo: read_f64(lo, "histogram lo")?,
            hi: read_f64(hi, "histogram hi")?,
            bins: u32::try_from(read_u64(bins, "histogram bins")?).map_err(|_| bad())?,
        };
        // Re-validate through the flag parser's rules.
        let layout = HistLayout::parse(&layout.to_string()).map_err(|_| bad())?;
        let mut h = Hist::new(layout);
        let mut n = 0;
        for (slot, c) in h.counts.iter_mut().zip(counts.split(|&b| b == b',')) {
            *slot = read_u64(c, "histogram count")?;
            n += 1;
        }
        if n != h.counts.len() || counts.split(|&b| b == b',').count() != n {
            return Err(bad());
        }
        let t: Vec<&[u8]> = tails.split(|&b| b == b',').collect();
        let [u, o, nan] = t[..] else {
            return Err(bad());
        };
        h.underflow = read_u64(u, "underflow")?;
        h.overflow = read_u64(o, "overflow")?;
        h.nan = read_u64(nan, "nan count")?;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    fn layout() -> HistLayout {
        HistLayout::parse("-5:5:10").expect("valid")
    }

    #[test]
    fn edges_and_tails() {
        let h = laws::fold(
            &Hist::new(layout()),
            &[
                -5.0,
                -4.0000001,
                5.0,
                4.999,
                0.0,
                -5.1,
                7.0,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ],
        );
        assert_eq!(h.counts, vec![2, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!((h.underflow, h.overflow, h.nan), (2, 2, 1));
    }

    #[test]
    fn parse_rejects_nonsense() {
        for bad in [
            "",
            "1:2",
            "2:1:5",
            "0:1:0",
            "a:1:2",
            "0:inf:3",
            "0:1:2.5",
            "-1e308:1e308:2",
        ] {
            assert!(HistLayout::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(layout().to_string(), "-5:5:10");
    }

    #[test]
    fn different_edges_do_not_merge() {
        let a = Hist::new(layout());
        let b = Hist::new(HistLayout::parse("0:1:10").expect("valid"));
        assert!(a.check_merge(&b).is_err());
        assert!(a.check_merge(&Hist::default()).is_ok());
    }

    #[test]
    fn decode_rejects_wrong_bin_count() {
        assert!(Hist::decode(b"0:1:3;1,2;0,0,0").is_err());
        assert!(Hist::decode(b"0:1:3;1,2,3,4;0,0,0").is_err());
        assert!(Hist::decode(b"0:1:3;1,2,3;0,0,0").is_ok());
    }

    proptest! {
        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(laws::value(), 0..200),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8),
                                 seed: u64, tree: bool) {
            laws::check(&Hist::new(layout()), &xs, &cuts, seed, tree);
        }
    }
}
