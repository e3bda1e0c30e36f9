//! Quantiles from a mergeable sketch with a relative-error guarantee.
//!
//! The sketch is DDSketch's idea (Masson, Rim, Lee, VLDB 2019): count values
//! in buckets whose width grows with their magnitude, so any quantile is
//! reported within a fixed *relative* error. The bucket of a value is taken
//! from its bits, as in HdrHistogram and DDSketch's linearly interpolated
//! mapping: the binary exponent and the top `k` bits of the significand.
//! No logarithm is involved, so x86_64 and aarch64, musl and glibc put
//! every value in the same bucket, and the state is integer counts: merging
//! is exact, order-independent, and the quantiles are identical bit for bit
//! however the data was split. (t-digest and KLL hold float centroids or
//! random samples, whose state depends on the merge order.)
//!
//! A bucket `[lo, hi)` has `hi / lo = 1 + j 2^-k` at most `1 + 2^-k`, and
//! is reported as the decimal with the fewest significant digits in it
//! (8.5, not the bucket's midpoint 8.562043795620438), so the report is
//! within `(hi - lo) / lo <= 2^-k` of every value in it: the relative error
//! bound. Negative values are bucketed by magnitude, zeros counted apart
//! (reported exactly), and NaN and infinities left out (they are counted
//! as `nonfinite`). Subnormal values (below 2^-1022) are bucketed like
//! normal ones after scaling, so the bound holds there too, up to the
//! coarseness of a subnormal.
//!
//! The quantile `q` of `n` values is the value of rank `floor(q (n - 1))`
//! (0-based, DDSketch's definition) in sorted order, so `p50` of 4 values
//! is the 2nd smallest.

use super::measure::{Check, Flag, Given, flag_error};
use super::{Finish, Partial, read_u64, write_u64};
use crate::error::{DecodeError, Error};
use crate::json::Obj;
use crate::spec::Column;

/// The finest sketch: 2^-20 relative error, 2^20 buckets per octave (the
/// indices of every finite double then fit an `i32`).
pub const MAX_BITS: u8 = 20;
/// The default: `--quantile-error 0.01` rounds to a 2^-7 (0.78%) bound.
pub const DEFAULT_BITS: u8 = 7;
/// The quantiles reported when none are asked for.
pub const DEFAULT_QS: [f64; 9] = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

/// The significand bits (`k`) that give a relative error of at most `alpha`,
/// or why there are none.
pub fn bits_for_error(alpha: f64) -> Result<u8, String> {
    if !(alpha > 0.0 && alpha < 0.5) {
        return Err(format!(
            "a relative error must lie strictly between 0 and 0.5, not {alpha}"
        ));
    }
    (1..=MAX_BITS)
        .find(|&k| error_bound(k) <= alpha)
        .ok_or_else(|| {
            format!(
                "a relative error of {alpha} is finer than the sketch's finest, {}",
                error_bound(MAX_BITS)
            )
        })
}

/// The relative error bound of a sketch with `k` significand bits: the
/// widest bucket's width over its low end.
pub fn error_bound(k: u8) -> f64 {
    0.5f64.powi(i32::from(k))
}

/// The widest dense window of buckets (64 KiB of counts); a store whose
/// values span more (1e-300 and 1e300 in one group) turns sparse, so no
/// input can make a group allocate more than its values' count of buckets.
const MAX_DENSE: usize = 8192;

/// Counts by bucket index: a dense window over the indices reached (one
/// increment per value), or a sorted map when the window would be wide.
#[derive(Clone, Debug)]
enum Store {
    Dense { first: i32, counts: Vec<u64> },
    Sparse(std::collections::BTreeMap<i32, u64>),
}

/// Equal when the counts are: dense or sparse is how, not what.
impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        self.buckets() == other.buckets()
    }
}

impl Eq for Store {}

impl Default for Store {
    fn default() -> Self {
        Store::Dense {
            first: 0,
            counts: Vec::new(),
        }
    }
}

impl Store {
    #[inline]
    fn add(&mut self, idx: i32, n: u64) {
        match self {
            Store::Dense { first, counts } => {
                let i = idx.wrapping_sub(*first) as usize;
                if let Some(c) = counts.get_mut(i) {
                    *c += n;
                } else {
                    self.grow(idx, n);
                }
            }
            Store::Sparse(m) => *m.entry(idx).or_insert(0) += n,
        }
    }

