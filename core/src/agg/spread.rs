//! The sample standard deviation of a group's finite values, exactly merged.
//!
//! Welford's update is order-dependent in floating point, so partials merged
//! in a different order would print different digits. Instead the exact sum
//! of squares is kept beside the exact sum, and `finish` computes
//! `(n * sum(x^2) - sum(x)^2) / (n * (n - 1))` in integers, rounding once:
//! no cancellation, whatever the mean.

use num_traits::{Signed, Zero};

use super::Finish;
use super::{Partial, Sum};
use crate::error::DecodeError;
use crate::json::Obj;
use crate::round;
use crate::superacc::{Superacc, split};

/// Squares are exact in units of 2^-2148 (the square of 2^-1074).
const SQ_UNIT_EXP: i64 = -2148;

/// Count, exact sum and exact sum of squares. Identity: zero values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spread {
    pub sum: Sum,
    squares: Superacc,
}

impl Spread {
    /// The correctly rounded sample variance (n - 1), `None` below 2 values.
    pub fn variance(&self) -> Option<f64> {
        let n = self.sum.count.n;
        if n < 2 {
            return None;
        }
        let s1 = self.sum.exact();
        let num = self.squares.to_bigint() * n - &s1 * &s1;
        // floor(floor(a / n) / (n - 1)) == floor(a / (n (n - 1))), and the
        // division is exact only when both steps are.
        let scaled = num << 128u32;
        let q1 = &scaled / n;
        let r1 = !(&scaled - &q1 * n).is_zero();
        let q2 = &q1 / (n - 1);
        let r2 = !(&q1 - &q2 * (n - 1)).is_zero();
        Some(round::to_f64(&q2, SQ_UNIT_EXP - 128, r1 || r2))
    }

    /// The correctly rounded sample standard deviation, `None` below 2
    /// values: the square root of the exact variance, taken in integers, so
    /// it neither overflows where the variance would (values near 1e308)
    /// nor rounds twice. NaN only for a state no values can produce (a sum
    /// of squares below what the sum implies, from corrupted input).
    pub fn stddev(&self) -> Option<f64> {
        let n = self.sum.count.n;
        if n < 2 {
            return None;
        }
        Some(self.small_stddev(n).unwrap_or_else(|| self.big_stddev(n)))
    }

    /// [`Spread::stddev`] in big integers, for any state.
    fn big_stddev(&self, n: u64) -> f64 {
        let s1 = self.sum.exact();
        let num = self.squares.to_bigint() * n - &s1 * &s1;
        let den = num_bigint::BigInt::from(n) * (n - 1);
        round::sqrt_ratio(&num, &den, SQ_UNIT_EXP)
    }

    /// [`Spread::stddev`] in 128-bit integers when the sums and the count
    /// are small enough (most groups when keys are many), else `None`: big
    /// integers cost far more than the rest of a small group's finish.
    fn small_stddev(&self, n: u64) -> Option<f64> {
        // Each sum as an odd integer times a power of two.
        let odd = |(v, k): (i128, u32)| {
            let tz = v.trailing_zeros().min(127);
            (v >> tz, 32 * i64::from(k) + i64::from(tz))
        };
        let (s, bs) = odd(self.sum.acc.to_i128()?);
        let (q, bq) = odd(self.squares.to_i128()?);
        // n q 2^bq - s^2 2^(2 bs), in units of 2^-2148, taken out as 2^e
        // times an integer, `e` even for the root.
        let (eq, es) = (bq, 2 * bs);
        let e = eq.min(es) & !1;
        let a = shl(i128::from(n).checked_mul(q)?, eq - e)?;
        let b = shl(s.checked_mul(s)?, es - e)?;
        let num = u128::try_from(a.checked_sub(b)?).ok()?;
        let den = u128::from(n) * u128::from(n - 1);
        round::small_sqrt_ratio(num, den, SQ_UNIT_EXP + e)
    }
}

