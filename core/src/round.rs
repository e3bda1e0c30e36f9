//! Correct rounding of exact big-integer results to `f64`.
//!
//! Sums, means and variances are computed exactly (see [`crate::superacc`]);
//! this is the single place where they become `f64`, with round-to-nearest,
//! ties-to-even, gradual underflow and overflow to infinity, exactly as IEEE
//! 754 would round the true value.

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{ToPrimitive, Zero};

/// Rounds `n * 2^exp` to the nearest `f64`. `sticky` says the true value is a
/// little larger in magnitude than `n * 2^exp` (a truncated quotient).
pub fn to_f64(n: &BigInt, exp: i64, sticky: bool) -> f64 {
    let neg = n.sign() == Sign::Minus;
    let v = round_mag(n.magnitude(), exp, sticky);
    if neg { -v } else { v }
}

/// [`to_f64`] for an `n` that fits an `i128`, without big integers, when
/// the result is a normal number (else `None`: take the general path).
/// With many keys most groups hold a value or two, and the big-integer
/// path dominated the reducer's time on them.
pub fn small_to_f64(n: i128, exp: i64, sticky: bool) -> Option<f64> {
    if n == 0 {
        return (!sticky).then_some(0.0);
    }
    let mag = n.unsigned_abs();
    // A sticky bit is folded into the lowest bit ("round to odd"), which is
    // exact when at least two bits lie below the 53 kept: the conversion
    // then sees a tie only where the true value is one.
    if sticky && mag < 1 << 55 {
        return None;
    }
    let mag = if sticky { mag | 1 } else { mag };
    // One rounding, to nearest with ties to even (`as` is specified so).
    let r = mag as f64;
    if !(-1022..=1023).contains(&exp) {
        return None;
    }
    // Scaling by a power of two is exact while the result stays normal,
    // and it does: mag >= 1 and exp >= -1022.
    let v = r * f64::from_bits(((exp + 1023) as u64) << 52);
    v.is_finite().then_some(if n < 0 { -v } else { v })
}

fn round_mag(mag: &BigUint, exp: i64, sticky: bool) -> f64 {
    if mag.is_zero() {
        return 0.0;
    }
    let bits = mag.bits() as i64;
    // The leading bit is worth 2^e.
    let e = bits - 1 + exp;
    if e > 1023 {
        return f64::INFINITY;
    }
    if e < -1075 {
        return 0.0;
    }
    // Bits of precision available at this magnitude: 53 for normal numbers,
    // fewer in the subnormal range (down to 2^-1074).
    let keep = if e >= -1022 { 53 } else { e + 1075 };
    let drop = bits - keep;
    let mut m: u64;
    if drop <= 0 {
        // Exact; a sticky remainder is below half an ulp and rounds away.
        m = (mag << (-drop) as usize).to_u64().unwrap_or(u64::MAX);
    } else {
        let d = drop as u64;
        m = (mag >> d).to_u64().unwrap_or(u64::MAX);
        let half = mag.bit(d - 1);
        let below = sticky || mag.trailing_zeros().is_some_and(|tz| tz < d - 1);
        if half && (below || m & 1 == 1) {
            m += 1;
        }
    }
    // Lowest kept bit is worth 2^(e - keep + 1).
    let low = e - keep + 1;
    compose(m, low)
}

/// The correctly rounded `num / den * 2^exp` (`den > 0`): the quotient
/// taken with at least 66 bits, its remainder the sticky bit.
pub fn ratio(num: &BigInt, den: &BigInt, exp: i64) -> f64 {
    if num.is_zero() || den.sign() != Sign::Plus {
        return if num.is_zero() { 0.0 } else { f64::NAN };
    }
    let shift = (den.bits() as i64 - num.bits() as i64 + 66).max(0);
    let scaled = num << shift as usize;
    let q = &scaled / den;
    let sticky = !(scaled - &q * den).is_zero();
    to_f64(&q, exp - shift, sticky)
}

/// The correctly rounded `sqrt(num / den * 2^exp)` for `num >= 0`, `den > 0`
/// and an even `exp`; NaN for a negative `num`.
pub fn sqrt_ratio(num: &BigInt, den: &BigInt, exp: i64) -> f64 {
    debug_assert!(exp % 2 == 0 && den.sign() == Sign::Plus);
    if num.sign() == Sign::Minus || den.sign() != Sign::Plus {
        return f64::NAN;
    }
    if num.is_zero() {
        return 0.0;
    }
    // Sums of squares are integers in units of 2^-2148, so a spread of
    // values near 1 is a number of some 2,200 bits with most low bits zero:
    // dropping an even number of them keeps the value and makes the
    // division and the root small (they dominated the reducer on many
    // small groups).
    let tz = num.trailing_zeros().unwrap_or(0) & !1;
    let (num, exp) = (num >> tz, exp + tz as i64);
    if let (Some(n), Some(d)) = (num.to_u128(), den.to_u128())
        && let Some(r) = small_sqrt_ratio(n, d, exp)
    {
        return r;
    }
    big_sqrt_ratio(&num, den, exp)
}

