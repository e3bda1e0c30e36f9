//! Splitting one record into fields: from the reader's delimiter bits for
//! short records (see [`crate::lines`]), eight bytes at a time for long
//! ones, and by the CSV state machine for records whose quotes need more
//! than taking off (`""`, line breaks, quotes inside a field).

use crate::decimal::load8;

/// Field boundaries of the last line split, reused across lines so the hot
/// loop does not allocate.
#[derive(Debug)]
pub struct Splitter {
    delim: u8,
    /// Quotes are CSV quoting (see [`crate::lines::Framing::text`]).
    quoting: bool,
    /// Byte ranges of fields in the line (fast path) or in `unquoted`.
    bounds: Vec<(usize, usize)>,
    unquoted: Vec<u8>,
    /// `bounds` index `unquoted`, not the line.
    quoted: bool,
    /// The line last split had a quote.
    had_quotes: bool,
    /// The last quoted record had a doubled quote to unescape.
    escapes: bool,
    /// Fields in `at` may be quoted whole: their quotes are taken off.
    strip: bool,
    /// After [`Splitter::split_at_bits`]: from `at[1]`, the delimiters'
    /// offsets, then the line's length (a line of at most 64 bytes has at
    /// most 65 fields). `at[0]` is always 255, which wraps to 0 one past:
    /// field `i` is `at[i] + 1..at[i + 1]`, with no case for the first. A
    /// fixed array, not `bounds`: a push per field is a cost per field in
    /// the mapper's hottest loop; 256 entries, so that a `u8` indexes it
    /// without a bounds check.
    at: [u8; 256],
    /// Fields in `at`, or 0 when the last split filled `bounds`.
    at_fields: u8,
}

impl Splitter {
    pub fn new(delim: u8) -> Self {
        Self {
            delim,
            quoting: matches!(
                crate::lines::Framing::text(delim),
                crate::lines::Framing::Csv { quote: Some(_), .. }
            ),
            bounds: Vec::with_capacity(32),
            unquoted: Vec::new(),
            quoted: false,
            had_quotes: false,
            escapes: false,
            strip: false,
            at: {
                let mut at = [0; 256];
                at[0] = u8::MAX;
                at
            },
            at_fields: 0,
        }
    }

    /// Splits `line` (no line terminator); returns the field count.
    ///
    /// One pass, 8 bytes at a time, finds delimiters and quotes together
    /// (2.2x faster than `memchr_iter` plus a `memchr` for quotes on short
    /// lines). The mapper's short lines skip it: their delimiters come from
    /// the reader's SIMD index ([`Splitter::split_at_bits`]).
    #[inline]
    pub fn split(&mut self, line: &[u8]) -> usize {
        self.at_fields = 0;
        self.bounds.clear();
        self.quoted = false;
        self.had_quotes = false;
        let delims = u64::from_ne_bytes([self.delim; 8]);
        let quotes = u64::from_ne_bytes([b'"'; 8]);
        let mut start = 0;
        let mut at = 0;
        for c in line.chunks_exact(8) {
            let w = load8(c);
            if self.quoting && zero_bytes(w ^ quotes) != 0 {
                self.quoted = true;
                break;
            }
            let mut m = zero_bytes(w ^ delims);
            while m != 0 {
                let d = at + (m.trailing_zeros() / 8) as usize;
                self.bounds.push((start, d));
                start = d + 1;
                m &= m - 1;
            }
            at += 8;
        }
        if !self.quoted {
            for (i, &b) in line[at..].iter().enumerate() {
                if b == self.delim {
                    self.bounds.push((start, at + i));
                    start = at + i + 1;
                } else if b == b'"' && self.quoting {
                    self.quoted = true;
                    break;
                }
            }
        }
        if self.quoted {
            self.had_quotes = true;
            self.bounds.clear();
            self.unquoted.clear();
            // Left in the line, unless the last quoted record had `""` to
            // unescape (a file that has one has many): then copied.
            let copy = self.escapes;
            self.quoted = copy;
            if !self.split_whole_quoted(line, copy) {
                self.bounds.clear();
                self.unquoted.clear();
                self.quoted = true;
                self.escapes = !copy && self.split_whole_quoted(line, true);
                if !self.escapes {
                    self.bounds.clear();
                    self.split_quoted(line);
                }
            }
        } else {
            self.bounds.push((start, line.len()));
        }
        self.bounds.len()
    }

    /// Like [`Splitter::split`] for an unquoted line of at most 64 bytes
    /// whose delimiter positions are already known (bit `i` set when byte
    /// `i` is one, as [`crate::lines::for_each_record`] gives them). Crate
    /// only: the mapper holds the length contract, checked in debug builds.
    #[inline]
    pub(crate) fn split_at_bits(&mut self, line: &[u8], bits: u64) -> usize {
        self.strip = false;
        self.at_bits(line, bits)
    }

