//! Two columns together (`--corr X,Y`): covariance, Pearson's r and the
//! least-squares line of Y on X, from exact sums.
//!
//! The state is the pair count and the exact sums of x, y, x², y² and xy
//! (superaccumulators: the products of two doubles are exact integers in
//! units of 2^-2148), so it merges exactly in any order. Every result is
//! one exact rational rounded once: with `C(a,b) = n Σab - Σa Σb`,
//! covariance `C(x,y) / (n (n-1))`, `r = C(x,y) / sqrt(C(x,x) C(y,y))`
//! (as the root of its exact square), slope `C(x,y) / C(x,x)` and
//! intercept `(Σy Σx² - Σx Σxy) / C(x,x)`. Only rows where both columns
//! hold finite numbers are pairs.

use num_bigint::BigInt;
use num_traits::Signed;

use super::measure::{Fields, Flag, Given, Line, flag_error};
use super::{Count, Finish, Partial, sum::UNIT_EXP};
use crate::error::{DecodeError, Error};
use crate::json::Obj;
use crate::round;
use crate::spec::Column;
use crate::superacc::{Superacc, split};

/// Units of the squares and products: 2^-2148.
const SQ_EXP: i64 = 2 * UNIT_EXP;

/// The co-moments. Identity: off (the job has no `--corr`). The sums are
/// boxed so that every other job's groups stay small: the reducer builds a
/// state per record, and 5M one-value keys reduced 1.8x slower with them
/// inline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Corr(Option<Box<Sums>>);

#[derive(Clone, Debug, Default, PartialEq)]
struct Sums {
    n: Count,
    sx: Superacc,
    sy: Superacc,
    sxx: Superacc,
    syy: Superacc,
    sxy: Superacc,
}

impl Corr {
    pub fn new() -> Self {
        Self(Some(Box::default()))
    }

    /// Pairs folded in.
    pub fn pairs(&self) -> u64 {
        self.0.as_ref().map_or(0, |s| s.n.n)
    }

    /// Folds in one pair of finite values.
    #[inline]
    pub fn add_pair(&mut self, x: f64, y: f64) {
        let Some(s) = self.0.as_mut() else { return };
        if !x.is_finite() || !y.is_finite() {
            return;
        }
        s.n.n += 1;
        let (mx, px, nx) = split(x);
        let (my, py, ny) = split(y);
        if mx != 0 {
            s.sx.add(mx, px, nx);
            s.sxx.add_square(mx, 2 * px);
        }
        if my != 0 {
            s.sy.add(my, py, ny);
            s.syy.add_square(my, 2 * py);
        }
        if mx != 0 && my != 0 {
            s.sxy.add_product(mx, my, px + py, nx != ny);
        }
    }

    /// Why these sums cannot be of any pairs: with `C(a,b) = n Σab - Σa Σb`,
    /// `C(x,x)` and `C(y,y)` are not negative and `C(x,y)^2 <= C(x,x)
    /// C(y,y)` (Cauchy–Schwarz; a merge adds a positive semidefinite
    /// matrix to their sum, so merged checked states pass too): else r
    /// would print past ±1 or NaN.
    pub(crate) fn check_sums(&self) -> Result<(), String> {
        let Some(s) = self.0.as_ref().filter(|s| s.n.n >= 1) else {
            return Ok(());
        };
        let n = s.n.n;
        let (sx, sy) = (s.sx.to_bigint(), s.sy.to_bigint());
        let c = |sab: &Superacc, sa: &BigInt, sb: &BigInt| sab.to_bigint() * n - sa * sb;
        let (cxy, cxx, cyy) = (
            c(&s.sxy, &sx, &sy),
            c(&s.sxx, &sx, &sx),
            c(&s.syy, &sy, &sy),
        );
        if cxx.is_negative() || cyy.is_negative() || &cxy * &cxy > &cxx * &cyy {
            return Err(format!("co-moments that no {n} pairs have"));
        }
        Ok(())
    }

    /// `(covariance, r, slope, intercept)`, each `None` where undefined
    /// (fewer than two pairs, or a column without spread).
    pub fn results(&self) -> [Option<f64>; 4] {
        let Some(s) = self.0.as_ref().filter(|s| s.n.n >= 2) else {
            return [None; 4];
        };
        let n = s.n.n;
        let (sx, sy) = (s.sx.to_bigint(), s.sy.to_bigint());
        let (sxx, syy, sxy) = (s.sxx.to_bigint(), s.syy.to_bigint(), s.sxy.to_bigint());
        let c = |sab: &BigInt, sa: &BigInt, sb: &BigInt| sab * n - sa * sb;
        let (cxy, cxx, cyy) = (c(&sxy, &sx, &sy), c(&sxx, &sx, &sx), c(&syy, &sy, &sy));
        let cov = round::ratio(&cxy, &(BigInt::from(n) * (n - 1)), SQ_EXP);
        let spread = |v: &BigInt| v.is_positive();
        let r = (spread(&cxx) && spread(&cyy)).then(|| {
            let m = round::sqrt_ratio(&(&cxy * &cxy), &(&cxx * &cyy), 0);
            if cxy.is_negative() { -m } else { m }
        });
        let slope = spread(&cxx).then(|| round::ratio(&cxy, &cxx, 0));
        let intercept =
            spread(&cxx).then(|| round::ratio(&(&sy * &sxx - &sx * &sxy), &cxx, UNIT_EXP));
        [Some(cov), r, slope, intercept]
    }

