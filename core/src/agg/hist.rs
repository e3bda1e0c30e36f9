//! A fixed-edge histogram of a group's values, with underflow, overflow and
//! NaN bins so that every value is counted somewhere.

use super::measure::{Check, Flag, Given, flag_error};
use super::{Finish, Partial, read_f64, read_u64, write_f64, write_u64};
use crate::error::{DecodeError, Error};
use crate::json::Obj;
use crate::spec::Column;

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

/// The fast path's safety margin per bin, 2^-48: a factor of six over the
/// worst rounding error of `(x - lo) * (bins / (hi - lo))`.
const MARGIN: f64 = 1.0 / (1u64 << 48) as f64;

/// `floor((x - lo) * bins / (hi - lo))` in exact arithmetic, for `x` in
/// `[lo, hi]` (the caller clamps `x == hi` into the last bin): the `k`
/// with `k (hi - lo) <= (x - lo) bins < (k + 1) (hi - lo)`, found from the
/// rounded position (one off at most) by exact comparisons, not a
/// division. Values near an edge come here: integers on integer edges do,
/// every one, so numbers that fit 128 bits take the short way.
#[cold]
fn exact_bin(l: &HistLayout, x: f64) -> usize {
    let bins = u64::from(l.bins);
    let t = (x - l.lo) / (l.hi - l.lo) * bins as f64;
    let start = if t.is_finite() {
        (t as u64).min(bins)
    } else {
        bins
    };
    let (xd, lo, hi) = (dyadic(x), dyadic(l.lo), dyadic(l.hi));
    let e0 = xd.1.min(lo.1).min(hi.1);
    let widest = (xd.1.max(lo.1).max(hi.1) - e0) as u32;
    if widest <= 50 {
        // 53 + 50 bits, plus one for the difference, times bins < 2^20.
        let at = |(m, e): (i64, i32)| i128::from(m) << (e - e0);
        let num = (at(xd) - at(lo)) * i128::from(bins);
        let den = at(hi) - at(lo);
        return settle(start, bins, &|k| i128::from(k) * den <= num);
    }
    // Magnitudes too far apart for 128 bits: the exact sign of
    // (x - lo) bins - k (hi - lo), summed in a superaccumulator (no big
    // integers in the mapper).
    settle(start, bins, &|k| {
        let mut s = crate::superacc::Superacc::default();
        for (v, c, neg) in [
            (l.hi, k, true),
            (l.lo, k, false),
            (l.lo, bins, true),
            (x, bins, false),
        ] {
            let (m, pos, n) = crate::superacc::split(v);
            if m != 0 && c != 0 {
                s.add_product(m, c, pos, n ^ neg);
            }
        }
        s.signum() >= 0
    })
}

/// The largest `k` in `0..=bins` with `reached(k)` (which holds for 0 and
/// fails from some `k` on), from the guess `k`.
/// One copy for both callers (a generic one was unrolled and vectorised,
/// kilobytes of the static mapper for a loop that rarely turns).
fn settle(mut k: u64, bins: u64, reached: &dyn Fn(u64) -> bool) -> usize {
    // The guess is right but for values a rounding away from an edge.
    if (k == 0 || reached(k)) && (k == bins || !reached(k + 1)) {
        return k as usize;
    }
    while k > 0 && !reached(k) {
        k -= 1;
    }
    while k < bins && reached(k + 1) {
        k += 1;
    }
    k as usize
}

/// A finite `x` as `(m, e)` with `x = m * 2^e` and `m` odd (or zero).
fn dyadic(x: f64) -> (i64, i32) {
    let (m, pos, neg) = crate::superacc::split(x);
    if m == 0 {
        return (0, 0);
    }
    let tz = m.trailing_zeros();
    let m = (m >> tz) as i64;
    (if neg { -m } else { m }, (pos + tz) as i32 - 1074)
}

/// Where a value falls in a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Bin(usize),
    Under,
    Over,
    Nan,
}