impl Spread {
    /// Why these sums cannot be of the group's values, whose finite
    /// extremes are `range`. Each condition holds for any values, and for
    /// the union of any two states that meet it, so a merge of checked
    /// partials passes too: with `A = n min`, `B = n max`, `S = Σx`,
    /// `D = n Σx² - S²`, it is `A <= S <= B` (the mean is within the
    /// extremes), `D >= 0` (the variance is not negative) and
    /// `D <= (B - S)(S - A)` (Bhatia–Davis: no larger than with every
    /// value at an extreme); and one value is both extremes.
    pub(crate) fn check_within(&self, range: Option<(f64, f64)>) -> Result<(), String> {
        let n = self.sum.count.n;
        let (min, max) = match range {
            None if n == 0 => return Ok(()),
            Some(r) if n > 0 => r,
            _ => {
                return Err(format!(
                    "{n} values with {} a min and max",
                    if n == 0 { "but" } else { "but no" }
                ));
            }
        };
        if n == 1 && min.to_bits() != max.to_bits() {
            return Err(format!("one value with min {min} and max {max}"));
        }
        let ok = self
            .small_within(n, min, max)
            .unwrap_or_else(|| self.big_within(n, min, max));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "sums that no {n} values between {min} and {max} have (mean {}, standard \
                 deviation {})",
                self.sum.mean().unwrap_or(f64::NAN),
                self.stddev().unwrap_or(0.0)
            ))
        }
    }

    /// [`Spread::check_within`]'s conditions in big integers, every
    /// quantity an integer times the lowest power of two among them (units
    /// of 2^-1074 would make numbers of twenty limbs and more).
    pub(crate) fn big_within(&self, n: u64, min: f64, max: f64) -> bool {
        use num_bigint::BigInt;
        // An integer and its unit's exponent (in units of 2^-1074, or of
        // its square for the second moment); `None` for zero.
        let odd = |v: BigInt, k: i64| match v.trailing_zeros() {
            Some(tz) => (v >> tz, Some(k + tz as i64)),
            None => (v, None),
        };
        let sc = |a: &Superacc| {
            let (v, k) = a.to_scaled_bigint();
            odd(v, 32 * i64::from(k))
        };
        let fl = |x: f64| {
            let (m, pos, neg) = split(x);
            let v = BigInt::from(m);
            odd(if neg { -v } else { v }, i64::from(pos))
        };
        let (s, q) = (sc(&self.sum.acc), sc(&self.squares));
        let (lo, hi) = (fl(min), fl(max));
        let e = [s.1, lo.1, hi.1].into_iter().flatten().min().unwrap_or(0);
        let at = |(v, k): &(BigInt, Option<i64>), e: i64| v << k.map_or(0, |k| k - e) as usize;
        let (s, a, b) = (at(&s, e), at(&lo, e) * n, at(&hi, e) * n);
        if !(a <= s && s <= b) {
            return false;
        }
        let f = q.1.map_or(2 * e, |k| k.min(2 * e));
        let up = (2 * e - f) as usize;
        let d = at(&q, f) * n - ((&s * &s) << up);
        let room = ((&b - &s) * (&s - &a)) << up;
        !d.is_negative() && d <= room
    }

    /// [`Spread::check_within`]'s conditions in 128-bit integers, `None`
    /// where a number does not fit: every quantity as an integer times
    /// the lowest power of two among them.
    pub(crate) fn small_within(&self, n: u64, min: f64, max: f64) -> Option<bool> {
        // An integer and the exponent of its unit (in units of 2^-1074,
        // or of its square for the second moment); `None` exponent for 0.
        let odd = |v: i128, k: i64| {
            let tz = v.trailing_zeros().min(127);
            (v >> tz, (v != 0).then_some(k + i64::from(tz)))
        };
        let sc = |(v, k): (i128, u32)| odd(v, 32 * i64::from(k));
        let fl = |x: f64| {
            let (m, pos, neg) = split(x);
            let v = i128::from(m);
            odd(if neg { -v } else { v }, i64::from(pos))
        };
        let (s, q) = (sc(self.sum.acc.to_i128()?), sc(self.squares.to_i128()?));
        let (lo, hi) = (fl(min), fl(max));
        let e = [s.1, lo.1, hi.1].into_iter().flatten().min().unwrap_or(0);
        let at = |(v, k): (i128, Option<i64>), e: i64| shl(v, k.map_or(0, |k| k - e));
        let n = i128::from(n);
        let (s, a, b) = (
            at(s, e)?,
            n.checked_mul(at(lo, e)?)?,
            n.checked_mul(at(hi, e)?)?,
        );
        if !(a <= s && s <= b) {
            return Some(false);
        }
        // The second moment's unit: the lower of the square's and Σx²'s.
        let f = q.1.map_or(2 * e, |k| k.min(2 * e));
        let nq = n.checked_mul(at(q, f)?)?;
        let ss = shl(s.checked_mul(s)?, 2 * e - f)?;
        let d = nq.checked_sub(ss)?;
        let room = shl(b.checked_sub(s)?.checked_mul(s.checked_sub(a)?)?, 2 * e - f)?;
        Some(d >= 0 && d <= room)
    }
}