    /// Widens a dense window to reach `idx` (or turns sparse), adding
    /// nothing.
    fn widen(&mut self, idx: i32) {
        if let Store::Dense { first, counts } = self
            && !counts.is_empty()
            && (idx < *first || i64::from(idx) - i64::from(*first) >= counts.len() as i64)
        {
            self.grow(idx, 0);
        }
    }

    /// Adds outside the dense window: widens it, or turns sparse.
    #[cold]
    fn grow(&mut self, idx: i32, n: u64) {
        let Store::Dense { first, counts } = self else {
            return;
        };
        if counts.is_empty() {
            *first = idx;
            counts.push(n);
            return;
        }
        // In 64 bits: at the finest precision the indices of 5e-324 and of
        // 1.8e308 are over 2^31 apart (proptest).
        let lo = i64::from((*first).min(idx));
        let hi = (i64::from(*first) + counts.len() as i64 - 1).max(i64::from(idx));
        if hi - lo >= MAX_DENSE as i64 {
            let mut m: std::collections::BTreeMap<i32, u64> = self.buckets().into_iter().collect();
            if n > 0 {
                *m.entry(idx).or_insert(0) += n;
            }
            *self = Store::Sparse(m);
            return;
        }
        if idx < *first {
            counts.splice(0..0, std::iter::repeat_n(0, (*first - idx) as usize));
            *first = idx;
        }
        let i = (idx - *first) as usize;
        if i >= counts.len() {
            counts.resize(i + 1, 0);
        }
        counts[i] += n;
    }

    /// A store of `buckets`, indices increasing: dense when their span
    /// allows, built at once (adding them one by one regrew the window).
    fn from_sorted(buckets: &[(i32, u64)]) -> Self {
        let (Some(&(lo, _)), Some(&(hi, _))) = (buckets.first(), buckets.last()) else {
            return Self::default();
        };
        if i64::from(hi) - i64::from(lo) >= MAX_DENSE as i64 {
            return Store::Sparse(buckets.iter().copied().collect());
        }
        let mut counts = vec![0; (hi - lo) as usize + 1];
        for &(i, c) in buckets {
            counts[(i - lo) as usize] = c;
        }
        Store::Dense { first: lo, counts }
    }

    /// Adds every count of `other` (the caller checked the totals fit):
    /// the window widened once to cover it, no list of buckets made.
    fn merge(&mut self, other: &Store) {
        let Some((lo, hi)) = other.ends() else {
            return;
        };
        self.widen(lo);
        self.widen(hi);
        match other {
            Store::Dense { first, counts } => {
                for (i, &c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                    self.add(first + i as i32, c);
                }
            }
            Store::Sparse(m) => {
                for (&i, &c) in m {
                    self.add(i, c);
                }
            }
        }
    }

    /// Bytes on the heap.
    fn heap_size(&self) -> usize {
        match self {
            Store::Dense { counts, .. } => counts.capacity() * 8,
            // A B-tree of (i32, u64): some 32 bytes an entry with its nodes.
            Store::Sparse(m) => m.len() * 32,
        }
    }

    /// The lowest and the highest index holding a count.
    fn ends(&self) -> Option<(i32, i32)> {
        match self {
            Store::Dense { first, counts } => {
                let lo = counts.iter().position(|&c| c > 0)?;
                let hi = counts.iter().rposition(|&c| c > 0)?;
                Some((first + lo as i32, first + hi as i32))
            }
            Store::Sparse(m) => Some((*m.keys().next()?, *m.keys().next_back()?)),
        }
    }

    /// Non-zero buckets, lowest index first.
    fn buckets(&self) -> Vec<(i32, u64)> {
        match self {
            Store::Dense { first, counts } => counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, c)| (first + i as i32, *c))
                .collect(),
            Store::Sparse(m) => m.iter().map(|(i, c)| (*i, *c)).collect(),
        }
    }
}

/// The sketch of a group's finite values. Identity: no sketch (`k == 0`);
/// merging into it adopts the other's precision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quantiles {
    k: u8,
    /// Values in the sketch (the sum of the counts, kept: checks read it
    /// for every decoded partial).
    n: u64,
    zeros: u64,
    /// Negative values, by magnitude.
    neg: Store,
    pos: Store,
}

