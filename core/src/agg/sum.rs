//! The exact sum and the mean of a group's finite values.

use num_bigint::BigInt;
use num_traits::Zero;

use super::Finish;
use super::{Count, Partial};
use crate::error::DecodeError;
use crate::json::Obj;
use crate::round;
use crate::superacc::{Superacc, split};

/// Units of the accumulator: 2^-1074, the smallest subnormal.
pub(crate) const UNIT_EXP: i64 = -1074;

/// Count and exact sum; `finish` rounds the sum and the mean once, correctly.
/// Identity: zero values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sum {
    pub count: Count,
    pub(crate) acc: Superacc,
}

impl Sum {
    /// The exact sum in units of 2^-1074.
    pub fn exact(&self) -> BigInt {
        self.acc.to_bigint()
    }

    /// The correctly rounded sum.
    pub fn value(&self) -> f64 {
        self.small_quotient(1)
            .unwrap_or_else(|| round::to_f64(&self.exact(), UNIT_EXP, false))
    }

    /// The sum over `n`, correctly rounded, in 128-bit integers when the
    /// sum and the quotient are small enough.
    fn small_quotient(&self, n: u64) -> Option<f64> {
        let (v, k) = self.acc.to_i128()?;
        let exp = UNIT_EXP + 32 * i64::from(k);
        if n == 1 {
            return round::small_to_f64(v, exp, false);
        }
        // 64 extra bits of quotient (|v| < 2^63 keeps v << 64 in range).
        i64::try_from(v).ok()?;
        let scaled = v << 64;
        let n = i128::from(n);
        round::small_to_f64(scaled / n, exp - 64, scaled % n != 0)
    }

    /// The correctly rounded mean, `None` without values.
    pub fn mean(&self) -> Option<f64> {
        let n = self.count.n;
        if n == 0 {
            return None;
        }
        if let Some(m) = self.small_quotient(n) {
            return Some(m);
        }
        // 64 extra bits keep the quotient's precision; the remainder is the
        // sticky bit of the rounding.
        let scaled = self.exact() << 64u32;
        let q = &scaled / n;
        let sticky = !(scaled - &q * n).is_zero();
        Some(round::to_f64(&q, UNIT_EXP - 64, sticky))
    }

    pub(crate) fn decode_parts(n: &[u8], acc_bytes: &[u8]) -> Result<Self, DecodeError> {
        let count = Count::decode(n)?;
        let acc = Superacc::decode(acc_bytes)?;
        if count.n == 0 && !acc.is_zero() {
            return Err(DecodeError::new("sum of zero values", acc_bytes));
        }
        Ok(Self { count, acc })
    }
}

impl Partial for Sum {
    const TAG: &'static str = "s";

    #[inline]
    fn update(&mut self, x: f64) {
        if x.is_finite() {
            self.update_finite(x);
        }
    }

    #[inline]
    fn update_finite(&mut self, x: f64) {
        self.count.n += 1;
        let (m, pos, neg) = split(x);
        if m != 0 {
            self.acc.add(m, pos, neg);
        }
    }

    /// `n x` added exactly, as the product of the significand and `n`.
    fn update_n(&mut self, x: f64, n: u64) {
        if !x.is_finite() || n == 0 {
            return;
        }
        if n >= 1 << 53 {
            for _ in 0..n {
                self.update(x);
            }
            return;
        }
        self.count.n += n;
        let (m, pos, neg) = split(x);
        if m != 0 {
            self.acc.add_product(m, n, pos, neg);
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        self.count.check_merge(&other.count)
    }

    fn merge(&mut self, other: &Self) {
        self.count.merge(&other.count);
        self.acc.merge(&other.acc);
    }

    fn finish(&self, out: &mut Obj<'_>, report: &Finish<'_>) {
        self.count.finish(out, report);
        out.f64("sum", self.value());
        out.opt_f64("mean", self.mean());
    }

    fn encode(&self, out: &mut Vec<u8>) {
        self.count.encode(out);
        out.push(b';');
        self.acc.encode(out);
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut it = payload.splitn(2, |&b| b == b';');
        match (it.next(), it.next()) {
            (Some(n), Some(acc)) => Self::decode_parts(n, acc),
            _ => Err(DecodeError::new("sum", payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    #[test]
    fn cancelling_giants_leave_one() {
        let s = laws::fold(&Sum::default(), &[1e308, 1e308, -1e308, -1e308, 1.0]);
        assert_eq!(s.value(), 1.0);
        assert_eq!(s.mean(), Some(0.2));
        assert_eq!(s.count.n, 5);
    }

    #[test]
    fn mean_is_correctly_rounded() {
        // Summed left to right in f64 this is 0.6000000000000001; the exact
        // sum of these three doubles rounds to 0.6.
        let s = laws::fold(&Sum::default(), &[0.1, 0.2, 0.3]);
        assert_eq!(s.value(), 0.6);
        assert_eq!(s.mean(), Some(0.2));
        let e = laws::fold(&Sum::default(), &[f64::NAN]);
        assert_eq!(e.mean(), None);
        assert_eq!(e.value(), 0.0);
    }

    #[test]
    fn overflowing_sum_is_inf_but_mean_is_exact() {
        let s = laws::fold(&Sum::default(), &[f64::MAX, f64::MAX]);
        assert_eq!(s.value(), f64::INFINITY);
        assert_eq!(s.mean(), Some(f64::MAX));
    }

    /// The big-integer path alone: the reference for the 128-bit one.
    fn slow(s: &Sum) -> (f64, Option<f64>) {
        let n = s.count.n;
        let value = round::to_f64(&s.exact(), UNIT_EXP, false);
        let mean = (n > 0).then(|| {
            let scaled = s.exact() << 64u32;
            let q = &scaled / n;
            round::to_f64(&q, UNIT_EXP - 64, !(scaled - &q * n).is_zero())
        });
        (value, mean)
    }

    proptest! {
        /// The 128-bit fast path gives the very bits of the general one:
        /// one or a few values of any magnitude, sums that cancel, means of
        /// repeated values (ties and sticky bits), tiny and huge results.
        #[test]
        fn fast_rounding_matches_big_integers(xs in prop::collection::vec(laws::value(), 1..6),
                                              repeat in 1u64..2000) {
            let mut s = Sum::default();
            for _ in 0..repeat {
                for &x in &xs {
                    s.update(x);
                }
            }
            let (value, mean) = slow(&s);
            prop_assert_eq!(s.value().to_bits(), value.to_bits());
            prop_assert_eq!(s.mean().map(f64::to_bits), mean.map(f64::to_bits));
        }

        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(laws::value(), 0..200),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8),
                                 seed: u64, tree: bool) {
            laws::check(&Sum::default(), &xs, &cuts, seed, tree);
        }

        #[test]
        fn two_values_sum_like_ieee(a in laws::value(), b in laws::value()) {
            prop_assume!(a.is_finite() && b.is_finite() && (a + b).is_finite());
            let s = laws::fold(&Sum::default(), &[a, b]);
            prop_assert_eq!(s.value().to_bits(), (a + b).to_bits() & !(u64::from((a + b) == 0.0) << 63));
        }
    }
}
