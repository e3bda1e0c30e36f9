//! Axis ranges that plotters can tick in bounded time.
//!
//! Plotters steps through tick candidates between an axis's ends: a range
//! whose width overflows (-1e308..1e308), is zero, or is tiny next to its
//! magnitude never finishes or draws nothing readable. Every axis of a plot
//! goes through [`Axis::fit`]: values are shown in units of a power of ten
//! (the axis title says which), the width is finite and at least a
//! billionth of the magnitude, and padding never overflows.

/// A fitted axis: draw `value / scale` on `lo..hi`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub scale: f64,
    exp: i32,
}

impl Axis {
    /// The axis for finite data spanning `lo..=hi`, padded by `pad` of its
    /// width on each side (`lo` is kept when `keep_lo`, e.g. a bar's zero).
    pub fn fit(lo: f64, hi: f64, pad: f64, keep_lo: bool) -> Self {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        let big = lo.abs().max(hi.abs());
        let exp = if big > 0.0 {
            big.log10().floor() as i32
        } else {
            0
        };
        // Plain numbers for everyday magnitudes, powers of ten beyond.
        let exp = if (-4..=6).contains(&exp) {
            0
        } else {
            exp.clamp(-307, 308)
        };
        let scale = 10f64.powi(exp);
        let (a, b) = (lo / scale, hi / scale);
        let min_width = (a.abs().max(b.abs()) * 1e-9).max(1e-300);
        let w = (b - a).max(min_width);
        let p = w * pad;
        let lo = if keep_lo && b > a {
            a
        } else {
            a - if b > a {
                p
            } else {
                w.max(a.abs() * 0.05).max(1e-9)
            }
        };
        let hi = b + if b > a {
            p
        } else {
            w.max(b.abs() * 0.05).max(1e-9)
        };
        Self { lo, hi, scale, exp }
    }

    /// The axis over the finite values of `xs` (an empty or all non-finite
    /// input gives 0..1).
    pub fn over(xs: impl IntoIterator<Item = f64>, pad: f64, keep_lo: bool) -> Self {
        let (lo, hi) = xs
            .into_iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
        Self::fit(lo, hi, pad, keep_lo)
    }

    /// `x` in axis units.
    pub fn at(&self, x: f64) -> f64 {
        x / self.scale
    }

    /// What to add to the axis title: ` (x 1e302)` when scaled.
    pub fn unit(&self) -> String {
        if self.exp == 0 {
            String::new()
        } else {
            format!(" (\u{d7} 1e{})", self.exp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_is_finite_and_non_empty() {
        let cases = [
            (-1e308, 1e308),
            (f64::MAX, f64::MAX),
            (-f64::MAX, -f64::MAX),
            (5e-324, 5e-324),
            (0.0, 0.0),
            (1.0, 1.0 + f64::EPSILON),
            (-3.0, 7.0),
            (1e-310, 2e-310),
            (f64::NAN, 1.0),
            (2.0, 1.0),
        ];
        for (lo, hi) in cases {
            let a = Axis::fit(lo, hi, 0.05, false);
            assert!(a.lo.is_finite() && a.hi.is_finite(), "{lo}..{hi}: {a:?}");
            assert!(
                a.hi - a.lo > 0.0 && (a.hi - a.lo).is_finite(),
                "{lo}..{hi}: {a:?}"
            );
            if lo.is_finite() && hi.is_finite() && lo <= hi {
                assert!(a.at(lo) >= a.lo && a.at(hi) <= a.hi, "{lo}..{hi}: {a:?}");
            }
        }
        assert_eq!(Axis::fit(-3.0, 7.0, 0.0, false).unit(), "");
        assert_eq!(
            Axis::fit(-1e308, 1e308, 0.0, false).unit(),
            " (\u{d7} 1e308)"
        );
    }
}
