//! The number of finite values of a group.

use super::Finish;
use super::{Partial, read_u64, write_u64};
use crate::error::DecodeError;
use crate::json::Obj;

/// How many finite values were seen; NaN and infinities are counted by
/// [`super::NonFinite`] instead. Identity: zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub n: u64,
}

impl Partial for Count {
    const TAG: &'static str = "n";

    #[inline]
    fn update(&mut self, x: f64) {
        self.n += u64::from(x.is_finite());
    }

    fn update_n(&mut self, x: f64, n: u64) {
        if x.is_finite() {
            self.n += n;
        }
    }

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        super::checked_sum([self.n, other.n], "count").map(|_| ())
    }

    fn merge(&mut self, other: &Self) {
        self.n += other.n;
    }

    fn finish(&self, out: &mut Obj<'_>, _: &Finish<'_>) {
        out.u64("count", self.n);
    }

    fn encode(&self, out: &mut Vec<u8>) {
        write_u64(out, self.n);
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            n: read_u64(payload, "count")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    #[test]
    fn counts_only_finite() {
        let c = laws::fold(&Count::default(), &[1.0, f64::NAN, -0.0, f64::INFINITY]);
        assert_eq!(c.n, 2);
    }

    proptest! {
        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec(laws::value(), 0..200),
                                 cuts in prop::collection::vec(any::<usize>(), 0..8),
                                 seed: u64, tree: bool) {
            laws::check(&Count::default(), &xs, &cuts, seed, tree);
        }
    }
}