    /// Like [`Splitter::split_at_bits`] for a record whose quoted fields
    /// are quoted whole, with nothing to unescape inside
    /// ([`crate::lines::Quotes::Whole`]).
    #[inline]
    pub(crate) fn split_whole(&mut self, line: &[u8], bits: u64) -> usize {
        self.strip = true;
        self.at_bits(line, bits)
    }

    #[inline(always)]
    fn at_bits(&mut self, line: &[u8], mut bits: u64) -> usize {
        debug_assert!(line.len() <= 64, "bits describe 64 bytes at most");
        self.quoted = false;
        let mut n: u8 = 1;
        while bits != 0 {
            self.at[usize::from(n)] = bits.trailing_zeros() as u8;
            n = n.wrapping_add(1);
            bits &= bits - 1;
        }
        self.at[usize::from(n)] = line.len() as u8;
        self.at_fields = n;
        usize::from(n)
    }

    /// Splits a record whose quoted fields are quoted whole (no `\r`
    /// inside), at a few operations per 8 bytes: what R's `write.csv`,
    /// pandas and databases write. Without `copy` the fields are left in
    /// the line, and a doubled quote (`""`) fails the split; with it they
    /// are copied into `unquoted`, `""` as `"`. False, having split nothing
    /// usable, for any other record (the CSV state machine then takes it).
    fn split_whole_quoted(&mut self, line: &[u8], copy: bool) -> bool {
        let (delim, quote) = (self.delim, b'"');
        let pat = |b: u8| u64::from_ne_bytes([b; 8]);
        let (dp, qp, crp) = (pat(delim), pat(quote), pat(b'\r'));
        // Where the field being read starts; inside quotes since `open`,
        // with its text from `seg` (in copy mode) still to copy.
        let mut start = 0;
        let mut open = false;
        let (mut seg, mut from) = (0, 0);
        // The closing quote of the last quoted field, which a delimiter
        // or the end must follow.
        let mut closed: Option<usize> = None;
        // Events before this are the second quote of a `""`.
        let mut skip = 0;
        let mut at = 0;
        while at < line.len() {
            let w = if at + 8 <= line.len() {
                load8(&line[at..at + 8])
            } else {
                // Zeros past the end: never a quote or `\r`, and a zero
                // delimiter there is past the end (below).
                let mut b = [0u8; 8];
                b[..line.len() - at].copy_from_slice(&line[at..]);
                u64::from_le_bytes(b)
            };
            if zero_bytes(w ^ crp) != 0 {
                return false;
            }
            let mut m = zero_bytes(w ^ dp) | zero_bytes(w ^ qp);
            while m != 0 {
                let p = at + (m.trailing_zeros() / 8) as usize;
                m &= m - 1;
                if p >= line.len() {
                    break;
                }
                if p < skip {
                    continue;
                }
                let is_quote = line[p] == quote;
                match (open, closed) {
                    (true, _) if is_quote => {
                        // A quote inside quotes closes them unless doubled.
                        if line.get(p + 1) == Some(&quote) {
                            if !copy {
                                return false;
                            }
                            self.unquoted.extend_from_slice(&line[seg..=p]);
                            seg = p + 2;
                            skip = p + 2;
                            continue;
                        }
                        closed = Some(p);
                        open = false;
                    }
                    // A delimiter inside quotes is data.
                    (true, _) => {}
                    (false, Some(q)) => {
                        // After a closing quote: the delimiter, at once.
                        if is_quote || p != q + 1 {
                            return false;
                        }
                        self.push_quoted(line, from, seg, q, copy);
                        start = p + 1;
                        closed = None;
                    }
                    (false, None) if is_quote => {
                        // A quote opens a field only at its start; inside
                        // an unquoted field it is a character.
                        if p == start {
                            open = true;
                            seg = p + 1;
                            from = if copy { self.unquoted.len() } else { seg };
                        }
                    }
                    (false, None) => {
                        self.push_field(line, start, p, copy);
                        start = p + 1;
                    }
                }
            }
            at += 8;
        }
        match closed {
            _ if open => false,
            Some(q) if q + 1 == line.len() => {
                self.push_quoted(line, from, seg, q, copy);
                true
            }
            Some(_) => false,
            None => {
                self.push_field(line, start, line.len(), copy);
                true
            }
        }
    }

