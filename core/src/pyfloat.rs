//! Floats written the way Python's `repr` writes them.
//!
//! The reference data sets were written by Python, so generated files match
//! them byte for byte in style: shortest round-trip digits (as ryu finds
//! them), positional between 1e-4 and 1e16, otherwise `6.4e-05` /
//! `1e+16` (a sign and at least two exponent digits).

/// Where text is appended: a vector, or a number's own small buffer
/// ([`crate::binary::NumberText`]).
pub trait Out {
    fn put(&mut self, s: &[u8]);

    fn push(&mut self, b: u8) {
        self.put(&[b]);
    }

    fn zeros(&mut self, n: usize) {
        for _ in 0..n {
            self.push(b'0');
        }
    }
}

impl Out for Vec<u8> {
    fn put(&mut self, s: &[u8]) {
        self.extend_from_slice(s);
    }

    fn push(&mut self, b: u8) {
        Vec::push(self, b);
    }

    fn zeros(&mut self, n: usize) {
        self.extend(std::iter::repeat_n(b'0', n));
    }
}

/// Appends `repr(x)` of a finite `x`.
pub fn push_repr(out: &mut impl Out, x: f64) {
    let mut b = ryu::Buffer::new();
    let s = b.format_finite(x).as_bytes();
    let (neg, s) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    let (mant, exp) = match s.iter().position(|&c| c == b'e') {
        Some(e) => (&s[..e], parse_exp(&s[e + 1..])),
        None => (s, 0),
    };
    // Digits without the point; `point` digits stand before it.
    let mut digits = [0u8; 24];
    let (mut n, mut point) = (0usize, None);
    for &c in mant {
        if c == b'.' {
            point = Some(n);
        } else {
            digits[n] = c;
            n += 1;
        }
    }
    let mut point = point.unwrap_or(n) as i32 + exp;
    let lead = digits[..n].iter().take_while(|&&d| d == b'0').count();
    let digits = &digits[lead..n];
    point -= lead as i32;
    let digits = &digits[..digits.len() - digits.iter().rev().take_while(|&&d| d == b'0').count()];
    if neg {
        out.push(b'-');
    }
    if digits.is_empty() {
        out.put(b"0.0");
        return;
    }
    // Scientific exponent: value = d.ddd * 10^sci.
    let sci = point - 1;
    if (-4..16).contains(&sci) {
        if point <= 0 {
            out.put(b"0.");
            out.zeros((-point) as usize);
            out.put(digits);
        } else if digits.len() as i32 <= point {
            out.put(digits);
            out.zeros((point - digits.len() as i32) as usize);
            out.put(b".0");
        } else {
            out.put(&digits[..point as usize]);
            out.push(b'.');
            out.put(&digits[point as usize..]);
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.put(&digits[1..]);
        }
        out.push(b'e');
        out.push(if sci < 0 { b'-' } else { b'+' });
        let e = sci.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.put(itoa::Buffer::new().format(e).as_bytes());
    }
}

fn parse_exp(s: &[u8]) -> i32 {
    let (neg, d) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    let v = d.iter().fold(0i32, |v, &c| v * 10 + i32::from(c - b'0'));
    if neg { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(x: f64) -> String {
        let mut v = Vec::new();
        push_repr(&mut v, x);
        String::from_utf8(v).expect("ascii")
    }

    #[test]
    fn like_python() {
        // Expected strings are Python 3's repr() of the same doubles.
        let cases = [
            (0.8449506929198441, "0.8449506929198441"),
            (-1.1731692311337918, "-1.1731692311337918"),
            (6.4e-05, "6.4e-05"),
            (0.0001, "0.0001"),
            (1e-05, "1e-05"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (123.456, "123.456"),
            (0.1, "0.1"),
            (2.5e-05, "2.5e-05"),
        ];
        for (x, want) in cases {
            assert_eq!(repr(x), want);
        }
    }

    #[test]
    fn roundtrips() {
        let mut x = 1.2345e-7f64;
        for _ in 0..2000 {
            let s = repr(x);
            assert_eq!(s.parse::<f64>().expect("parses"), x, "{s}");
            x *= -1.37;
        }
    }
}