/// `v * 2^k`, `None` when it would not fit.
fn shl(v: i128, k: i64) -> Option<i128> {
    if v == 0 {
        return Some(0);
    }
    let room = i64::from(v.unsigned_abs().leading_zeros()) - 1;
    (k <= room).then(|| v << k)
}

impl Partial for Spread {
    fn heap_size(&self) -> usize {
        self.sum.acc.heap_size() + self.squares.heap_size()
    }
    const TAG: &'static str = "v";

    #[inline]
    fn update(&mut self, x: f64) {
        if x.is_finite() {
            self.update_finite(x);
        }
    }

    #[inline(always)]
    fn update_finite(&mut self, x: f64) {
        self.sum.update_finite(x);
        let (m, pos, _) = split(x);
        if m != 0 {
            // x^2 = m^2 * 2^(2 pos) in units of 2^-2148.
            self.squares.add_square(m, 2 * pos);
        }
    }

    /// A run of values summed by position first (the "large
    /// superaccumulator" of Neal's paper, see [`crate::superacc`]): one
    /// wide add a value for its sum and one for its square, in a slot per
    /// binary position; then one add a used slot into the exact sums. The
    /// slots cover the 64 positions around the run's first value, which
    /// hold most runs (a group's values seldom span 2^64); a value outside
    /// them is added as [`Partial::update`] adds it.
    fn update_batch(&mut self, xs: &[f64]) {
        const SLOTS: usize = 64;
        // 2^16 values keep a slot's sum of significands below 2^70 and of
        // squares below 2^122.
        for xs in xs.chunks(1 << 16) {
            let Some(first) = xs.iter().find(|x| x.is_finite()) else {
                continue;
            };
            let base = split(*first).1.saturating_sub(SLOTS as u32 / 2);
            let mut sums = [0i128; SLOTS];
            let mut squares = [0u128; SLOTS];
            let (mut lo, mut hi, mut n) = (SLOTS, 0, 0);
            for &x in xs {
                if !x.is_finite() {
                    continue;
                }
                n += 1;
                let (m, pos, neg) = split(x);
                let i = pos.wrapping_sub(base) as usize;
                if i >= SLOTS {
                    if m != 0 {
                        self.sum.acc.add(m, pos, neg);
                        self.squares.add_square(m, 2 * pos);
                    }
                    continue;
                }
                let v = i128::from(m);
                sums[i] += if neg { -v } else { v };
                squares[i] += u128::from(m) * u128::from(m);
                lo = lo.min(i);
                hi = hi.max(i);
            }
            self.sum.count.n += n;
            for i in lo..=hi.min(SLOTS - 1) {
                let (s, q, pos) = (sums[i], squares[i], base + i as u32);
                if s != 0 {
                    self.sum.acc.add_wide(s.unsigned_abs(), pos, s < 0);
                }
                if q != 0 {
                    // In units of 2^-2148: x^2 = m^2 * 2^(2 pos).
                    self.squares.add_wide(q, 2 * pos, false);
                }
            }
        }
    }