impl Quantiles {
    /// An empty sketch with `k` significand bits (1..=[`MAX_BITS`]).
    pub fn new(k: u8) -> Self {
        Self {
            k: k.clamp(1, MAX_BITS),
            ..Self::default()
        }
    }

    pub fn bits(&self) -> u8 {
        self.k
    }

    /// Values in the sketch.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Where value `x` sorts among the buckets: negative values by
    /// decreasing magnitude, then zero, then positive ones.
    fn rank_key(&self, x: f64) -> (i8, i64) {
        if x == 0.0 {
            (0, 0)
        } else if x < 0.0 {
            (-1, -i64::from(self.index(-x)))
        } else {
            (1, i64::from(self.index(x)))
        }
    }

    /// The keys ([`Quantiles::rank_key`]) of the lowest and the highest
    /// bucket holding a value.
    fn ends(&self) -> Option<((i8, i64), (i8, i64))> {
        let neg = self
            .neg
            .ends()
            .map(|(lo, hi)| ((-1, -i64::from(hi)), (-1, -i64::from(lo))));
        let zero = (self.zeros > 0).then_some(((0, 0), (0, 0)));
        let pos = self
            .pos
            .ends()
            .map(|(lo, hi)| ((1, i64::from(lo)), (1, i64::from(hi))));
        let parts = [neg, zero, pos];
        let lo = parts.iter().flatten().next()?.0;
        let hi = parts.iter().flatten().next_back()?.1;
        Some((lo, hi))
    }

    /// Why this sketch cannot be of the `n` finite values whose extremes
    /// are `range`: it must hold `n` values, the lowest in the bucket of
    /// the min and the highest in that of the max.
    pub(crate) fn check_against(&self, n: u64, range: Option<(f64, f64)>) -> Result<(), String> {
        if self.k == 0 {
            return Ok(());
        }
        if self.n != n {
            return Err(format!(
                "a quantile sketch of {} values in a group of {n}",
                self.n
            ));
        }
        match (self.ends(), range) {
            (None, None) => Ok(()),
            (Some((lo, hi)), Some((min, max)))
                if lo == self.rank_key(min) && hi == self.rank_key(max) =>
            {
                Ok(())
            }
            _ => Err(format!(
                "a quantile sketch whose extreme buckets do not hold the min and the max ({})",
                range.map_or("none".into(), |(a, b)| format!("{a} and {b}"))
            )),
        }
    }

    /// Counts a finite `x` in its bucket (the sketch is on).
    #[inline]
    fn add(&mut self, x: f64) {
        self.n += 1;
        if x == 0.0 {
            self.zeros += 1;
        } else if x > 0.0 {
            let i = self.index(x);
            self.pos.add(i, 1);
        } else {
            let i = self.index(-x);
            self.neg.add(i, 1);
        }
    }

    /// The bucket of a finite non-zero magnitude: exponent and top bits.
    fn index(&self, m: f64) -> i32 {
        let (bits, shift) = if m < f64::MIN_POSITIVE {
            // Exact: a subnormal times 2^64 is normal.
            ((m * 2f64.powi(64)).to_bits(), 64)
        } else {
            (m.to_bits(), 0)
        };
        let e = (bits >> 52) as i32 - 1023 - shift;
        let j = ((bits >> (52 - self.k)) & ((1 << self.k) - 1)) as i32;
        (e << self.k) + j
    }

    /// The bounds `[lo, hi)` of a bucket, computed on significands in
    /// `[1, 2]` and scaled by a power of two (exact), so the top bucket
    /// does not overflow.
    fn bounds(&self, idx: i32) -> (f64, f64) {
        let e = idx >> self.k;
        let j = f64::from(idx & ((1 << self.k) - 1));
        let step = 0.5f64.powi(i32::from(self.k));
        // 2^e in two normal factors (e reaches -1086 for subnormals).
        let (e1, e2) = (e / 2, e - e / 2);
        let scale = |m: f64| m * pow2(e1) * pow2(e2);
        (scale(1.0 + j * step), scale(1.0 + (j + 1.0) * step))
    }