    /// A field `line[a..b]`, left in the line or copied.
    #[inline]
    fn push_field(&mut self, line: &[u8], a: usize, b: usize, copy: bool) {
        if copy {
            let s = self.unquoted.len();
            self.unquoted.extend_from_slice(&line[a..b]);
            self.bounds.push((s, self.unquoted.len()));
        } else {
            self.bounds.push((a, b));
        }
    }

    /// A quoted field whose text starts at `from` (in the line, or in
    /// `unquoted` in copy mode) and closes at `q`, its text from `seg`
    /// still to copy (copy mode).
    #[inline]
    fn push_quoted(&mut self, line: &[u8], from: usize, seg: usize, q: usize, copy: bool) {
        if copy {
            self.unquoted.extend_from_slice(&line[seg..q]);
            self.bounds.push((from, self.unquoted.len()));
        } else {
            self.bounds.push((from, q));
        }
    }

    /// Splits a record with quotes by the CSV state machine of
    /// [`crate::lines`], the fields unquoted into `unquoted`: `""` inside
    /// quotes is `"`, a quote inside an unquoted field is a character, and
    /// a line break inside quotes is `\n` (as Hadoop hands a record that
    /// spans lines to a streaming mapper: line by line, each ended by `\n`).
    #[cold]
    fn split_quoted(&mut self, line: &[u8]) {
        #[derive(PartialEq)]
        enum S {
            Start,
            Field,
            Quoted,
            QuoteInQuoted,
        }
        self.unquoted.clear();
        let mut state = S::Start;
        let mut start = 0;
        let mut bytes = line.iter().copied().peekable();
        while let Some(c) = bytes.next() {
            state = match state {
                S::Quoted if c == b'"' => S::QuoteInQuoted,
                S::Quoted => {
                    if c == b'\r' {
                        // `\r\n` and a lone `\r` alike.
                        bytes.next_if_eq(&b'\n');
                        self.unquoted.push(b'\n');
                    } else {
                        self.unquoted.push(c);
                    }
                    S::Quoted
                }
                S::QuoteInQuoted if c == b'"' => {
                    self.unquoted.push(b'"');
                    S::Quoted
                }
                S::Start if c == b'"' => S::Quoted,
                _ if c == self.delim => {
                    self.bounds.push((start, self.unquoted.len()));
                    start = self.unquoted.len();
                    S::Start
                }
                _ => {
                    self.unquoted.push(c);
                    S::Field
                }
            };
        }
        self.bounds.push((start, self.unquoted.len()));
    }

    /// Field `i` of the line last split (unquoted), if there is one.
    #[inline(always)]
    pub fn field<'a>(&'a self, line: &'a [u8], i: usize) -> Option<&'a [u8]> {
        if i < usize::from(self.at_fields) {
            // Below `at_fields`, so `i` and `i + 1` fit a `u8`.
            let i = i as u8;
            let s = usize::from(self.at[usize::from(i)].wrapping_add(1));
            let e = usize::from(self.at[usize::from(i.wrapping_add(1))]);
            let f = line.get(s..e)?;
            if self.strip
                && let [b'"', inner @ ..] = f
            {
                return Some(inner.strip_suffix(b"\"").unwrap_or(inner));
            }
            return Some(f);
        }
        if self.at_fields > 0 {
            return None;
        }
        let &(s, e) = self.bounds.get(i)?;
        Some(if self.quoted {
            &self.unquoted[s..e]
        } else {
            &line[s..e]
        })
    }

    /// True when the line last split had a quote.
    pub fn was_quoted(&self) -> bool {
        self.had_quotes
    }
}

/// 0x80 in every byte of `x` that is zero, nothing elsewhere (exact: no
/// false positives from borrows).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LO7) + LO7) | x | LO7)
}

/// Parses a number field: decimal, exponent, `nan`, `inf`; surrounding
/// ASCII spaces are allowed. `None` for anything else, the empty field
/// included. Out of line: for headers, flags and the fields that are not
/// plain numbers (see [`number`]).
#[inline(never)]
pub fn parse_number(field: &[u8]) -> Option<f64> {
    number(field)
}

/// [`parse_number`], inlined where a line's value or filter column is
/// read: a call a line, with the registers it saves, was a good share of
/// a line's cost.
#[inline(always)]
pub(crate) fn number(field: &[u8]) -> Option<f64> {
    match crate::decimal::parse(field) {
        Some(x) => Some(x),
        None => parse_general(field),
    }
}

/// Exponents, `nan`, `inf`, long mantissas: out of line, so the hot path
/// above stays small enough to inline.
#[inline(never)]
fn parse_general(field: &[u8]) -> Option<f64> {
    match fast_float2::parse::<f64, _>(field) {
        Ok(x) => Some(x),
        Err(_) => parse_trimmed(field),
    }
}

