//! A fast path for the plain decimals that fill most number columns
//! (`-0.14406163542784764`): at most 19 digits, no exponent.
//!
//! `fast_float2` handles every form but spends its time on branches whose
//! outcome depends on the digits (how many are left after each block of 8,
//! whether the mantissa fits Clinger's fast path). Weather-like data flips
//! them at random, so they mispredict. Here the number of digits is known
//! from the field's length, a fraction is read in at most three 8-byte
//! loads whatever its length, the sign is a bit and Eisel-Lemire always
//! runs: no data-dependent branch on the common path, and identical bits
//! (measured against `fast_float2` in docs/performance.md). Anything else
//! returns `None` and goes to `fast_float2`.

/// `5^q` for `q` in `-19..=0`, normalised to 128 bits (high, low), as in
/// the Eisel-Lemire tables of fast_float; a test re-derives every entry.
const POW5: [(u64, u64); 20] = [
    (0xec1e4a7db69561a5, 0x2b31e9e3d06c32e6), // 5^-19
    (0x9392ee8e921d5d07, 0x3aff322e62439fd0), // 5^-18
    (0xb877aa3236a4b449, 0x09befeb9fad487c3), // 5^-17
    (0xe69594bec44de15b, 0x4c2ebe687989a9b4), // 5^-16
    (0x901d7cf73ab0acd9, 0x0f9d37014bf60a11), // 5^-15
    (0xb424dc35095cd80f, 0x538484c19ef38c95), // 5^-14
    (0xe12e13424bb40e13, 0x2865a5f206b06fba), // 5^-13
    (0x8cbccc096f5088cb, 0xf93f87b7442e45d4), // 5^-12
    (0xafebff0bcb24aafe, 0xf78f69a51539d749), // 5^-11
    (0xdbe6fecebdedd5be, 0xb573440e5a884d1c), // 5^-10
    (0x89705f4136b4a597, 0x31680a88f8953031), // 5^-9
    (0xabcc77118461cefc, 0xfdc20d2b36ba7c3e), // 5^-8
    (0xd6bf94d5e57a42bc, 0x3d32907604691b4d), // 5^-7
    (0x8637bd05af6c69b5, 0xa63f9a49c2c1b110), // 5^-6
    (0xa7c5ac471b478423, 0x0fcf80dc33721d54), // 5^-5
    (0xd1b71758e219652b, 0xd3c36113404ea4a9), // 5^-4
    (0x83126e978d4fdf3b, 0x645a1cac083126ea), // 5^-3
    (0xa3d70a3d70a3d70a, 0x3d70a3d70a3d70a4), // 5^-2
    (0xcccccccccccccccc, 0xcccccccccccccccd), // 5^-1
    (0x8000000000000000, 0x0000000000000000), // 5^0
];
const MIN_Q: i32 = -19;