    /// The bucket holding the value of 0-based rank `rank` (< count).
    fn at_rank(&self, rank: u64) -> Option<Bucket> {
        let mut seen = 0u64;
        // Most negative first: the negative store from its largest
        // magnitude down.
        for (idx, c) in self.neg.buckets().into_iter().rev() {
            seen += c;
            if rank < seen {
                return Some(Bucket::Neg(idx));
            }
        }
        seen += self.zeros;
        if rank < seen {
            return Some(Bucket::Zero);
        }
        for (idx, c) in self.pos.buckets() {
            seen += c;
            if rank < seen {
                return Some(Bucket::Pos(idx));
            }
        }
        None
    }

    /// The quantile `q` in `[0, 1]`, `None` without values: the shortest
    /// decimal in the bucket of the value of rank `floor(q (n - 1))`, and
    /// within `range` (the values' exact extremes, which a bucket may
    /// reach past: values all 1.0001 have a p50 of 1.0001, not 1).
    pub fn quantile_in(&self, q: f64, range: Option<(f64, f64)>) -> Option<f64> {
        let n = self.count();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        // floor(q (n - 1)) in f64 is exact enough: n - 1 < 2^53 for any
        // count a real group reaches, and the product only picks a rank.
        let rank = ((q * (n - 1) as f64).floor() as u64).min(n - 1);
        let (min, max) = range.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        Some(match self.at_rank(rank)? {
            // Clamped in total order (a -0.0 min holds -0.0).
            Bucket::Zero if 0.0f64.total_cmp(&min).is_lt() => min,
            Bucket::Zero if 0.0f64.total_cmp(&max).is_gt() => max,
            Bucket::Zero => 0.0,
            Bucket::Pos(idx) => {
                let (lo, hi) = self.bounds(idx);
                shortest_in(lo.max(min), hi.next_down().min(max))
            }
            // Values in (-hi, -lo]: magnitudes in [lo, hi).
            Bucket::Neg(idx) => {
                let (lo, hi) = self.bounds(idx);
                -shortest_in(lo.max(-max), hi.next_down().min(-min))
            }
        })
    }

    /// [`Quantiles::quantile_in`] with no extremes known.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantile_in(q, None)
    }

    /// Writes `"quantiles":{"p50":..,..}` and the error bound for `qs`,
    /// each within `range`, the values' exact extremes.
    fn write(&self, out: &mut Obj<'_>, qs: &[f64], range: Option<(f64, f64)>) {
        if self.k == 0 {
            return;
        }
        out.obj("quantiles", |o| {
            for &q in qs {
                o.opt_f64(&quantile_name(q), self.quantile_in(q, range));
            }
        });
        out.f64("quantile_error", error_bound(self.k));
    }
}

/// Where a rank lies: a bucket of negative magnitudes, zero, or a bucket of
/// positive ones.
#[derive(Clone, Copy, Debug)]
enum Bucket {
    Neg(i32),
    Zero,
    Pos(i32),
}

/// The double with the fewest significant decimal digits in `[lo, hi]`
/// (finite, `0 < lo`; `lo` itself when `hi < lo`). Any decimal that lies
/// in the range is as true as any other; the shortest is the one a person
/// reads (8.5, not 8.562043795620438), and it is a function of the bucket
/// alone, so as deterministic as the bucket.
///
/// Why the search is short and right: `lo`'s shortest round-trip digits
/// `D` (the JSON writer's) are a decimal that reads back as `lo`, so no
/// decimal below `D` with fewer digits reads back inside the range (it
/// would read as `lo` or less, and a shorter text for `lo` would exist).
/// The fewest-digit candidate of each length `p` is therefore `D` cut to
/// `p` digits and rounded up, and the first that reads back at most `hi`
/// is the answer.
pub(crate) fn shortest_in(lo: f64, hi: f64) -> f64 {
    if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi) {
        return lo;
    }
    let mut buf = zmij::Buffer::new();
    let text = buf.format_finite(lo).as_bytes();
    // Digits and decimal exponent of `lo`: value = 0.DIGITS x 10^point.
    let (mantissa, exp) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (&text[..i], parse_exp(&text[i + 1..])),
        None => (text, 0),
    };
    let mut digits: Vec<u8> = Vec::with_capacity(20);
    let mut point = exp;
    let mut before_point = true;
    for &b in mantissa {
        match b {
            b'.' => before_point = false,
            b'0'..=b'9' => {
                if digits.is_empty() && b == b'0' {
                    // Leading zeros: each after the point moves it left.
                    if !before_point {
                        point -= 1;
                    }
                    continue;
                }
                digits.push(b - b'0');
                if before_point {
                    point += 1;
                }
            }
            _ => {}
        }
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    for p in 1..digits.len() {
        let mut d = digits[..p].to_vec();
        let mut pt = point;
        // Round up in the last place, carrying.
        let mut i = p;
        loop {
            if i == 0 {
                d.insert(0, 1);
                d.pop();
                pt += 1;
                break;
            }
            i -= 1;
            if d[i] == 9 {
                d[i] = 0;
            } else {
                d[i] += 1;
                break;
            }
        }
        let x = read_decimal(&d, pt);
        if x <= hi {
            return x;
        }
    }
    lo
}