    /// Writes `"corr":{"x":..,"y":..,"n":..,"covariance":..,"r":..,
    /// "slope":..,"intercept":..}` with the reducer's column names.
    fn write(&self, out: &mut Obj<'_>, names: Option<&(Column, Column)>) {
        if self.0.is_none() {
            return;
        }
        let [cov, r, slope, intercept] = self.results();
        out.obj("corr", |o| {
            if let Some((x, y)) = names {
                o.str("x", &x.0);
                o.str("y", &y.0);
            }
            o.u64("n", self.pairs());
            o.opt_f64("covariance", cov);
            o.opt_f64("r", r);
            o.opt_f64("slope", slope);
            o.opt_f64("intercept", intercept);
        });
    }
}

/// `--corr X,Y`: the co-moments of two columns, once per group.
impl super::Measure for Corr {
    const FLAGS: &'static [Flag] = &[Flag::new(
        "corr",
        "X,Y",
        "Two columns together: covariance, Pearson's r, and the least-squares slope and \
         intercept of Y on X per group, from exact sums rounded once. Rows where either is \
         missing or not finite are left out.",
    )];

    type Spec = (Column, Column);
    type Shape = ();
    /// The line's pair, when both are numbers.
    type Input = Option<(f64, f64)>;

    fn parse(given: &Given, _: &[Column]) -> Result<Option<Self::Spec>, Error> {
        let Some(text) = given.one("corr") else {
            return Ok(None);
        };
        match text.split_once(',') {
            Some((x, y)) if !x.trim().is_empty() && !y.trim().is_empty() && !y.contains(',') => Ok(
                Some((Column(x.trim().to_owned()), Column(y.trim().to_owned()))),
            ),
            _ => Err(flag_error(
                "--corr",
                text,
                "two columns, X,Y (the line is Y on X)",
            )),
        }
    }

    fn columns((x, y): &Self::Spec) -> Vec<&Column> {
        vec![x, y]
    }

    fn shape(_: &Self::Spec, _: usize) -> Option<()> {
        Some(())
    }

    fn with_shape((): ()) -> Self {
        Self::new()
    }

    fn shape_of(&self) -> Option<()> {
        self.0.as_ref().map(|_| ())
    }

    fn read<'a>(cols: &[usize], line: &Line<'_, impl Fields<'a>>) -> Result<Self::Input, String> {
        line.pair(cols, "--corr")
    }

    fn feed<'a>(&mut self, pair: Self::Input, _: &[usize], _: &Line<'_, impl Fields<'a>>) {
        if let Some((x, y)) = pair {
            self.add_pair(x, y);
        }
    }

    fn rows_counted(&self) -> u128 {
        u128::from(self.pairs())
    }

    fn check_state(&self, _: &super::Check) -> Result<(), String> {
        self.check_sums()
    }
}

impl Partial for Corr {
    fn heap_size(&self) -> usize {
        self.0.as_ref().map_or(0, |s| {
            std::mem::size_of::<Sums>()
                + [&s.sx, &s.sy, &s.sxx, &s.syy, &s.sxy]
                    .iter()
                    .map(|a| a.heap_size())
                    .sum::<usize>()
        })
    }
    const TAG: &'static str = "xy";