const POW10: [u64; 19] = {
    let mut p = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// `KEEP[r]` keeps the last `r` bytes of a little-endian 8-byte load.
const KEEP: [u64; 9] = [
    0,
    0xFF00_0000_0000_0000,
    0xFFFF_0000_0000_0000,
    0xFFFF_FF00_0000_0000,
    0xFFFF_FFFF_0000_0000,
    0xFFFF_FFFF_FF00_0000,
    0xFFFF_FFFF_FFFF_0000,
    0xFFFF_FFFF_FFFF_FF00,
    u64::MAX,
];

const ZEROS: u64 = 0x3030_3030_3030_3030;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Parses `-?DIGITS(.DIGITS)?` with at most 19 digits in all; `None` for
/// anything else (exponents, `+`, spaces, `nan`, more digits), which the
/// caller hands to a general parser. Correctly rounded, like `str::parse`.
#[inline(always)]
pub fn parse(field: &[u8]) -> Option<f64> {
    let neg = field.first() == Some(&b'-');
    let s = &field[usize::from(neg)..];
    let mut w: u64 = 0;
    let mut i = 0;
    while let Some(d) = s.get(i).and_then(|c| digit(*c)) {
        if i == 19 {
            return None;
        }
        w = w * 10 + d;
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut frac = 0;
    if i < s.len() {
        if s[i] != b'.' {
            return None;
        }
        let t = &s[i + 1..];
        frac = t.len();
        if i + frac > 19 {
            return None;
        }
        if frac >= 8 {
            // Three reads whatever the length (8 to 18 digits): the first 8
            // digits, the last up to 8, and the up to 2 between them (read
            // as the last bytes of a word ending there). A loop over blocks
            // mispredicted on 15-, 16- and 17-digit fractions.
            let c = (frac - 8).min(8);
            let b = frac - 8 - c;
            let first = digits8(load8(&t[..8]), u64::MAX)?;
            let mid = digits8(load8(&t[b..b + 8]), KEEP[b])?;
            let last = digits8(load8(&s[s.len() - 8..]), KEEP[c])?;
            // Independent products, not a chain of multiply-adds: the
            // parse is latency-bound.
            w = w * POW10[frac] + first * POW10[b + c] + mid * POW10[c] + last;
        } else if s.len() >= 8 {
            // The field's last 8 bytes, of which all but `frac` are already
            // read (or are the point): no branch on `frac`.
            w = w * POW10[frac] + digits8(load8(&s[s.len() - 8..]), KEEP[frac])?;
        } else {
            for &c in t {
                w = w * 10 + digit(c)?;
            }
        }
    }
    let x = if w == 0 {
        0.0
    } else {
        eisel_lemire(w, -(frac as i32))
    };
    // The sign as a bit, not a branch: signs of data are coin flips.
    Some(f64::from_bits(x.to_bits() | u64::from(neg) << 63))
}

#[inline(always)]
fn digit(c: u8) -> Option<u64> {
    c.is_ascii_digit().then(|| u64::from(c - b'0'))
}

/// The first 8 bytes of `b`, little-endian.
#[inline(always)]
pub(crate) fn load8(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The value of the ASCII digits in the bytes `keep` selects (first digit
/// in the lowest byte), or `None` when one of them is not a digit.
#[inline(always)]
fn digits8(v: u64, keep: u64) -> Option<u64> {
    // Bytes not kept become '0', so no borrow crosses into a kept byte.
    let v = (v & keep) | (ZEROS & !keep);
    let d = v.wrapping_sub(ZEROS);
    if (v.wrapping_add(0x4646_4646_4646_4646) | d) & HIGH != 0 {
        return None;
    }
    // Pairs, then quads, then the eight (fast_float's SWAR reduction).
    let v = d * 10 + (d >> 8);
    let lo = (v & 0x0000_00FF_0000_00FF).wrapping_mul(0x000F_4240_0000_0064);
    let hi = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(0x0000_2710_0000_0001);
    Some(lo.wrapping_add(hi) >> 32)
}

/// `w * 10^q` correctly rounded, for `w > 0` and `q` in `MIN_Q..=0`. In this
/// range the truncated 128-bit product always decides the rounding
/// (fast_float's `compute_float`, whose error case needs `q < -27`), and
/// results are normal numbers.
#[inline(always)]
fn eisel_lemire(w: u64, q: i32) -> f64 {
    let lz = w.leading_zeros();
    let w = w << lz;
    let (p_hi, p_lo) = POW5[(q - MIN_Q) as usize];
    let first = u128::from(w) * u128::from(p_hi);
    let (mut lo, mut hi) = (first as u64, (first >> 64) as u64);
    // 9 = 64 - 52 - 3: the bits below the mantissa and its rounding bits.
    if hi & 0x1FF == 0x1FF {
        let second = ((u128::from(w) * u128::from(p_lo)) >> 64) as u64;
        lo = lo.wrapping_add(second);
        hi += u64::from(second > lo);
    }
    let upper = (hi >> 63) as u32;
    let mut m = hi >> (upper + 9);
    let mut power2 = ((q * (152_170 + 65_536)) >> 16) + 63 + upper as i32 - lz as i32 + 1023;
    // An exact halfway case rounds to even (possible only for q >= -4).
    if lo <= 1 && q >= -4 && m & 3 == 1 && (m << (upper + 9)) == hi {
        m &= !1;
    }
    m += m & 1;
    m >>= 1;
    if m >= 2 << 52 {
        m = 1 << 52;
        power2 += 1;
    }
    f64::from_bits((m & !(1 << 52)) | (power2 as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    #[test]
    fn table_is_five_to_the_q() {
        for (i, &(hi, lo)) in POW5.iter().enumerate() {
            let q = MIN_Q + i as i32;
            let one = BigUint::from(1u8);
            let mut c = if q < 0 {
                let p = BigUint::from(5u8).pow(q.unsigned_abs());
                (&one << (p.bits() + 127)) / p + 1u8
            } else {
                one.clone()
            };
            while c < (&one << 127u32) {
                c <<= 1u32;
            }
            while c >= (&one << 128u32) {
                c >>= 1u32;
            }
            let want: u128 = c.try_into().expect("128 bits");
            assert_eq!((hi, lo), ((want >> 64) as u64, want as u64), "5^{q}");
        }
    }

    fn std(s: &str) -> Option<f64> {
        s.parse().ok()
    }

    #[test]
    fn known_values() {
        for s in [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "1.",
            "-1.5",
            "0.1",
            "0.3",
            "9007199254740993",
            "1234567890123456789",
            "9999999999999999999",
            "0.14406163542784764",
            "-1.374513899829971",
            "2.5",
            "0.000000000000000001",
            "4.35",
            "1.00000000000000011102230246251565",
        ] {
            let got = parse(s.as_bytes());
            if let Some(x) = got {
                assert_eq!(Some(x.to_bits()), std(s).map(f64::to_bits), "{s}");
            }
        }
        assert!(parse(b"-0.0").is_some_and(|x| x.is_sign_negative() && x == 0.0));
        assert_eq!(parse(b"0.14406163542784764"), Some(0.14406163542784764));
        for none in [
            &b""[..],
            b"-",
            b".5",
            b"+1",
            b"1e5",
            b"1.5e3",
            b" 1",
            b"1 ",
            b"nan",
            b"1.2.3",
            b"12345678901234567890",
            b"0.12345678901234567890",
            b"1,5",
            b"1.23456789x",
            b"1.2345678x",
            b"x.12345678",
        ] {
            assert_eq!(parse(none), None, "{:?}", String::from_utf8_lossy(none));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Every decimal of the fast path's shape parses to the bits of a
        /// correctly rounded parser.
        #[test]
        fn matches_std(neg: bool, int in "[0-9]{1,19}", frac in proptest::option::of("[0-9]{0,19}")) {
            let mut s = String::new();
            if neg { s.push('-'); }
            s.push_str(&int);
            if let Some(f) = &frac { s.push('.'); s.push_str(f); }
            let digits = int.len() + frac.as_ref().map_or(0, String::len);
            let got = parse(s.as_bytes());
            prop_assert_eq!(got.is_some(), digits <= 19, "{}", s);
            if let Some(x) = got {
                prop_assert_eq!(x.to_bits(), std(&s).map(f64::to_bits).unwrap_or(0), "{}", s);
            }
        }

        /// Shortest round-trip text of any value in the fast path's range
        /// reads back to that value.
        #[test]
        fn round_trips(x in -1e6f64..1e6) {
            let s = ryu::Buffer::new().format_finite(x).to_owned();
            if let Some(y) = parse(s.as_bytes()) {
                prop_assert_eq!(y.to_bits(), x.to_bits(), "{}", s);
            }
        }

        /// On any bytes, the fast path either declines or agrees.
        #[test]
        fn never_disagrees(b in proptest::collection::vec(prop_oneof![Just(b'-'), Just(b'.'), Just(b'e'), Just(b' '), b'0'..=b'9', any::<u8>()], 0..30)) {
            if let Some(x) = parse(&b) {
                let s = std::str::from_utf8(&b).expect("digits are ASCII");
                prop_assert_eq!(Some(x.to_bits()), std(s).map(f64::to_bits), "{}", s);
            }
        }
    }
}