/// The exponent after `e` in a formatter's text (`-7`, `+20`, `20`).
fn parse_exp(t: &[u8]) -> i32 {
    let (neg, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = t.iter().fold(0i32, |n, &b| {
        n.saturating_mul(10).saturating_add(i32::from(b - b'0'))
    });
    if neg { -n } else { n }
}

/// The double nearest `0.DIGITS x 10^point`.
fn read_decimal(digits: &[u8], point: i32) -> f64 {
    let mut t = Vec::with_capacity(digits.len() + 8);
    t.extend_from_slice(b"0.");
    t.extend(digits.iter().map(|d| b'0' + d));
    t.push(b'e');
    t.extend_from_slice(itoa::Buffer::new().format(point).as_bytes());
    fast_float2::parse::<f64, _>(&t).unwrap_or(f64::NAN)
}

/// `p50`, `p99_9`, `p0_1`: a JSON name for quantile `q` (percent, with `_`
/// for the decimal point so names stay plain words).
pub fn quantile_name(q: f64) -> String {
    // Ten decimals, trailing zeros cut: 0.999 * 100 is 99.899999999999991
    // in binary, and its name is p99_9.
    let pct = format!("{:.10}", q * 100.0);
    let pct = pct.trim_end_matches('0').trim_end_matches('.');
    format!("p{}", pct.replace('.', "_"))
}

fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// The default of `--quantile-error`.
pub const DEFAULT_ERROR: &str = "0.01";

/// What `--quantiles` and `--quantile-error` say.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// The quantiles reported.
    pub qs: Vec<f64>,
    /// The sketch's significand bits.
    pub bits: u8,
}

/// `--quantiles [Q,...]` and `--quantile-error ALPHA`: one sketch per value
/// column.
impl super::Measure for Quantiles {
    const FLAGS: &'static [Flag] = &[
        Flag {
            bare: Some("default"),
            ..Flag::new(
                "quantiles",
                "Q[,Q...]",
                "Quantiles of the value from a mergeable sketch: alone for p1 p5 p10 p25 p50 \
                 p75 p90 p95 p99, or a list (`--quantiles 0.5,0.999`). Each is within \
                 --quantile-error (relative) of the exact order statistic of rank floor(q \
                 (n-1)), and identical however the data was split. Zeros are exact; NaN and \
                 infinities are left out.",
            )
        },
        Flag {
            default: Some(DEFAULT_ERROR),
            ..Flag::new(
                "quantile-error",
                "ALPHA",
                "Relative error bound of --quantiles, rounded down to a power of two (0.01 \
                 gives 2^-7, 0.78%): finer costs more buckets per group.",
            )
        },
    ];

    const GROWS: bool = true;

    type Spec = Spec;
    type Shape = u8;
    type Input = ();

    fn parse(given: &Given, values: &[Column]) -> Result<Option<Spec>, Error> {
        let Some(q) = given.one("quantiles") else {
            return Ok(None);
        };
        let qs = parse_list(q)?;
        if values.is_empty() {
            return Err(flag_error("--quantiles", q, "quantiles need --value"));
        }
        let alpha = given.one("quantile-error").unwrap_or(DEFAULT_ERROR);
        let bad = |why| flag_error("--quantile-error", alpha, why);
        let bits = alpha
            .trim()
            .parse::<f64>()
            .map_err(|_| bad("not a number".to_owned()))
            .and_then(|a| bits_for_error(a).map_err(bad))?;
        Ok(Some(Spec { qs, bits }))
    }

    fn shape(spec: &Spec, _: usize) -> Option<u8> {
        Some(spec.bits)
    }

    fn with_shape(bits: u8) -> Self {
        Self::new(bits)
    }

    fn shape_of(&self) -> Option<u8> {
        Some(self.k).filter(|&k| k > 0)
    }

    const SIGIL: Option<u8> = Some(b'/');

    fn write_shape(bits: &u8, out: &mut Vec<u8>) {
        write_u64(out, u64::from(*bits));
    }

    fn read_shape(text: &[u8]) -> Option<u8> {
        read_u64(text, "quantile sketch precision")
            .ok()
            .filter(|k| (1..=u64::from(MAX_BITS)).contains(k))
            .map(|k| k as u8)
    }

    fn check_state(&self, c: &Check) -> Result<(), String> {
        self.check_against(c.finite, c.range)
    }
}