    fn update(&mut self, _: f64) {}

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        super::checked_sum([self.pairs(), other.pairs()], "pair count").map(|_| ())
    }

    fn merge(&mut self, other: &Self) {
        let Some(o) = other.0.as_ref() else { return };
        let Some(s) = self.0.as_mut() else {
            self.0 = other.0.clone();
            return;
        };
        s.n.merge(&o.n);
        for (a, b) in [
            (&mut s.sx, &o.sx),
            (&mut s.sy, &o.sy),
            (&mut s.sxx, &o.sxx),
            (&mut s.syy, &o.syy),
            (&mut s.sxy, &o.sxy),
        ] {
            a.merge(b);
        }
    }

    fn finish(&self, out: &mut Obj<'_>, f: &Finish<'_>) {
        self.write(out, f.spec::<Self>());
    }

    fn is_identity(&self) -> bool {
        self.0.is_none()
    }

    /// `N;SX;SY;SXX;SYY;SXY`.
    fn encode(&self, out: &mut Vec<u8>) {
        let Some(s) = self.0.as_ref() else { return };
        s.n.encode(out);
        for a in [&s.sx, &s.sy, &s.sxx, &s.syy, &s.sxy] {
            out.push(b';');
            a.encode(out);
        }
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let parts: Vec<&[u8]> = payload.split(|&b| b == b';').collect();
        let [n, sx, sy, sxx, syy, sxy] = parts[..] else {
            return Err(DecodeError::new("co-moments", payload));
        };
        let s = Sums {
            n: Count::decode(n)?,
            sx: Superacc::decode(sx)?,
            sy: Superacc::decode(sy)?,
            sxx: Superacc::decode(sxx)?,
            syy: Superacc::decode(syy)?,
            sxy: Superacc::decode(sxy)?,
        };
        let sums = [&s.sx, &s.sy, &s.sxx, &s.syy, &s.sxy];
        if s.n.n == 0 && sums.iter().any(|a| !a.is_zero()) {
            return Err(DecodeError::new("co-moments of no pairs", payload));
        }
        Ok(Self(Some(Box::new(s))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use num_traits::Zero;
    use proptest::prelude::*;

    fn of(pairs: &[(f64, f64)]) -> Corr {
        let mut c = Corr::new();
        for &(x, y) in pairs {
            c.add_pair(x, y);
        }
        c
    }

    #[test]
    fn a_line_is_found_exactly() {
        // y = 3 - 2x, exactly representable: r = -1, slope -2, intercept 3.
        let c = of(&[(0.5, 2.0), (1.5, 0.0), (-4.0, 11.0), (1e3, -1997.0)]);
        let [cov, r, slope, intercept] = c.results();
        assert_eq!((r, slope, intercept), (Some(-1.0), Some(-2.0), Some(3.0)));
        assert!(cov.is_some_and(|v| v < 0.0));
        let flat = of(&[(1.0, 5.0), (2.0, 5.0)]);
        assert_eq!(flat.results()[1], None, "no spread in y: no r");
        assert_eq!(of(&[(1.0, 1.0)]).results(), [None; 4]);
        assert_eq!(of(&[(f64::NAN, 1.0), (1.0, f64::INFINITY)]).pairs(), 0);
    }

    proptest! {
        /// Any split and order of the pairs gives the same state, decoded
        /// between merges, at every magnitude.
        #[test]
        fn merge_equals_one_pass(xs in prop::collection::vec((laws::value(), laws::value()), 0..120),
                                 cut in any::<usize>(), rev: bool) {
            let (m, whole) = laws::check_pairs(of, &xs, cut, rev);
            prop_assert_eq!(m.results().map(|v| v.map(f64::to_bits)), whole.results().map(|v| v.map(f64::to_bits)));
        }

        /// The slope is the exact rational rounded once: the neighbours of
        /// the reported value bracket it no closer than the value itself.
        #[test]
        fn slope_is_correctly_rounded(xs in prop::collection::vec((-1e6f64..1e6, -1e6f64..1e6), 2..40)) {
            let c = of(&xs);
            let Some(s) = c.results()[2].filter(|s| *s != 0.0) else { return Ok(()) };
            // Exact in units of 2^-1074 per value, computed here directly.
            let u = |x: f64| -> BigInt {
                let (m, p, neg) = split(x);
                let v = BigInt::from(m) << p as usize;
                if neg { -v } else { v }
            };
            let n = BigInt::from(xs.len());
            let (mut sx, mut sy, mut sxx, mut sxy) = (BigInt::zero(), BigInt::zero(), BigInt::zero(), BigInt::zero());
            for &(x, y) in &xs {
                sx += u(x);
                sy += u(y);
                sxx += u(x) * u(x);
                sxy += u(x) * u(y);
            }
            let num = &n * &sxy - &sx * &sy;
            let den = &n * &sxx - &sx * &sx;
            // |s - num/den| <= |t - num/den| for the neighbours t of s, in
            // exact arithmetic: compare |s den - num| scaled by 2^k.
            let dist = |t: f64| -> BigInt {
                let (m, p, neg) = split(t);
                let v = BigInt::from(m) << p as usize;
                let v = if neg { -v } else { v };
                // t = v * 2^-1074: t den - num, both sides times 2^1074.
                (v * &den - (&num << 1074usize)).abs()
            };
            let up = f64::from_bits(s.to_bits() + 1);
            let down = f64::from_bits(s.to_bits() - 1);
            prop_assert!(dist(s) <= dist(up) && dist(s) <= dist(down), "slope {s}");
        }
    }
}
