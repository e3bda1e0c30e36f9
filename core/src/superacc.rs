//! An exact accumulator for sums of binary floating-point values.
//!
//! Every finite `f64` is an integer multiple of 2^-1074, so a sum of them is an
//! integer in those units: it can be held exactly, merged exactly and rounded
//! once at the end. That is what makes a mean computed over 1 split and over
//! 10,000 splits print the same digits.
//!
//! The integer is kept as 32-bit digits in `i64` chunks (the "small
//! superaccumulator" of R. M. Neal, "Fast exact summation using small and large
//! superaccumulators", 2015): an add touches two chunks and never carries,
//! because each chunk has 31 spare bits; carries are propagated every
//! [`CARRY_EVERY`] adds. Only the window of chunks that values actually reached
//! is stored, so a group whose values are all near 1.0 costs a few chunks, not
//! the 68 that the whole `f64` range would need.
//!
//! The unit is chosen by the caller (`pos` is a bit position in the caller's
//! units): [`crate::agg::Sum`] uses 2^-1074, [`crate::agg::Spread`] uses
//! 2^-2148 for exact squares.

use num_bigint::BigInt;
use smallvec::SmallVec;

use crate::error::DecodeError;

/// Adds between carry propagations. A normalised chunk is below 2^32 in
/// magnitude and an add puts less than 2^53 into a chunk, so 1000 adds stay
/// below 2^62.97: no `i64` overflow.
const CARRY_EVERY: u32 = 1000;
const DIGIT: i64 = 1 << 32;
const LOW: i64 = DIGIT - 1;