/// Parses a `--quantiles` list (`default` for the default list): numbers
/// in `[0, 1]`.
pub fn parse_list(text: &str) -> Result<Vec<f64>, Error> {
    if text == "default" {
        return Ok(DEFAULT_QS.to_vec());
    }
    text.split(',')
        .map(|q| {
            q.trim()
                .parse::<f64>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or_else(|| {
                    flag_error(
                        "--quantiles",
                        text,
                        format!("{q:?} is not a quantile between 0 and 1 (0.5 is the median)"),
                    )
                })
        })
        .collect()
}

impl Partial for Quantiles {
    fn heap_size(&self) -> usize {
        self.neg.heap_size() + self.pos.heap_size()
    }
    const TAG: &'static str = "q";

    #[inline]
    fn update(&mut self, x: f64) {
        if x.is_finite() {
            self.update_finite(x);
        }
    }

    // Inlined for its test: most jobs ask for no quantiles, and a call a
    // line to learn that cost them.
    #[inline(always)]
    fn update_finite(&mut self, x: f64) {
        if self.k != 0 {
            self.add(x);
        }
    }

    /// Nothing a value when the job asks for no quantiles.
    fn update_batch(&mut self, xs: &[f64]) {
        if self.k == 0 {
            return;
        }
        for &x in xs {
            self.update(x);
        }
    }