/// The place of `x` in `l`, with `scale = bins / (hi - lo)` and the fast
/// path's `margin` (see [`Hist::new`]).
#[inline(always)]
pub(crate) fn place(l: &HistLayout, scale: f64, margin: f64, x: f64) -> Place {
    // The in-range case first: one test pair for most values.
    if x >= l.lo && x <= l.hi {
        // In range, so the product is in [0, bins] (give or take its
        // rounding) and bins fit a u32 (a cheaper conversion than to
        // usize); `as` saturates. Three roundings put `t` within
        // bins * 2^-50.6 of the exact position, so its bin is certain
        // unless it lies within `margin` of an edge; then the exact
        // rational computation decides, and a value on an edge is
        // binned by the documented rule, not by a rounding.
        let t = (x - l.lo) * scale;
        // `t`'s integer part without a conversion to an integer and back
        // (a long chain on every value): adding 1.5 * 2^52 to `t - 0.5`
        // rounds it to an integer `whole` in [t - 1, t] (the sum lies
        // where doubles are the integers), held in the sum's low 24 bits
        // (`t` is at most a million, the most bins, below 2^20). `t - whole`
        // is then exact (the two are within a factor of two, or `whole`
        // is 0); where rounding put `whole` one off, that difference is
        // within `margin` of 0 or 1, and the exact computation decides.
        const SHIFT: f64 = (3u64 << 51) as f64;
        let r = (t - 0.5) + SHIFT;
        let frac = t - (r - SHIFT);
        // A fast bin is below `bins`: a `t` near `bins` (x at `hi`) is
        // within `margin` of an edge, and the exact rule puts `hi` in the
        // last bin.
        Place::Bin(if frac > margin && frac < 1.0 - margin {
            (r.to_bits() & 0xFF_FFFF) as usize
        } else {
            exact_bin(l, x).min(l.bins as usize - 1)
        })
    } else if x < l.lo {
        Place::Under
    } else if x > l.hi {
        Place::Over
    } else {
        Place::Nan
    }
}

impl HistLayout {
    /// `bins / (hi - lo)` and the fast path's margin, for [`place`].
    pub(crate) fn scale_margin(&self) -> (f64, f64) {
        (
            f64::from(self.bins) / (self.hi - self.lo),
            f64::from(self.bins) * MARGIN,
        )
    }
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
        // Plain digits, but 1e308 not as 309 of them.
        let show = |x: f64| {
            if x != 0.0 && !(1e-5..1e16).contains(&x.abs()) {
                format!("{x:e}")
            } else {
                format!("{x}")
            }
        };
        if lo >= hi {
            return Err(format!("LO ({}) must be below HI ({})", show(lo), show(hi)));
        }
        if !(hi - lo).is_finite() {
            return Err(format!(
                "the width HI - LO ({} - {}) is past the largest double (1.8e308): narrow \
                 the range",
                show(hi),
                show(lo)
            ));
        }
        if !(f64::from(bins) / (hi - lo)).is_finite() {
            return Err(format!(
                "HI - LO ({:e}) is too small for {bins} bins",
                hi - lo
            ));
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
    /// How close to a bin edge the rounded position may fall before the
    /// exact computation decides (see [`Hist::update`]).
    margin: f64,
    pub counts: Vec<u64>,
    pub underflow: u64,
    pub overflow: u64,
    pub nan: u64,
}

impl Hist {
    pub fn new(layout: HistLayout) -> Self {
        Self {
            layout: Some(layout),
            scale: layout.scale_margin().0,
            margin: layout.scale_margin().1,
            counts: vec![0; layout.bins as usize],
            ..Self::default()
        }
    }