/// [`sqrt_ratio`] in big integers, for a positive `num`.
fn big_sqrt_ratio(num: &BigInt, den: &BigInt, exp: i64) -> f64 {
    // Scale by an even power of two so the quotient has at least 130 bits:
    // its square root then has 65, more than the 53 kept plus the rounding
    // bit, and the remainders tell whether anything was cut off.
    let gap = num.bits() as i64 - den.bits() as i64;
    let shift = (132 - gap).max(0) & !1;
    let scaled = num.magnitude() << shift as usize;
    let q = &scaled / den.magnitude();
    let cut = !(scaled - &q * den.magnitude()).is_zero();
    let root = q.sqrt();
    let sticky = cut || &root * &root != q;
    to_f64(&BigInt::from(root), (exp - shift) / 2, sticky)
}

/// [`sqrt_ratio`] in 128-bit integers, when `n` and `d` are small
/// enough (a group of up to about a hundred values after the shared power
/// of two is dropped), else `None`: the big-integer root was the
/// reducer's largest cost on page views, one small group per page.
pub fn small_sqrt_ratio(n: u128, d: u128, exp: i64) -> Option<f64> {
    if n == 0 || d == 0 || exp % 2 != 0 {
        return None;
    }
    let tz = n.trailing_zeros() & !1;
    let (n, exp) = (n >> tz, exp + i64::from(tz));
    // The quotient gets at least 113 bits, so the root has 57: two more
    // than the 55 that rounding with a sticky bit needs.
    let gap = i64::from(d.leading_zeros()) - i64::from(n.leading_zeros());
    let shift = (114 - gap).max(0) & !1;
    if i64::from(n.leading_zeros()) < shift {
        return None;
    }
    let scaled = n << shift;
    let q = scaled / d;
    let root = q.isqrt();
    let sticky = scaled % d != 0 || root * root != q;
    small_to_f64(i128::try_from(root).ok()?, (exp - shift) / 2, sticky)
}

