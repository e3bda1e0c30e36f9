//! The reducer's JSON, written straight into the output buffer.
//!
//! A finished group is a flat object of a few numbers (and a histogram), and
//! there is one per key: with millions of keys, building a `serde_json`
//! map per key (a hash per field name, an allocation per name and value)
//! was the reducer's largest cost. The
//! bytes are the same as `serde_json::to_writer` of the equivalent map:
//! numbers as serde_json prints them (zmij, shortest round trip), no spaces.

/// An open JSON object; fields are appended in call order.
#[derive(Debug)]
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
    /// The last number written: its bits and where its text lies in `out`.
    /// A group of one value writes that value four times (sum, mean, min,
    /// max), and formatting it four times is most of such a group's cost:
    /// the text is copied instead.
    last: Option<(u64, usize, usize)>,
}

impl<'a> Obj<'a> {
    /// Writes `{`, the fields `fill` adds, and `}`.
    pub fn write(out: &'a mut Vec<u8>, fill: impl FnOnce(&mut Obj<'_>)) {
        out.push(b'{');
        let mut o = Obj {
            out,
            empty: true,
            last: None,
        };
        fill(&mut o);
        o.out.push(b'}');
    }

    /// The comma before every field but the first.
    fn sep(&mut self) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
    }

    /// Starts a field; names are plain ASCII words, so never escaped.
    fn name(&mut self, name: &str) {
        debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        self.sep();
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn u64(&mut self, name: &str, n: u64) {
        self.name(name);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    /// A number, or `"inf"`/`"-inf"`/`"nan"` where JSON has none (an exact
    /// sum whose rounding overflows, say): never a silent `null`.
    pub fn f64(&mut self, name: &str, x: f64) {
        self.name(name);
        let start = self.out.len();
        match self.last {
            Some((bits, at, end)) if bits == x.to_bits() => {
                self.out.extend_from_within(at..end);
            }
            _ => push_f64(self.out, x),
        }
        self.last = Some((x.to_bits(), start, self.out.len()));
    }

    /// [`Obj::f64`], or `null` for `None` (a mean of no values).
    pub fn opt_f64(&mut self, name: &str, x: Option<f64>) {
        match x {
            Some(x) => self.f64(name, x),
            None => {
                self.name(name);
                self.out.extend_from_slice(b"null");
            }
        }
    }

    pub fn u64s(&mut self, name: &str, xs: &[u64]) {
        self.name(name);
        push_u64s(self.out, xs);
    }

    /// An array of arrays of counts (a grid, row by row).
    pub fn rows<'r>(&mut self, name: &str, rows: impl Iterator<Item = &'r [u64]>) {
        self.name(name);
        self.out.push(b'[');
        for (i, row) in rows.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            push_u64s(self.out, row);
        }
        self.out.push(b']');
    }

    /// A nested object.
    pub fn obj(&mut self, name: &str, fill: impl FnOnce(&mut Obj<'_>)) {
        self.name(name);
        Obj::write(self.out, fill);
    }

    /// A nested object under a name from the user (a column name: any
    /// text, escaped as JSON requires).
    pub fn obj_named(&mut self, name: &str, fill: impl FnOnce(&mut Obj<'_>)) {
        self.sep();
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, name);
        self.out.push(b':');
        Obj::write(self.out, fill);
    }

    /// A text value (escaped as JSON requires).
    pub fn str(&mut self, name: &str, text: &str) {
        self.name(name);
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, text);
    }

    pub fn bool(&mut self, name: &str, b: bool) {
        self.name(name);
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
    }
}

fn push_u64s(out: &mut Vec<u8>, xs: &[u64]) {
    out.push(b'[');
    let mut b = itoa::Buffer::new();
    for (i, &x) in xs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b.format(x).as_bytes());
    }
    out.push(b']');
}

/// The text of a finite `x` as [`Obj::f64`] writes it.
#[inline]
pub(crate) fn finite_text(b: &mut zmij::Buffer, x: f64) -> &[u8] {
    b.format_finite(x).as_bytes()
}

/// Appends `x` as [`Obj::f64`] writes it.
pub(crate) fn push_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        out.extend_from_slice(finite_text(&mut zmij::Buffer::new(), x));
    } else if x.is_nan() {
        out.extend_from_slice(b"\"nan\"");
    } else if x > 0.0 {
        out.extend_from_slice(b"\"inf\"");
    } else {
        out.extend_from_slice(b"\"-inf\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn text(fill: impl FnOnce(&mut Obj<'_>)) -> String {
        let mut v = Vec::new();
        Obj::write(&mut v, fill);
        String::from_utf8(v).expect("utf-8")
    }

    #[test]
    fn nested_and_special_values() {
        let t = text(|o| {
            o.u64("count", u64::MAX);
            o.opt_f64("mean", None);
            o.f64("sum", f64::INFINITY);
            o.f64("x", -f64::INFINITY);
            o.f64("y", f64::NAN);
            o.obj("hist", |h| {
                h.u64s("bins", &[0, 3]);
                h.u64s("none", &[]);
            });
            o.obj("e", |_| {});
            o.obj_named("a \"b\"\n", |c| c.bool("t", true));
            // Repeated numbers reuse their text; -0 and 0 are not one.
            o.f64("r1", 1e-7);
            o.f64("r2", 1e-7);
            o.f64("z1", 0.0);
            o.f64("z2", -0.0);
            o.f64("z3", -0.0);
            o.rows("g", [&[1u64, 2][..], &[][..], &[3][..]].into_iter());
        });
        let want = json!({"count": u64::MAX, "mean": null, "sum": "inf", "x": "-inf",
                          "y": "nan", "hist": {"bins": [0, 3], "none": []}, "e": {}, "a \"b\"\n": {"t": true},
                          "r1": 1e-7, "r2": 1e-7, "z1": 0.0, "z2": -0.0, "z3": -0.0,
                          "g": [[1, 2], [], [3]]});
        assert_eq!(t, serde_json::to_string(&want).expect("json"));
        assert_eq!(text(|_| {}), "{}");
    }

    proptest! {
        /// Every finite double prints as serde_json prints it, and reads
        /// back as the same bits.
        #[test]
        fn numbers_match_serde_json(bits: u64) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            let t = text(|o| o.f64("v", x));
            prop_assert_eq!(&t, &serde_json::to_string(&json!({"v": x})).expect("json"));
            let back: Value = serde_json::from_str(&t).expect("parses");
            prop_assert_eq!(back["v"].as_f64().map(f64::to_bits), Some(bits));
        }
    }
}