    pub fn layout(&self) -> Option<HistLayout> {
        self.layout
    }
}

impl Hist {
    /// Why this histogram cannot be of a column of `n` finite values, whose
    /// extremes are `range`, and `nonfinite` others: it must count every
    /// value once, NaNs at most the non-finite ones, and finite values only
    /// from the min's place to the max's (places are monotone in the
    /// value), with the min's and the max's places holding one at least.
    pub(crate) fn check_against(
        &self,
        n: u64,
        nonfinite: u64,
        range: Option<(f64, f64)>,
    ) -> Result<(), String> {
        let Some(l) = &self.layout else {
            return Ok(());
        };
        let wide = u128::from;
        let binned: u128 = self.counts.iter().map(|&c| wide(c)).sum();
        let total = binned + wide(self.underflow) + wide(self.overflow) + wide(self.nan);
        if total != wide(n) + wide(nonfinite) {
            return Err(format!(
                "a histogram of {total} values in a column of {} values",
                wide(n) + wide(nonfinite)
            ));
        }
        if self.nan > nonfinite {
            return Err(format!(
                "a histogram of {} NaNs in a column of {nonfinite} non-finite values",
                self.nan
            ));
        }
        // Places in order: underflow 0, bin i at i + 1, overflow last.
        let last = l.bins as usize + 1;
        let ord = |p: Place| match p {
            Place::Bin(i) => i + 1,
            Place::Over => last,
            // A finite value is never NaN's.
            Place::Under | Place::Nan => 0,
        };
        let (lo, hi) = match range {
            Some((min, max)) => (
                ord(place(l, self.scale, self.margin, min)),
                ord(place(l, self.scale, self.margin, max)),
            ),
            None if binned == 0 => return Ok(()),
            None => return Err("a histogram of finite values in a column of none".into()),
        };
        let count_at = |o: usize| match o {
            0 => self.underflow,
            o if o == last => self.overflow,
            o => self.counts[o - 1],
        };
        let stray = self
            .counts
            .iter()
            .enumerate()
            .any(|(i, &c)| c > 0 && !(lo..=hi).contains(&(i + 1)));
        // Finite values past the edges: only where the min or the max is.
        let tails = (if lo == 0 { self.underflow } else { 0 }) as u128
            + (if hi == last { self.overflow } else { 0 }) as u128;
        if stray
            || count_at(lo) == 0
            || count_at(hi) == 0
            || binned > wide(n)
            || wide(n) - binned > tails
        {
            return Err(format!(
                "a histogram whose bins do not hold the column's values from {} to {}",
                range.map_or(0.0, |r| r.0),
                range.map_or(0.0, |r| r.1)
            ));
        }
        Ok(())
    }
}

/// `--hist [COL=]LO:HI:BINS`: one histogram per value column at most.
impl super::Measure for Hist {
    const FLAGS: &'static [Flag] = &[Flag {
        repeat: true,
        hyphen: true,
        ..Flag::new(
            "hist",
            "[COL=]LO:HI:BINS",
            "Fixed-edge histogram of the value: BINS equal bins over [LO, HI], plus \
             underflow, overflow and nan bins. With several value columns, name the column: \
             `--hist temp=-5:5:100` (repeatable, one per column).",
        )
    }];

    /// Each value column's layout, if it has one.
    type Spec = Vec<Option<HistLayout>>;
    type Shape = HistLayout;
    type Input = ();

    fn parse(given: &Given, values: &[Column]) -> Result<Option<Self::Spec>, Error> {
        let texts = given.get("hist");
        if texts.is_empty() {
            return Ok(None);
        }
        let mut layouts = vec![None; values.len()];
        for h in texts {
            let bad = |why| flag_error("--hist", h, why);
            let (at, text) = hist_column(h, values).map_err(bad)?;
            let layout = HistLayout::parse(text).map_err(bad)?;
            if layouts[at].replace(layout).is_some() {
                return Err(bad("a second histogram of one column".into()));
            }
        }
        Ok(Some(layouts))
    }

    fn shape(spec: &Self::Spec, column: usize) -> Option<HistLayout> {
        spec.get(column).copied().flatten()
    }

    fn with_shape(layout: HistLayout) -> Self {
        Self::new(layout)
    }

    fn shape_of(&self) -> Option<HistLayout> {
        self.layout
    }

    const SIGIL: Option<u8> = Some(b'@');

    fn write_shape(layout: &HistLayout, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writes to a Vec cannot fail; no String in between.
        let _ = write!(out, "{layout}");
    }

    fn read_shape(text: &[u8]) -> Option<HistLayout> {
        HistLayout::parse(std::str::from_utf8(text).ok()?).ok()
    }

    fn check_state(&self, c: &Check) -> Result<(), String> {
        self.check_against(c.finite, c.nonfinite, c.range)
    }
}

