//! The smallest and largest finite value of a group.

use super::Finish;
use super::{Partial, read_f64, write_f64};
use crate::error::DecodeError;
use crate::json::Obj;

/// Min and max under IEEE total order (so -0.0 < 0.0 whatever the order the
/// values arrive in). Identity: min = +inf, max = -inf (no values).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinMax {
    pub min: f64,
    pub max: f64,
}

impl Default for MinMax {
    fn default() -> Self {
        Self {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl MinMax {
    fn is_empty(&self) -> bool {
        self.min > self.max
    }

    /// `(min, max)`, `None` without finite values.
    pub fn range(&self) -> Option<(f64, f64)> {
        (!self.is_empty()).then_some((self.min, self.max))
    }
}

impl Partial for MinMax {
    const TAG: &'static str = "m";

    #[inline]
    fn update(&mut self, x: f64) {
        if x.is_finite() {
            self.update_finite(x);
        }
    }

    #[inline(always)]
    fn update_finite(&mut self, x: f64) {
        // Plain compares first (total order differs only between -0.0 and
        // 0.0, which compare equal), so most values cost two compares.
        if x <= self.min && x.total_cmp(&self.min).is_lt() {
            self.min = x;
        }
        if x >= self.max && x.total_cmp(&self.max).is_gt() {
            self.max = x;
        }
    }

    fn update_n(&mut self, x: f64, n: u64) {
        if n > 0 {
            self.update(x);
        }
    }

    fn merge(&mut self, other: &Self) {
        if other.min.total_cmp(&self.min).is_lt() {
            self.min = other.min;
        }
        if other.max.total_cmp(&self.max).is_gt() {
            self.max = other.max;
        }
    }

    fn finish(&self, out: &mut Obj<'_>, _: &Finish<'_>) {
        let some = !self.is_empty();
        out.opt_f64("min", some.then_some(self.min));
        out.opt_f64("max", some.then_some(self.max));
    }

    fn is_identity(&self) -> bool {
        self.is_empty()
    }

    fn encode(&self, out: &mut Vec<u8>) {
        write_f64(out, self.min);
        out.push(b',');
        write_f64(out, self.max);
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut it = payload.splitn(2, |&b| b == b',');
        let (Some(lo), Some(hi)) = (it.next(), it.next()) else {
            return Err(DecodeError::new("min,max", payload));
        };
        let (min, max) = (read_f64(lo, "min")?, read_f64(hi, "max")?);
        if min.total_cmp(&max).is_gt() {
            return Err(DecodeError::new("min,max (min above max)", payload));
        }
        Ok(Self { min, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    #[test]
    fn ignores_nonfinite_and_orders_zeros() {
        let m = laws::fold(
            &MinMax::default(),
            &[0.0, f64::NAN, -0.0, f64::NEG_INFINITY, 2.0],
        );
        assert_eq!(m.min.to_bits(), (-0.0f64).to_bits());
        assert_eq!(m.max, 2.0);
        let mut out = Vec::new();
        crate::json::Obj::write(&mut out, |o| {
            MinMax::default().finish(
                o,
                &crate::agg::Finish {
                    what: &crate::agg::What::default(),
                    range: None,
                },
            )
        });
        assert_eq!(out, br#"{"min":null,"max":null}"#);
    }

    proptest! {
        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(laws::value(), 0..200),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8),
                                 seed: u64, tree: bool) {
            laws::check(&MinMax::default(), &xs, &cuts, seed, tree);
        }
    }
}