/// Heap bytes accumulators have taken by growing past their inline chunks
/// (values of far-apart magnitudes), in this process, ever. A state's
/// growth is otherwise invisible to the mapper's memory bound in jobs whose
/// states do not grow; it reads this (a plain load) on every line instead
/// of measuring every state.
static SPILLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// See [`SPILLED`].
#[inline]
pub fn spilled_bytes() -> usize {
    SPILLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The widest window a decoded accumulator may claim, in 32-bit chunks:
/// squares of `f64` values in units of 2^-2148 reach bit 4196, and a sum of
/// up to 2^64 of them needs 64 more bits (4260 in all, 134 chunks).
pub const MAX_CHUNKS: usize = 136;

/// Chunks held inline: a value's sum takes 2-3, its square 5. With many
/// keys most groups hold a value or two, and a heap window per accumulator
/// made allocation the mapper's main cost on distinct keys.
type Chunks = SmallVec<[i64; 6]>;

/// An exact integer `sum(chunks[i] * 2^(32 * (first + i)))`, in caller units.
///
/// The identity of [`Superacc::merge`] is the default (zero, no chunks).
#[derive(Debug)]
pub struct Superacc {
    first: u32,
    chunks: Chunks,
    /// Adds left before carries must be propagated: counted down, so that
    /// an add's count is one decrement and a test for zero.
    room: u32,
}

impl Default for Superacc {
    fn default() -> Self {
        Self {
            first: 0,
            chunks: Chunks::new(),
            room: CARRY_EVERY,
        }
    }
}

/// By hand: the derived clone copies the chunks through an iterator
/// (`From<&[T]>`); `from_slice` copies them as one block. The mapper clones
/// an empty group for each new key.
impl Superacc {
    /// Bytes on the heap: chunks past the inline ones (a sum spanning
    /// many binary orders of magnitude).
    pub fn heap_size(&self) -> usize {
        if self.chunks.spilled() {
            self.chunks.capacity() * 8
        } else {
            0
        }
    }
}

impl Clone for Superacc {
    fn clone(&self) -> Self {
        Self {
            first: self.first,
            chunks: Chunks::from_slice(&self.chunks),
            room: self.room,
        }
    }
}

impl Superacc {
    /// Adds `m * 2^pos` (or subtracts it when `neg`); `m < 2^53`. Always
    /// inlined, as the adds below: once co-moments called them from more
    /// places, the compiler stopped inlining them into the mapper's loop.
    #[inline(always)]
    pub fn add(&mut self, m: u64, pos: u32, neg: bool) {
        debug_assert!(m < 1 << 53);
        let idx = pos >> 5;
        let sh = pos & 31;
        // The two 32-bit digits of m << sh without a 128-bit shift (the
        // wrapped high bits of `m << sh` fall outside the low digit).
        let lo = ((m << sh) & LOW as u64) as i64;
        let hi = (m >> (32 - sh)) as i64;
        let sign = -i64::from(neg);
        let (lo, hi) = ((lo ^ sign) - sign, (hi ^ sign) - sign);
        // One look at the small vector (where it lives, how long it is):
        // the window holds both digits, or is widened first.
        let i = idx.wrapping_sub(self.first) as usize;
        if let Some([a, b]) = self.chunks.get_mut(i..i.wrapping_add(2)) {
            *a += lo;
            *b += hi;
        } else {
            let i = self.slot(idx, 2);
            self.chunks[i] += lo;
            self.chunks[i + 1] += hi;
        }
        self.count_add();
    }

    /// Adds `m² * 2^pos2` (`m < 2^53`): the square's up to 138 bits as five
    /// digits behind one window check, not two [`Superacc::add`]s of its
    /// 53-bit halves (two checks, two carries).
    #[inline(always)]
    pub fn add_square(&mut self, m: u64, pos2: u32) {
        self.add_product(m, m, pos2, false);
    }

    /// Adds `a * b * 2^pos` (or subtracts it when `neg`); `a, b < 2^53`:
    /// the product's up to 106 bits as five digits (a square, or the
    /// cross products of a correlation).
    #[inline(always)]
    pub fn add_product(&mut self, a: u64, b: u64, pos: u32, neg: bool) {
        debug_assert!(a < 1 << 53 && b < 1 << 53);
        self.add_wide(u128::from(a) * u128::from(b), pos, neg);
    }

    /// Adds `p * 2^pos` (or subtracts it when `neg`): any 128-bit
    /// magnitude, as five digits (a product, or a batch's sum of values
    /// of one position).
    #[inline(always)]
    pub fn add_wide(&mut self, p: u128, pos: u32, neg: bool) {
        let idx = pos >> 5;
        let sh = pos & 31;
        let v = p << sh;
        // The bits shifted past 128 (none when sh is 0).
        let top = ((p >> 1) >> (127 - sh)) as i64;
        let (lo, hi) = (v as u64, (v >> 64) as u64);
        let low = LOW as u64;
        let sign = -i64::from(neg);
        let digits = [lo & low, lo >> 32, hi & low, hi >> 32, top as u64]
            .map(|d| ((d as i64) ^ sign) - sign);
        // One look at the small vector, as in `add`.
        let i = idx.wrapping_sub(self.first) as usize;
        let c = match self.chunks.get_mut(i..i.wrapping_add(5)) {
            Some(c) => c,
            None => {
                let i = self.slot(idx, 5);
                &mut self.chunks[i..i + 5]
            }
        };
        for (c, d) in c.iter_mut().zip(digits) {
            *c += d;
        }
        self.count_add();
    }

    /// The offset in `chunks` of chunk index `idx`, the window grown first
    /// when `width` chunks from there are not all held (one compare when
    /// they are).
    #[inline]
    fn slot(&mut self, idx: u32, width: usize) -> usize {
        let i = idx.wrapping_sub(self.first) as usize;
        // i + width <= len, without an overflow for an i that wrapped.
        if i < self.chunks.len().saturating_sub(width - 1) {
            return i;
        }
        self.cover(idx, idx + width as u32);
        (idx - self.first) as usize
    }

    /// True when adds were made since carries were last propagated.
    fn has_pending(&self) -> bool {
        self.room != CARRY_EVERY
    }

    /// Counts an add, propagating carries before any chunk can overflow.
    #[inline]
    fn count_add(&mut self) {
        self.room -= 1;
        if self.room == 0 {
            self.normalize();
        }
    }

    /// Adds another accumulator (in the same units) exactly.
    pub fn merge(&mut self, other: &Superacc) {
        if other.chunks.is_empty() {
            return;
        }
        // A state without pending adds is normalized (decoded, or carried
        // after its last add), its digits in range: added as it is, not
        // copied and carried first.
        if other.has_pending() {
            let mut o = other.clone();
            o.normalize();
            return self.merge_normalized(&o);
        }
        self.merge_normalized(other);
    }

    fn merge_normalized(&mut self, o: &Superacc) {
        if self.has_pending() {
            self.normalize();
        }
        let end = o.first + o.chunks.len() as u32;
        self.cover(o.first, end + 1);
        let off = (o.first - self.first) as usize;
        for (d, s) in self.chunks[off..].iter_mut().zip(&o.chunks) {
            *d += s;
        }
        self.normalize();
    }

    /// Grows the window to cover chunk indices `lo..hi`.
    #[cold]
    fn cover(&mut self, lo: u32, hi: u32) {
        let before = self.heap_size();
        self.widen(lo, hi);
        let grown = self.heap_size().saturating_sub(before);
        if grown > 0 {
            SPILLED.fetch_add(grown, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn widen(&mut self, lo: u32, hi: u32) {
        if self.chunks.is_empty() {
            self.first = lo;
            self.chunks = smallvec::smallvec![0; (hi - lo) as usize];
            return;
        }
        let end = self.first + self.chunks.len() as u32;
        if lo < self.first {
            let grow = (self.first - lo) as usize;
            self.chunks.insert_many(0, std::iter::repeat_n(0, grow));
            self.first = lo;
        }
        if hi > end {
            self.chunks
                .resize(self.chunks.len() + (hi - end) as usize, 0);
        }
    }

    /// Propagates carries: all chunks but the top in `0..2^32`, the top signed
    /// and non-zero, no zero chunks at the bottom. Equal values then have equal
    /// chunks, which makes encodings canonical.
    pub fn normalize(&mut self) {
        self.room = CARRY_EVERY;
        let mut carry = 0i64;
        for c in &mut self.chunks {
            let v = *c + carry;
            *c = v & LOW;
            carry = v >> 32;
        }
        while carry != 0 && carry != -1 {
            self.chunks.push(carry & LOW);
            carry >>= 32;
        }
        if carry == -1 {
            self.chunks.push(-1);
        }
        // Drop zero tops, and fold a top of -1 into a non-zero chunk below
        // it (which then lies in -2^32+1..=-1). A zero below is left alone:
        // folding it would make a top of -2^32, out of the digit range, and
        // the bottom-zero trim below shortens that case instead.
        loop {
            let len = self.chunks.len();
            match self.chunks.last() {
                Some(0) => {
                    self.chunks.pop();
                }
                Some(-1) if len >= 2 && self.chunks[len - 2] != 0 => {
                    self.chunks.pop();
                    self.chunks[len - 2] -= DIGIT;
                }
                _ => break,
            }
        }
        let zeros = self.chunks.iter().take_while(|&&c| c == 0).count();
        if zeros > 0 {
            self.chunks.drain(..zeros);
            self.first += zeros as u32;
        }
        if self.chunks.is_empty() {
            self.first = 0;
        }
    }

    /// The value's sign: -1, 0 or 1.
    pub fn signum(&mut self) -> i64 {
        self.normalize();
        self.chunks.last().map_or(0, |c| c.signum())
    }

    /// True when the value is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.chunks.iter().all(|&c| c == 0) || {
            let mut n = self.clone();
            n.normalize();
            n.chunks.is_empty()
        }
    }

    /// The value as `(v, k)`, meaning `v * 2^(32 k)`, when `v` fits an
    /// `i128` (a window of a few chunks: any one value, most small groups).
    pub fn to_i128(&self) -> Option<(i128, u32)> {
        // Low zero chunks (a square's window starts below its digits) are
        // left out, so only the digits themselves must fit.
        let skip = self.chunks.iter().take_while(|&&c| c == 0).count();
        let mut v: i128 = 0;
        for &c in self.chunks[skip..].iter().rev() {
            v = v.checked_mul(DIGIT as i128)?.checked_add(i128::from(c))?;
        }
        Some((v, self.first + skip as u32))
    }

    /// The exact value as a big integer in caller units.
    pub fn to_bigint(&self) -> BigInt {
        let (v, k) = self.to_scaled_bigint();
        v << (32 * k as usize)
    }

    /// The exact value as `(v, k)`, meaning `v * 2^(32 k)`: the digits
    /// without the zeros below them, a few limbs where [`Superacc::to_bigint`]
    /// of a sum in units of 2^-1074 takes some twenty.
    pub fn to_scaled_bigint(&self) -> (BigInt, u32) {
        let mut n = self.clone();
        n.normalize();
        let mut v = BigInt::from(0);
        for &c in n.chunks.iter().rev() {
            v = (v << 32u32) + c;
        }
        (v, n.first)
    }

    /// Canonical text form: `FIRST:C0.C1...` in hex (the top chunk may carry a
    /// `-`), or `0`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut n = self.clone();
        n.normalize();
        if n.chunks.is_empty() {
            out.push(b'0');
            return;
        }
        push_hex(out, u64::from(n.first));
        out.push(b':');
        for (i, c) in n.chunks.iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            if *c < 0 {
                out.push(b'-');
            }
            push_hex(out, c.unsigned_abs());
        }
    }

    /// Parses [`Superacc::encode`]'s form, checking every digit's range and
    /// that the form is canonical (what [`Superacc::normalize`] leaves), so
    /// that equal values always have equal encodings. At most
    /// [`MAX_CHUNKS`] chunks: more than any sum of `u64::MAX` values holds.
    pub fn decode(text: &[u8]) -> Result<Self, DecodeError> {
        let bad = || DecodeError::new("exact sum", text);
        if text == b"0" {
            return Ok(Self::default());
        }
        let s = std::str::from_utf8(text).map_err(|_| bad())?;
        let (first, digits) = s.split_once(':').ok_or_else(bad)?;
        let first = canonical_hex(first).ok_or_else(bad)?;
        let parts: Vec<&str> = digits.split('.').collect();
        if parts.len() > MAX_CHUNKS {
            return Err(bad());
        }
        let mut chunks = Chunks::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            let top = i + 1 == parts.len();
            let (neg, hex) = match p.strip_prefix('-') {
                Some(h) if top => (true, h),
                _ => (false, *p),
            };
            let v = canonical_hex(hex).ok_or_else(bad)?;
            if top && v == 0 {
                return Err(bad());
            }
            let v = i64::from(v);
            chunks.push(if neg { -v } else { v });
        }
        let len = chunks.len();
        let folds_further = len >= 2 && chunks[len - 1] == -1 && chunks[len - 2] != 0;
        if chunks.first() == Some(&0) || folds_further || first as usize + len > MAX_CHUNKS {
            return Err(bad());
        }
        Ok(Self {
            first,
            chunks,
            room: CARRY_EVERY,
        })
    }
}