/// The value column a `--hist` is for (its position in `values`) and its
/// layout: `COL=LO:HI:BINS`, or `LO:HI:BINS` when there is one column.
fn hist_column<'a>(text: &'a str, values: &[Column]) -> Result<(usize, &'a str), String> {
    match text.rsplit_once('=') {
        Some((col, layout)) => values
            .iter()
            .position(|v| v.0 == col.trim())
            .map(|at| (at, layout))
            .ok_or_else(|| format!("{:?} is not one of the --value columns", col.trim())),
        None => match values.len() {
            0 => Err("a histogram needs --value".into()),
            1 => Ok((0, text)),
            _ => Err("which column? with several --value columns, write COL=LO:HI:BINS".into()),
        },
    }
}

impl Partial for Hist {
    fn heap_size(&self) -> usize {
        self.counts.capacity() * 8
    }
    const TAG: &'static str = "h";

    #[inline(always)]
    fn update(&mut self, x: f64) {
        let Some(l) = &self.layout else { return };
        match place(l, self.scale, self.margin, x) {
            Place::Bin(i) => self.counts[i] += 1,
            Place::Under => self.underflow += 1,
            Place::Over => self.overflow += 1,
            Place::Nan => self.nan += 1,
        }
    }

    /// The layout read once for the run, not once a value.
    fn update_batch(&mut self, xs: &[f64]) {
        let Some(l) = self.layout else { return };
        let (scale, margin) = (self.scale, self.margin);
        for &x in xs {
            match place(&l, scale, margin, x) {
                Place::Bin(i) => self.counts[i] += 1,
                Place::Under => self.underflow += 1,
                Place::Over => self.overflow += 1,
                Place::Nan => self.nan += 1,
            }
        }
    }

    fn update_n(&mut self, x: f64, n: u64) {
        let Some(l) = &self.layout else { return };
        match place(l, self.scale, self.margin, x) {
            Place::Bin(i) => self.counts[i] += n,
            Place::Under => self.underflow += n,
            Place::Over => self.overflow += n,
            Place::Nan => self.nan += n,
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        match (self.layout, other.layout) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "histograms with different edges ({a} and {b}): were these partials \
                 written by different jobs?"
            )),
            _ => {
                let pairs = self.counts.iter().zip(&other.counts);
                let tails = [
                    (self.underflow, other.underflow),
                    (self.overflow, other.overflow),
                    (self.nan, other.nan),
                ];
                for (a, b) in pairs.map(|(a, b)| (*a, *b)).chain(tails) {
                    super::checked_sum([a, b], "histogram count")?;
                }
                Ok(())
            }
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

    fn finish(&self, out: &mut Obj<'_>, _: &Finish<'_>) {
        let Some(l) = &self.layout else { return };
        out.obj("hist", |h| {
            h.f64("lo", l.lo);
            h.f64("hi", l.hi);
            h.u64s("bins", &self.counts);
            h.u64("underflow", self.underflow);
            h.u64("overflow", self.overflow);
            h.u64("nan", self.nan);
        });
    }

    fn is_identity(&self) -> bool {
        self.layout.is_none()
    }