/// Builds `m * 2^low` where `m <= 2^53` and the result is representable (or
/// overflows to infinity after a rounding carry).
fn compose(m: u64, low: i64) -> f64 {
    if low <= -1074 {
        // Subnormal (or the smallest normal after a carry): `m` is the raw
        // fraction field, and 2^52 lands exactly on the smallest normal.
        debug_assert_eq!(low, -1074);
        return f64::from_bits(m);
    }
    let (mut m, mut low) = (m, low);
    if m == 1 << 53 {
        m >>= 1;
        low += 1;
    }
    let biased = low + 52 + 1023;
    if biased >= 2047 {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) | (m & ((1 << 52) - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::superacc::{Superacc, split};

    fn exact(xs: &[f64]) -> BigInt {
        let mut a = Superacc::default();
        for &x in xs {
            let (m, p, n) = split(x);
            a.add(m, p, n);
        }
        a.to_bigint()
    }

    #[test]
    fn single_values_roundtrip() {
        for x in [
            0.0,
            1.0,
            -1.0,
            0.1,
            5e-324,
            -5e-324,
            2.2250738585072014e-308,
            2.225073858507201e-308,
            f64::MAX,
            -f64::MAX,
            123456.789,
        ] {
            assert_eq!(to_f64(&exact(&[x]), -1074, false).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn two_term_sums_match_ieee_addition() {
        // IEEE addition of two doubles is itself correctly rounded.
        let cases = [
            (1.0, 1e-16),
            (1.0, 1.1102230246251565e-16),
            (1.0, -1.1102230246251565e-16),
            (0.1, 0.2),
            (1e308, 1e308),
            (-1e308, -1e308),
            (5e-324, 5e-324),
            (2.2250738585072014e-308, -5e-324),
            // Half an ulp of MAX: a tie, and MAX is odd, so it overflows.
            (f64::MAX, 2f64.powi(970)),
            (f64::MAX, 2f64.powi(969)),
            (3.0, -1e-300),
        ];
        for (a, b) in cases {
            let got = to_f64(&exact(&[a, b]), -1074, false);
            assert_eq!(got.to_bits(), (a + b).to_bits(), "{a} + {b}");
        }
    }

    #[test]
    fn sticky_breaks_ties_upward() {
        // 1 + 2^-53 is a tie between 1 and 1 + 2^-52: even wins, sticky lifts.
        let n = (BigInt::from(1) << 53usize) + 1;
        assert_eq!(to_f64(&n, -53, false), 1.0);
        assert_eq!(to_f64(&n, -53, true), 1.0 + f64::EPSILON);
    }

    #[test]
    fn sqrt_ratio_is_correctly_rounded() {
        let b = BigInt::from;
        assert_eq!(sqrt_ratio(&b(4), &b(1), 0), 2.0);
        assert_eq!(sqrt_ratio(&b(2), &b(1), 0), std::f64::consts::SQRT_2);
        assert_eq!(sqrt_ratio(&b(1), &b(4), 0), 0.5);
        assert_eq!(sqrt_ratio(&b(0), &b(3), 0), 0.0);
        assert!(sqrt_ratio(&b(-1), &b(3), 0).is_nan());
        // sqrt(2^-2148) is the smallest subnormal; sqrt(2^2046) is 2^1023.
        assert_eq!(sqrt_ratio(&b(1), &b(1), -2148), 5e-324);
        assert_eq!(sqrt_ratio(&b(1), &b(1), 2046), 2f64.powi(1023));
        // Whenever sqrt of a double is correctly rounded by IEEE, it agrees.
        for x in [
            3.0,
            10.0,
            1e-300,
            123456.789,
            2.2250738585072014e-308,
            f64::MAX,
        ] {
            let (m, p, _) = crate::superacc::split(x);
            let n = BigInt::from(m) << (p as usize);
            assert_eq!(sqrt_ratio(&n, &b(1), -1074), x.sqrt(), "{x}");
        }
    }

    #[test]
    fn halfway_below_smallest_subnormal() {
        let n = BigInt::from(1);
        assert_eq!(to_f64(&n, -1075, false), 0.0);
        assert_eq!(to_f64(&n, -1075, true), 5e-324);
        assert_eq!(to_f64(&BigInt::from(3), -1076, false), 5e-324);
    }

    proptest::proptest! {
        /// The 128-bit root rounds as the big-integer one: any sizes,
        /// perfect squares (no sticky bit) and their neighbours, quotients
        /// near every power of two, subnormal and huge results.
        #[test]
        fn small_root_matches_the_general_one(bits in 1u32..128, raw: u128, d in 1u128..1 << 20,
                                              square in proptest::prelude::any::<bool>(), nudge in -1i8..=1,
                                              exp in -2300i64..2000) {
            let exp = exp & !1;
            let n = if square {
                let r = (raw >> 75).max(1);
                (r * r * d).saturating_add_signed(i128::from(nudge)).max(1)
            } else {
                (raw >> (128 - bits)).max(1)
            };
            let (num, den) = (BigInt::from(n), BigInt::from(d));
            if let Some(v) = small_sqrt_ratio(n, d, exp) {
                let want = big_sqrt_ratio(&num, &den, exp);
                proptest::prop_assert_eq!(v.to_bits(), want.to_bits(), "n {} d {} exp {}", n, d, exp);
            }
        }

        /// Roots exactly halfway between two doubles, with and without a
        /// remainder in the division (which breaks the tie upward).
        #[test]
        fn small_root_rounds_ties_as_the_general_one(m in 1u128 << 52..1 << 53, d in 1u128..1 << 12,
                                                     rem: u128, exp in -1000i64..1000) {
            let r = (m << 5) | 16;
            let n = r * r * d + rem % d;
            let (num, den) = (BigInt::from(n), BigInt::from(d));
            let v = small_sqrt_ratio(n, d, exp & !1);
            proptest::prop_assert!(v.is_some());
            proptest::prop_assert_eq!(v.map(f64::to_bits), Some(big_sqrt_ratio(&num, &den, exp & !1).to_bits()));
        }

        /// The 128-bit path rounds as the general one, on ties above all:
        /// `m` followed by `10...0` with and without a sticky remainder,
        /// `m` even and odd, at every width.
        #[test]
        fn small_path_matches_the_general_one(m in 1u64 << 52..1 << 53, d in 1u32..74,
                                             low in proptest::prelude::any::<u64>(), tie: bool,
                                             sticky: bool, neg: bool, exp in -1100i64..1100) {
            let q = (u128::from(m) << d) | if tie { 1u128 << (d - 1) } else { u128::from(low) & ((1u128 << d) - 1) };
            let q = if neg { -(q as i128) } else { q as i128 };
            if let Some(v) = small_to_f64(q, exp, sticky) {
                let want = to_f64(&BigInt::from(q), exp, sticky);
                proptest::prop_assert_eq!(v.to_bits(), want.to_bits(), "q {} exp {} sticky {}", q, exp, sticky);
            }
        }
    }
}