#[cold]
fn parse_trimmed(field: &[u8]) -> Option<f64> {
    let t = field.trim_ascii();
    if t.len() == field.len() {
        return None;
    }
    fast_float2::parse::<f64, _>(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &[u8]) -> Vec<Vec<u8>> {
        let mut s = Splitter::new(b',');
        let n = s.split(line);
        (0..n)
            .map(|i| s.field(line, i).expect("in range").to_vec())
            .collect()
    }

    proptest::proptest! {
        /// The whole-field path splits every record it takes as the CSV
        /// state machine does: records of quoted and unquoted fields, with
        /// delimiters, doubled quotes, stray quotes and line breaks.
        #[test]
        fn whole_quoted_fields_split_as_the_state_machine_does(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"\""[..], b",", b"a", b"bc", b" ", b"\n", b"\r", b"\"\"", b"x,y", b"12345678",
                ]),
                0..40,
            )
        ) {
            let line: Vec<u8> = parts.concat();
            let mut state_machine = Splitter::new(b',');
            state_machine.split_quoted(&line);
            let want: Vec<&[u8]> = state_machine
                .bounds
                .iter()
                .map(|&(s, e)| &state_machine.unquoted[s..e])
                .collect();
            let want: Vec<Vec<u8>> = want.iter().map(|f| f.to_vec()).collect();
            proptest::prop_assert_eq!(&fields(&line), &want);
            // The same after a record with `""`, which makes the splitter
            // copy first.
            let mut s = Splitter::new(b',');
            s.split(b"\"a\"\"b\",c");
            let n = s.split(&line);
            let after: Vec<Vec<u8>> = (0..n).map(|i| s.field(&line, i).expect("in range").to_vec()).collect();
            proptest::prop_assert_eq!(after, want);
        }
    }

    #[test]
    fn bits_split_like_bytes() {
        let mut bytes = Splitter::new(b',');
        let mut bits = Splitter::new(b',');
        for line in
            [
                &b""[..],
                b",",
                b"a",
                b",,",
                b"1894,1,0.5",
                &[b','; 64],
                &[b'x'; 64],
            ]
            .into_iter()
            .chain((0..64).map(|n| {
                &b"ab,c,,defgh,i,jklmnopq,rs,tuv,w,,xyz,0123,45,678,9,ab,c,,d,eeee,ff"[..n]
            }))
        {
            let mask = line
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c == b',')
                .fold(0, |m, (i, _)| m | 1u64 << i);
            let n = bytes.split(line);
            assert_eq!(bits.split_at_bits(line, mask), n);
            for i in 0..=n {
                assert_eq!(
                    bits.field(line, i),
                    bytes.field(line, i),
                    "{line:?} field {i}"
                );
            }
        }
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(
            fields(b"a,b,,c"),
            vec![b"a".to_vec(), b"b".to_vec(), vec![], b"c".to_vec()]
        );
        assert_eq!(fields(b""), vec![Vec::<u8>::new()]);
        assert_eq!(
            fields(b"\"1947\",\"a,b\",\"say \"\"hi\"\"\",x"),
            vec![
                b"1947".to_vec(),
                b"a,b".to_vec(),
                b"say \"hi\"".to_vec(),
                b"x".to_vec()
            ]
        );
        assert_eq!(fields(b"\"\",1"), vec![vec![], b"1".to_vec()]);
        // Delimiters and quotes at every offset of the 8-byte words.
        for n in 0..20 {
            let mut line = vec![b'x'; n];
            line.push(b',');
            line.extend_from_slice(b"yy,z");
            assert_eq!(
                fields(&line),
                vec![vec![b'x'; n], b"yy".to_vec(), b"z".to_vec()]
            );
            let mut q = vec![b'x'; n];
            q.extend_from_slice(b",\"a,b\"");
            assert_eq!(fields(&q), vec![vec![b'x'; n], b"a,b".to_vec()]);
        }
        assert_eq!(
            fields(&[0x80, b',', 0xFF, 0x2C, 0x00]),
            vec![vec![0x80], vec![0xFF], vec![0x00]]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(b"6.4e-05"), Some(6.4e-05));
        assert_eq!(parse_number(b" -1.5 "), Some(-1.5));
        assert!(parse_number(b"nan").is_some_and(f64::is_nan));
        assert_eq!(parse_number(b"-inf"), Some(f64::NEG_INFINITY));
        for bad in [&b""[..], b" ", b"abc", b"1.5x", b"1,5", b"\xff"] {
            assert_eq!(parse_number(bad), None);
        }
    }
}