    /// `LO:HI:BINS;C0,C1,...;UNDER,OVER,NAN`, or with the bins sparse when
    /// fewer than a third are non-zero (many keys, few values each):
    /// `LO:HI:BINS;*I:C,I:C,...;UNDER,OVER,NAN`, indices increasing.
    fn encode(&self, out: &mut Vec<u8>) {
        let Some(l) = &self.layout else { return };
        write_f64(out, l.lo);
        out.push(b':');
        write_f64(out, l.hi);
        out.push(b':');
        write_u64(out, u64::from(l.bins));
        out.push(b';');
        let nonzero = self.counts.iter().filter(|&&c| c > 0).count();
        if nonzero * 3 < self.counts.len() {
            out.push(b'*');
            let mut first = true;
            for (i, &c) in self.counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                if !first {
                    out.push(b',');
                }
                first = false;
                write_u64(out, i as u64);
                out.push(b':');
                write_u64(out, c);
            }
        } else {
            for (i, c) in self.counts.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_u64(out, *c);
            }
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
        if let Some(sparse) = counts.strip_prefix(b"*") {
            // Canonical: indices increasing, counts non-zero, and sparse
            // only where the encoder would choose it.
            let mut next = 0usize;
            let mut nonzero = 0usize;
            for pair in sparse.split(|&b| b == b',').filter(|p| !p.is_empty()) {
                let colon = memchr::memchr(b':', pair).ok_or_else(bad)?;
                let i = usize::try_from(read_u64(&pair[..colon], "histogram bin")?)
                    .map_err(|_| bad())?;
                let c = read_u64(&pair[colon + 1..], "histogram count")?;
                if i < next || i >= h.counts.len() || c == 0 {
                    return Err(bad());
                }
                h.counts[i] = c;
                next = i + 1;
                nonzero += 1;
            }
            if nonzero * 3 >= h.counts.len() || (sparse.is_empty() != (nonzero == 0)) {
                return Err(bad());
            }
        } else {
            let mut n = 0;
            for (slot, c) in h.counts.iter_mut().zip(counts.split(|&b| b == b',')) {
                *slot = read_u64(c, "histogram count")?;
                n += 1;
            }
            if n != h.counts.len() || counts.split(|&b| b == b',').count() != n {
                return Err(bad());
            }
            if h.counts.iter().filter(|&&c| c > 0).count() * 3 < h.counts.len() {
                return Err(DecodeError::new(
                    "histogram (dense where sparse is canonical)",
                    payload,
                ));
            }
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

    /// The bin of every value by exact rational arithmetic (independent of
    /// the implementation): `x` is in bin `i` when `lo + i (hi - lo) / bins
    /// <= x < lo + (i + 1) (hi - lo) / bins`.
    fn oracle_bin(l: &HistLayout, x: f64) -> usize {
        use num_bigint::BigInt;
        let q = |v: f64| {
            let (m, e) = dyadic(v);
            (BigInt::from(m), e)
        };
        // Compare x against each edge with everything scaled to 2^-1074.
        let scaled = |v: f64| {
            let (m, e) = q(v);
            m << (e + 1074) as usize
        };
        let (xs, los, his) = (scaled(x), scaled(l.lo), scaled(l.hi));
        let bins = l.bins as usize;
        // x * bins >= lo * bins + i (hi - lo)  <=>  x is at or past edge i.
        let past = |i: usize| &xs * bins >= &los * bins + (&his - &los) * i;
        // The last edge `x` is at or past, below the last bin's end
        // (`past` holds for edge 0 and fails from some edge on).
        let (mut at, mut beyond) = (0, bins);
        while beyond - at > 1 {
            let mid = at + (beyond - at) / 2;
            if past(mid) {
                at = mid;
            } else {
                beyond = mid;
            }
        }
        at
    }

    #[test]
    fn values_on_and_near_edges_follow_the_exact_rule() {
        // 0.3 (the double) lies just below 3/10, so it is in bin 2 of ten
        // over [0, 1]; the rounded product 0.3 * 10 = 3 would say bin 3.
        let l = HistLayout::parse("0:1:10").expect("valid");
        let h = laws::fold(&Hist::new(l), &[0.3]);
        assert_eq!(h.counts[2], 1);
        let layouts = [
            "0:1:10",
            "-5:5:100",
            "0.1:0.7:3",
            "1894:2014:120",
            "-1e300:1e300:7",
            "0:1e-300:3",
            "-3e-300:4e-300:5",
            // Magnitudes too far apart for 128 bits.
            "1e-300:1:10",
            "-1:1e-200:4",
            "-1e-310:3e100:6",
        ];
        for text in layouts {
            let l = HistLayout::parse(text).expect("valid");
            let w = (l.hi - l.lo) / f64::from(l.bins);
            let mut xs = vec![l.lo, l.hi];
            for i in 0..=l.bins {
                let e = l.lo + w * f64::from(i);
                let mut lo = e;
                let mut hi = e;
                for _ in 0..3 {
                    lo = lo.next_down();
                    hi = hi.next_up();
                    xs.extend([lo, hi]);
                }
                xs.push(e);
            }
            for x in xs.into_iter().filter(|x| *x >= l.lo && *x <= l.hi) {
                let h = laws::fold(&Hist::new(l), &[x]);
                let got = h.counts.iter().position(|&c| c == 1);
                assert_eq!(got, Some(oracle_bin(&l, x)), "{x} in {text}");
            }
        }
    }

    /// The fast path's bin index is held in 24 bits of a double: values
    /// on and beside the edges of the widest layouts, up to the last.
    #[test]
    fn the_most_bins_follow_the_exact_rule() {
        for text in ["-5:5:1000000", "0:1:999999", "1894:2014:1000000"] {
            let l = HistLayout::parse(text).expect("valid");
            let (scale, margin) = l.scale_margin();
            let w = (l.hi - l.lo) / f64::from(l.bins);
            let edges = (0..=l.bins).step_by(9973).chain(l.bins - 40..=l.bins);
            for i in edges {
                let e = l.lo + w * f64::from(i);
                let (lo, hi) = (e.next_down(), e.next_up());
                let between = e + w * 0.37;
                for x in [lo.next_down(), lo, e, hi, between] {
                    if x < l.lo || x > l.hi {
                        continue;
                    }
                    let got = match place(&l, scale, margin, x) {
                        Place::Bin(i) => Some(i),
                        _ => None,
                    };
                    assert_eq!(got, Some(oracle_bin(&l, x)), "{x} in {text}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_value_lands_in_its_exact_bin(lo in -1e6f64..1e6, w in 1e-9f64..1e6,
                                            bins in prop_oneof![1u32..1000, 999_000u32..=MAX_BINS],
                                            f in 0.0f64..=1.0) {
            let l = HistLayout { lo, hi: lo + w, bins };
            prop_assume!(l.hi > l.lo);
            let l = HistLayout::parse(&l.to_string()).expect("valid");
            let x = (l.lo + (l.hi - l.lo) * f).clamp(l.lo, l.hi);
            let h = laws::fold(&Hist::new(l), &[x]);
            prop_assert_eq!(h.counts.iter().position(|&c| c == 1), Some(oracle_bin(&l, x)));
        }
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
        let why = HistLayout::parse("-1e308:1e308:10").expect_err("too wide");
        assert!(why.contains("width") && why.len() < 120, "{why}");
        let why = HistLayout::parse("1e300:-1e300:10").expect_err("reversed");
        assert!(why.contains("1e300") && why.len() < 80, "{why}");
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

    #[test]
    fn sparse_bins_are_canonical() {
        let l = HistLayout::parse("0:10:10").expect("valid");
        let h = laws::fold(&Hist::new(l), &[0.5, 7.5, 7.6]);
        let mut v = Vec::new();
        h.encode(&mut v);
        assert_eq!(v, b"0.0:10.0:10;*0:1,7:2;0,0,0");
        assert_eq!(Hist::decode(&v), Ok(h));
        assert!(Hist::decode(b"0:10:10;*0:1,7:2;0,0,0").is_ok());
        crate::agg::laws::rejects(
            Hist::decode,
            &[
                &b"0:10:10;*7:2,0:1;0,0,0"[..],
                b"0:10:10;*0:0;0,0,0",
                b"0:10:10;*10:1;0,0,0",
                b"0:10:10;*0:1,0:1;0,0,0",
                b"0:10:10;1,0,0,0,0,0,0,2,0,0;0,0,0",
                b"0:3:3;*0:1,1:1,2:1;0,0,0",
            ],
        );
        let empty = Hist::new(l);
        let mut v = Vec::new();
        empty.encode(&mut v);
        assert_eq!(Hist::decode(&v), Ok(empty));
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