    /// `n x` and `n x^2` added exactly where `m^2` and `n` fit the
    /// product's operands (the small integers this serves), else one by
    /// one.
    fn update_n(&mut self, x: f64, n: u64) {
        if !x.is_finite() || n == 0 {
            return;
        }
        let (m, pos, _) = split(x);
        // The significand without its trailing zeros: a small integer's
        // is small, and its square fits the product's operand.
        let tz = if m == 0 { 0 } else { m.trailing_zeros() };
        let (m, pos) = (m >> tz, pos + tz);
        if m >= 1 << 26 || n >= 1 << 53 {
            for _ in 0..n {
                self.update(x);
            }
            return;
        }
        self.sum.update_n(x, n);
        if m != 0 {
            self.squares.add_product(m * m, n, 2 * pos, false);
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        self.sum.check_merge(&other.sum)
    }

    fn merge(&mut self, other: &Self) {
        self.sum.merge(&other.sum);
        self.squares.merge(&other.squares);
    }

    fn finish(&self, out: &mut Obj<'_>, report: &Finish<'_>) {
        self.sum.finish(out, report);
        out.opt_f64("stddev", self.stddev());
    }

    fn encode(&self, out: &mut Vec<u8>) {
        self.sum.encode(out);
        out.push(b';');
        self.squares.encode(out);
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let parts: Vec<&[u8]> = payload.split(|&b| b == b';').collect();
        let [n, s1, s2] = parts[..] else {
            return Err(DecodeError::new("spread", payload));
        };
        let sum = Sum::decode_parts(n, s1)?;
        let squares = Superacc::decode(s2)?;
        if sum.count.n == 0 && !squares.is_zero() {
            return Err(DecodeError::new("squares of zero values", s2));
        }
        Ok(Self { sum, squares })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    #[test]
    fn known_stddev() {
        let s = laws::fold(
            &Spread::default(),
            &[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0],
        );
        // Population variance 4, sample variance 32 / 7.
        assert_eq!(s.variance(), Some(32.0 / 7.0));
        assert_eq!(s.sum.mean(), Some(5.0));
    }

    #[test]
    fn no_cancellation_far_from_zero() {
        // A naive sum-of-squares formula returns 0 or garbage here.
        let s = laws::fold(&Spread::default(), &[1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0]);
        assert_eq!(s.variance(), Some(1.0));
        // About 2e-600: below the smallest subnormal, so it rounds to zero.
        let t = laws::fold(&Spread::default(), &[1e-300, 3e-300]);
        assert_eq!(t.variance(), Some(0.0));
    }

    #[test]
    fn stddev_near_the_top_of_the_range() {
        // With d = 1e308: sum 1, sum of squares 4d^2 + 1, so the variance is
        // (5 (4d^2 + 1) - 1) / 20 = d^2 + 0.2, far past f64, and the standard
        // deviation is d to within far less than half an ulp.
        let s = laws::fold(&Spread::default(), &[1e308, 1e308, -1e308, -1e308, 1.0]);
        assert_eq!(s.stddev(), Some(1e308));
    }

    #[test]
    fn fewer_than_two_values() {
        assert_eq!(laws::fold(&Spread::default(), &[3.0]).stddev(), None);
        assert_eq!(Spread::default().stddev(), None);
    }

    proptest! {
        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(laws::value(), 0..200),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8),
                                 seed: u64, tree: bool) {
            laws::check(&Spread::default(), &xs, &cuts, seed, tree);
        }

        /// The 128-bit standard deviation is the big-integer one, bit for
        /// bit, on small groups of values of any size and on counts.
        #[test]
        fn small_stddev_matches_the_general_one(xs in prop::collection::vec(laws::value(), 2..40),
                                                ints in prop::collection::vec(0u32..100_000, 2..120),
                                                k in -1074i32..1000) {
            let scaled: Vec<f64> = ints.iter().map(|&i| f64::from(i) * 2f64.powi(k)).collect();
            let counts: Vec<f64> = ints.iter().map(|&i| f64::from(i)).collect();
            for (i, v) in [&xs, &scaled, &counts].into_iter().enumerate() {
                let s = laws::fold(&Spread::default(), v);
                let n = s.sum.count.n;
                if n < 2 {
                    continue;
                }
                let small = s.small_stddev(n);
                // Counts in small groups take the 128-bit path.
                prop_assert!(small.is_some() || i < 2 || n > 64, "{:?}", v);
                if let Some(small) = small {
                    prop_assert_eq!(small.to_bits(), s.big_stddev(n).to_bits());
                }
            }
        }

        #[test]
        fn variance_matches_f64_on_easy_data(xs in prop::collection::vec(-1000i32..1000, 2..50)) {
            // Small integers: every step of the two-pass formula is exact in f64.
            let v: Vec<f64> = xs.iter().map(|&i| f64::from(i)).collect();
            let n = v.len() as f64;
            let mean_num: f64 = v.iter().sum();
            let ss: f64 = v.iter().map(|x| (x * n - mean_num).powi(2)).sum();
            let want = ss / (n * n * (n - 1.0));
            let got = laws::fold(&Spread::default(), &v).variance().unwrap_or(f64::NAN);
            prop_assert!((got - want).abs() <= want * 1e-15, "{} vs {}", got, want);
        }
    }
}