    fn update_n(&mut self, x: f64, n: u64) {
        if self.k == 0 || !x.is_finite() || n == 0 {
            return;
        }
        self.n += n;
        if x == 0.0 {
            self.zeros += n;
        } else if x > 0.0 {
            let i = self.index(x);
            self.pos.add(i, n);
        } else {
            let i = self.index(-x);
            self.neg.add(i, n);
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        if self.k != 0 && other.k != 0 && self.k != other.k {
            return Err(format!(
                "quantile sketches of different precision ({} and {} bits): were these \
                 partials written by different jobs?",
                self.k, other.k
            ));
        }
        super::checked_sum([self.n, other.n], "quantile count").map(|_| ())
    }

    fn merge(&mut self, other: &Self) {
        if other.k == 0 {
            return;
        }
        if self.k == 0 {
            *self = other.clone();
            return;
        }
        self.n += other.n;
        self.zeros += other.zeros;
        self.neg.merge(&other.neg);
        self.pos.merge(&other.pos);
    }

    /// The quantiles the job asks for (the default list when the reducer
    /// does not know the job).
    fn finish(&self, out: &mut Obj<'_>, f: &Finish<'_>) {
        let qs = f.spec::<Self>().map_or(&DEFAULT_QS[..], |s| &s.qs[..]);
        self.write(out, qs, f.range);
    }

    fn is_identity(&self) -> bool {
        self.k == 0
    }

    /// `K;ZEROS;NEG;POS`, each store `I:C,I:C,...` by increasing index
    /// (indices in decimal, may be negative), or empty.
    fn encode(&self, out: &mut Vec<u8>) {
        write_u64(out, u64::from(self.k));
        out.push(b';');
        write_u64(out, self.zeros);
        for s in [&self.neg, &self.pos] {
            out.push(b';');
            for (i, (idx, c)) in s.buckets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(itoa::Buffer::new().format(idx).as_bytes());
                out.push(b':');
                write_u64(out, c);
            }
        }
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let bad = || DecodeError::new("quantile sketch", payload);
        let parts: Vec<&[u8]> = payload.split(|&b| b == b';').collect();
        let [k, zeros, neg, pos] = parts[..] else {
            return Err(bad());
        };
        let k = read_u64(k, "quantile sketch precision")?;
        if !(1..=u64::from(MAX_BITS)).contains(&k) {
            return Err(bad());
        }
        let mut q = Self::new(k as u8);
        q.zeros = read_u64(zeros, "quantile zero count")?;
        // The widest index range values reach: exponents -1086..=1023.
        let span = (-1086i64 << k)..(1024i64 << k);
        let mut buckets = Vec::new();
        let mut total = u128::from(q.zeros);
        for (text, store) in [(neg, &mut q.neg), (pos, &mut q.pos)] {
            if text.is_empty() {
                continue;
            }
            buckets.clear();
            let mut last = None;
            for item in text.split(|&b| b == b',') {
                let colon = memchr::memchr(b':', item).ok_or_else(bad)?;
                let idx = std::str::from_utf8(&item[..colon])
                    .ok()
                    .filter(|s| !s.starts_with('+'))
                    .and_then(|s| s.parse::<i32>().ok())
                    .ok_or_else(bad)?;
                let c = read_u64(&item[colon + 1..], "quantile bucket count")?;
                if c == 0 || !span.contains(&i64::from(idx)) || last.is_some_and(|l| idx <= l) {
                    return Err(bad());
                }
                last = Some(idx);
                total += u128::from(c);
                buckets.push((idx, c));
            }
            *store = Store::from_sorted(&buckets);
        }
        q.n = u64::try_from(total).map_err(|_| bad())?;
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    /// The exact order statistic of rank floor(q (n - 1)).
    fn exact(xs: &[f64], q: f64) -> f64 {
        let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v[((q * (v.len() - 1) as f64).floor() as usize).min(v.len() - 1)]
    }

    fn within(got: f64, want: f64, alpha: f64) -> bool {
        if want == 0.0 {
            return got == 0.0;
        }
        got.signum() == want.signum() && ((got - want) / want).abs() <= alpha
    }

    #[test]
    fn bits_from_error_and_names() {
        assert_eq!(bits_for_error(0.01), Ok(DEFAULT_BITS));
        assert_eq!(error_bound(DEFAULT_BITS), 0.0078125);
        assert!(bits_for_error(0.0).is_err() && bits_for_error(1e-9).is_err());
        assert_eq!(quantile_name(0.5), "p50");
        assert_eq!(quantile_name(0.999), "p99_9");
        assert_eq!(quantile_name(0.001), "p0_1");
        assert_eq!(quantile_name(1.0), "p100");
        assert_eq!(quantile_name(0.0), "p0");
        assert_eq!(quantile_name(0.9999), "p99_99");
    }

    /// Counts from the wire that add past 2^64 are refused, in one sketch
    /// and in a merge, rather than wrapped.
    #[test]
    fn counts_never_wrap() {
        let max = u64::MAX;
        laws::rejects(
            Quantiles::decode,
            &[
                format!("3;{max};;0:1").as_bytes(),
                format!("3;0;;0:{max},1:{max}").as_bytes(),
                format!("3;1;1:{max};").as_bytes(),
            ],
        );
        let a = Quantiles::decode(format!("3;0;;0:{max}").as_bytes()).expect("fits");
        let b = Quantiles::decode(b"3;0;;0:1").expect("fits");
        assert!(a.check_merge(&b).is_err());
        assert_eq!(a.count(), max);
    }

    #[test]
    fn extremes_and_signs() {
        let xs = [
            f64::MAX,
            -f64::MAX,
            5e-324,
            -5e-324,
            0.0,
            -0.0,
            f64::NAN,
            1.0,
        ];
        let s = laws::fold(&Quantiles::new(DEFAULT_BITS), &xs);
        assert_eq!(s.count(), 7);
        let alpha = error_bound(DEFAULT_BITS);
        for q in [0.0, 1.0 / 6.0, 2.0 / 6.0, 0.5, 4.0 / 6.0, 5.0 / 6.0, 1.0] {
            let got = s.quantile(q).expect("values");
            let want = exact(&xs, q);
            // The smallest subnormal has one significant bit: its bucket
            // is the value itself or a neighbour's representation.
            if want.abs() < f64::MIN_POSITIVE && want != 0.0 {
                assert!(got.abs() < f64::MIN_POSITIVE && got.signum() == want.signum());
            } else {
                assert!(within(got, want, alpha), "q {q}: {got} vs {want}");
            }
        }
        assert_eq!(Quantiles::new(6).quantile(0.5), None);
    }

    /// The report is the data's own short decimal where the bucket allows:
    /// a median of values 8.5 and 9 is 8.5, not the bucket's midpoint.
    #[test]
    fn quantiles_print_short() {
        let s = laws::fold(&Quantiles::new(DEFAULT_BITS), &[8.5, 8.5, 9.0, -0.3]);
        assert_eq!(s.quantile(0.5), Some(8.5));
        assert_eq!(s.quantile(0.0), Some(-0.3));
        assert_eq!(s.quantile_in(1.0, Some((-0.3, 9.0))), Some(9.0));
        assert_eq!(shortest_in(9.96, 10.5), 10.0);
        assert_eq!(shortest_in(1.05, 1.2), 1.1);
        assert_eq!(shortest_in(8.51, 8.56), 8.51);
        assert_eq!(shortest_in(1e-7, 1.2e-7), 1e-7);
        assert_eq!(shortest_in(123456.7, 123457.0), 123457.0);
        assert_eq!(shortest_in(f64::MAX, f64::MAX), f64::MAX);
        assert_eq!(shortest_in(5e-324, 1e-323), 5e-324);
    }

    /// Significant digits of a decimal text (`0.00120` has 2).
    fn sig_digits(t: &str) -> usize {
        let m = t.split(['e', 'E']).next().unwrap_or("");
        let d: String = m.chars().filter(char::is_ascii_digit).collect();
        d.trim_start_matches('0').trim_end_matches('0').len().max(1)
    }

    fn data() -> impl Strategy<Value = Vec<f64>> {
        prop_oneof![
            // Heavy-tailed, both signs, zero-heavy, constant, and any bits.
            prop::collection::vec(
                (-60i32..60, -1.0f64..1.0).prop_map(|(e, m)| m * 2f64.powi(e)),
                1..300
            ),
            prop::collection::vec(prop_oneof![3 => Just(0.0), 1 => -5.0f64..5.0], 1..300),
            (laws::value(), 1usize..300).prop_map(|(x, n)| vec![x; n]),
            prop::collection::vec(laws::value(), 1..300),
        ]
    }

    proptest! {
        /// Against a direct search in integers: of the decimals `a/100 ..
        /// b/100`, the fewest digits any has, counted on multiples of each
        /// power of ten.
        #[test]
        fn shortest_has_the_fewest_digits(a in 1u64..1_000_000, w in 0u64..5000) {
            let b = a + w;
            let (lo, hi) = (a as f64 / 100.0, b as f64 / 100.0);
            let got = shortest_in(lo, hi);
            prop_assert!(lo <= got && got <= hi, "{got} outside {lo}..{hi}");
            let want = (0..10u32)
                .filter_map(|t| {
                    let step = 10u64.pow(t);
                    let c = a.div_ceil(step) * step;
                    (c <= b).then(|| sig_digits(&c.to_string()))
                })
                .min()
                .expect("a itself");
            prop_assert_eq!(sig_digits(&got.to_string()), want, "{} in {}..{}", got, lo, hi);
        }

        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(laws::value(), 0..200),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8),
                                 seed: u64, tree: bool, k in 1u8..12) {
            laws::check(&Quantiles::new(k), &xs, &cuts, seed, tree);
        }

        /// Every quantile lies within the stated relative error of the
        /// exact order statistic.
        #[test]
        fn quantiles_within_the_bound(xs in data(), k in 1u8..=MAX_BITS, q in 0.0f64..=1.0) {
            prop_assume!(xs.iter().any(|x| x.is_finite()));
            let s = laws::fold(&Quantiles::new(k), &xs);
            let want = exact(&xs, q);
            let got = s.quantile(q).expect("values");
            if want.abs() >= f64::MIN_POSITIVE || want == 0.0 {
                prop_assert!(within(got, want, error_bound(k)), "k {k} q {q}: {got} vs {want}");
            }
        }
    }
}