/// A `u32` written as [`Superacc::encode`] writes it: lowercase hex digits,
/// no sign, no leading zero.
fn canonical_hex(s: &str) -> Option<u32> {
    let ok = !s.is_empty()
        && s.len() <= 8
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && (s == "0" || !s.starts_with('0'));
    if ok {
        u32::from_str_radix(s, 16).ok()
    } else {
        None
    }
}

impl PartialEq for Superacc {
    fn eq(&self, other: &Self) -> bool {
        let (mut a, mut b) = (self.clone(), other.clone());
        a.normalize();
        b.normalize();
        a.first == b.first && a.chunks == b.chunks
    }
}

/// Splits a finite `f64` into `(mantissa, position of its lowest bit in units
/// of 2^-1074, negative)`: `x = ±m * 2^(pos - 1074)`.
#[inline]
pub fn split(x: f64) -> (u64, u32, bool) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as u32;
    let frac = bits & ((1 << 52) - 1);
    let neg = bits >> 63 == 1;
    if exp == 0 {
        (frac, 0, neg)
    } else {
        (frac | (1 << 52), exp - 1, neg)
    }
}

/// Appends `v` in lower-case hex without leading zeros (`format!("{v:x}")`
/// without the formatting machinery, which runs per value written).
fn push_hex(out: &mut Vec<u8>, v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let len = (64 - v.leading_zeros()).div_ceil(4).max(1) as usize;
    let mut buf = [0u8; 16];
    for (i, b) in buf[..len].iter_mut().enumerate() {
        *b = DIGITS[(v >> (4 * (len - 1 - i)) & 15) as usize];
    }
    out.extend_from_slice(&buf[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc_of(xs: &[f64]) -> Superacc {
        let mut a = Superacc::default();
        for &x in xs {
            let (m, p, n) = split(x);
            a.add(m, p, n);
        }
        a
    }

    proptest::proptest! {
        /// Adds and squared adds against big-integer arithmetic, at every
        /// digit offset and with mantissas up to 53 bits.
        #[test]
        fn adds_are_exact(terms in proptest::collection::vec(
            (0u64..1 << 53, 0u32..2200, proptest::bool::ANY, proptest::bool::ANY), 1..40)) {
            let (mut a, mut want) = (Superacc::default(), BigInt::from(0));
            for &(m, pos, neg, square) in &terms {
                if square {
                    a.add_square(m, 2 * pos);
                    want += (BigInt::from(m) * m) << (2 * pos) as usize;
                } else {
                    a.add(m, pos, neg);
                    let v = BigInt::from(m) << pos as usize;
                    want += if neg { -v } else { v };
                }
            }
            proptest::prop_assert_eq!(a.to_bigint(), want);
        }
    }

    fn roundtrip(a: &Superacc) -> Superacc {
        let mut enc = Vec::new();
        a.encode(&mut enc);
        let b = Superacc::decode(&enc).unwrap_or_else(|e| panic!("{e} (value {})", a.to_bigint()));
        let mut again = Vec::new();
        b.encode(&mut again);
        assert_eq!(enc, again, "canonical");
        assert_eq!(a.to_bigint(), b.to_bigint());
        b
    }

    /// Every power of two and its negation, and one below and above each,
    /// at every bit position a square can reach: the values whose top digit
    /// is a carry away from the digit range.
    #[test]
    fn powers_of_two_roundtrip() {
        for k in 0..4300u32 {
            for (m, neg) in [(1, true), (1, false), (3, true)] {
                let mut a = Superacc::default();
                a.add(m, k, neg);
                roundtrip(&a);
                let mut b = a.clone();
                b.add(1, 0, false);
                roundtrip(&b);
                let mut c = a.clone();
                c.add(1, 0, true);
                roundtrip(&c);
            }
        }
    }

    proptest::proptest! {
        /// Accumulators over terms at every magnitude, with sums that cancel,
        /// survive encode and decode, and merges of decoded halves equal the
        /// big-integer sum.
        #[test]
        fn wire_roundtrip_and_merge(terms in proptest::collection::vec(
            (0u64..1 << 53, 0u32..2100, proptest::bool::ANY), 0..30), cut in 0usize..30) {
            let cut = cut.min(terms.len());
            let (mut a, mut b, mut want) = (Superacc::default(), Superacc::default(), BigInt::from(0));
            for (i, &(m, pos, neg)) in terms.iter().enumerate() {
                if i < cut { a.add(m, pos, neg) } else { b.add(m, pos, neg) }
                let v = BigInt::from(m) << pos as usize;
                want += if neg { -v } else { v };
            }
            // The negated total too, so sums that cancel to -2^k appear.
            let mut merged = roundtrip(&a);
            merged.merge(&roundtrip(&b));
            proptest::prop_assert_eq!(roundtrip(&merged).to_bigint(), want.clone());
            let mut neg = Superacc::default();
            for &(m, pos, n) in &terms {
                neg.add(m, pos, !n);
            }
            proptest::prop_assert_eq!(roundtrip(&neg).to_bigint(), -want);
        }
    }

    #[test]
    fn reported_integer_sums_roundtrip() {
        for x in [-16384.0, -(2f64.powi(46)), -1.0, -(2f64.powi(1023))] {
            roundtrip(&acc_of(&[x]));
        }
    }

    #[test]
    fn split_reassembles() {
        for x in [1.0, -2.5, 5e-324, f64::MAX, -f64::MIN_POSITIVE, 0.1] {
            let (m, p, n) = split(x);
            let v = BigInt::from(m) << p as usize;
            let back = acc_of(&[x]).to_bigint();
            assert_eq!(back, if n { -v } else { v });
        }
    }

    #[test]
    fn cancellation_is_exact() {
        let a = acc_of(&[1e308, 1e308, -1e308, -1e308, 1.0]);
        assert_eq!(a, acc_of(&[1.0]));
        let z = acc_of(&[0.1, -0.1, 3.5, -3.5]);
        assert!(z.is_zero());
    }

    #[test]
    fn many_adds_carry_without_overflow() {
        let xs = vec![f64::MAX; 10_000];
        let a = acc_of(&xs);
        let (m, p, _) = split(f64::MAX);
        assert_eq!(a.to_bigint(), (BigInt::from(m) << p as usize) * 10_000);
    }

    #[test]
    fn hex_is_formats_hex() {
        for k in 0..64 {
            for v in [
                1u64 << k,
                (1u64 << k) - 1,
                u64::MAX >> k,
                0x0123_4567_89ab_cdef >> k,
            ] {
                let mut out = Vec::new();
                super::push_hex(&mut out, v);
                assert_eq!(String::from_utf8_lossy(&out), format!("{v:x}"));
            }
        }
    }

    #[test]
    fn encode_decode_roundtrip_and_canonical() {
        for xs in [
            vec![],
            vec![1.0],
            vec![-1.0],
            vec![-3.0, 1.0],
            vec![5e-324, -1e300, 7.0],
        ] {
            let a = acc_of(&xs);
            let mut enc = Vec::new();
            a.encode(&mut enc);
            let b = Superacc::decode(&enc).expect("decodes");
            assert_eq!(a, b);
            let mut enc2 = Vec::new();
            b.encode(&mut enc2);
            assert_eq!(enc, enc2);
        }
    }

    #[test]
    fn decode_rejects_garbage() {
        for bad in [
            &b""[..],
            b"x",
            b"1:",
            b"1:100000000",
            b"1:0",
            b"1:5.0",
            b"1:-5.3",
            b"1:5.-1",
            b"01:5",
            b"1:05",
            b"1:FF",
            b"1:+5",
            b"1:-100000000",
            b"1:ffffffff.-1",
            b"ff:1",
            b"1:5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5.5",
        ] {
            assert!(Superacc::decode(bad).is_err(), "{:?}", bad);
        }
    }
}
