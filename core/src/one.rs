//! The reducer's JSON for a key whose only record is one bare value.
//!
//! With many keys most keys reach the reducer as one value (every id of a
//! table of ids, the tail of page views), and building the state of that
//! value to finish it (exact sums, their rounding, a number formatted per
//! field) is most of the reducer's cost per key. The
//! finished JSON of one value is the same text around that value's text
//! wherever it appears (sum, mean, min, max), so it is made once, by the
//! general finish of a state of one sentinel value, cut where the
//! sentinel's text is, checked against a second sentinel, and filled in
//! per key. A proptest compares it with the general finish over every
//! kind of `f64`.

use crate::agg::What;
use crate::json::{finite_text, push_f64};
use crate::wire::Partials;

/// Values whose texts appear nowhere else in a finished object (no count,
/// name or other number reads like them).
const SENTINELS: [f64; 2] = [1.234_567_890_123_456_7e-300, -9.876_543_210_987_654e300];

/// The finished JSON of one value of the default shape (no histogram, no
/// sketch), in pieces to be joined by the value's text.
#[derive(Clone, Debug)]
pub struct OneTemplate {
    pieces: Vec<Vec<u8>>,
}

impl OneTemplate {
    /// The template of `what`'s finish, `None` when the finished object
    /// is not the same text around the value for both sentinels.
    pub fn new(what: &What) -> Option<Self> {
        let render = |x: f64| {
            let mut p = Partials::default();
            p.set_one(x);
            let mut out = Vec::new();
            p.finish(b"k", &mut out, what);
            out
        };
        let text = |x: f64| {
            let mut t = Vec::new();
            push_f64(&mut t, x);
            t
        };
        let [a, b] = SENTINELS;
        let pieces: Vec<Vec<u8>> = split(&render(a), &text(a));
        let t = Self { pieces };
        let mut check = Vec::new();
        t.join(&text(b), &mut check);
        (check == render(b)).then_some(t)
    }

    /// Appends the finished JSON of the one value `x`, if the template
    /// holds it: false for a non-finite value and for -0.0 (whose exact
    /// sum is +0.0), which the caller finishes the general way.
    #[inline]
    pub fn write(&self, x: f64, out: &mut Vec<u8>) -> bool {
        if !x.is_finite() || (x == 0.0 && x.is_sign_negative()) {
            return false;
        }
        self.join(finite_text(&mut zmij::Buffer::new(), x), out);
        true
    }

    fn join(&self, text: &[u8], out: &mut Vec<u8>) {
        for (i, p) in self.pieces.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(text);
            }
            out.extend_from_slice(p);
        }
    }
}

/// `hay` cut at each occurrence of `needle`.
fn split(hay: &[u8], needle: &[u8]) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut rest = hay;
    while let Some(at) = memchr::memmem::find(rest, needle) {
        pieces.push(rest[..at].to_vec());
        rest = &rest[at + needle.len()..];
    }
    pieces.push(rest.to_vec());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    fn general(x: f64, what: &What) -> Vec<u8> {
        let mut p = Partials::default();
        p.set_one(x);
        let mut out = Vec::new();
        p.finish(b"k", &mut out, what);
        out
    }

    #[test]
    fn the_value_is_cut_out_four_times() {
        let t = OneTemplate::new(&What::default()).expect("a template");
        assert_eq!(t.pieces.len(), 5, "sum, mean, min, max");
        let mut out = Vec::new();
        assert!(!t.write(-0.0, &mut out));
        assert!(!t.write(f64::NAN, &mut out));
        assert!(out.is_empty());
    }

    proptest! {
        /// The template's text is the general finish's, for values of
        /// every exponent, subnormals, integers, zeros and extremes.
        #[test]
        fn same_bytes_as_the_general_finish(x in laws::value()) {
            let what = What::default();
            let t = OneTemplate::new(&what).expect("a template");
            let mut out = Vec::new();
            if t.write(x, &mut out) {
                let want = general(x, &what);
                prop_assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want));
            } else {
                prop_assert!(!x.is_finite() || x.to_bits() == 1 << 63);
            }
        }
    }
}
