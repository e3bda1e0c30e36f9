//! The exact sum and the mean of a group's finite values.

use num_bigint::BigInt;
use num_traits::Zero;

use super::{Count, Fields, Partial, json_f64};
use crate::error::DecodeError;
use crate::round;
use crate::superacc::{Superacc, split};
use serde_json::Value;

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
        round::to_f64(&self.exact(), UNIT_EXP, false)
    }

    /// The correctly rounded mean, `None` without values.
    pub fn mean(&self) -> Option<f64> {
        let n = self.count.n;
        if n == 0 {
            return None;
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
            self.count.n += 1;
            let (m, pos, neg) = split(x);
            if m != 0 {
                self.acc.add(m, pos, neg);
            }
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        self.count.check_merge(&other.count)
    }

    fn merge(&mut self, other: &Self) {
        self.count.merge(&other.count);
        self.acc.merge(&other.acc);
    }

    fn finish(&self, out: &mut Fields) {
        self.count.finish(out);
        out.insert("sum".into(), json_f64(self.value()));
        out.insert("mean".into(), self.mean().map_or(Value::Null, json_f64));
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

    proptest! {
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
