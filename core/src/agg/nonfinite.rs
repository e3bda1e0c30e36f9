//! How many of a group's values were NaN or infinite.

use super::Finish;
use super::{Partial, read_u64, write_u64};
use crate::error::DecodeError;
use crate::json::Obj;

/// Values that parsed but are NaN or ±inf: kept out of sums and extremes,
/// counted here (and in the histogram's nan/underflow/overflow bins).
/// Identity: zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NonFinite {
    pub n: u64,
}

impl Partial for NonFinite {
    const TAG: &'static str = "x";

    #[inline]
    fn update(&mut self, x: f64) {
        self.n += u64::from(!x.is_finite());
    }

    /// Nothing to count.
    #[inline]
    fn update_finite(&mut self, _: f64) {}

    fn update_n(&mut self, x: f64, n: u64) {
        if !x.is_finite() {
            self.n += n;
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        super::checked_sum([self.n, other.n], "nonfinite count").map(|_| ())
    }

    fn merge(&mut self, other: &Self) {
        self.n += other.n;
    }

    fn finish(&self, out: &mut Obj<'_>, _: &Finish<'_>) {
        out.u64("nonfinite", self.n);
    }

    fn encode(&self, out: &mut Vec<u8>) {
        write_u64(out, self.n);
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            n: read_u64(payload, "nonfinite count")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(laws::value(), 0..200),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8),
                                 seed: u64, tree: bool) {
            laws::check(&NonFinite::default(), &xs, &cuts, seed, tree);
        }
    }
}
