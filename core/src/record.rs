//! Splitting one line into fields: a fast path for lines without quotes,
//! RFC 4180 (via `csv-core`) for lines with them.

/// Field boundaries of the last line split, reused across lines so the hot
/// loop does not allocate.
#[derive(Debug)]
pub struct Splitter {
    delim: u8,
    /// Byte ranges of fields in the line (fast path) or in `unquoted`.
    bounds: Vec<(usize, usize)>,
    unquoted: Vec<u8>,
    ends: Vec<usize>,
    quoted: bool,
}

impl Splitter {
    pub fn new(delim: u8) -> Self {
        Self {
            delim,
            bounds: Vec::with_capacity(32),
            unquoted: Vec::new(),
            ends: Vec::new(),
            quoted: false,
        }
    }

    /// Splits `line` (no line terminator); returns the field count.
    #[inline]
    pub fn split(&mut self, line: &[u8]) -> usize {
        self.bounds.clear();
        self.quoted = memchr::memchr(b'"', line).is_some();
        if self.quoted {
            self.split_quoted(line);
        } else {
            let mut start = 0;
            for d in memchr::memchr_iter(self.delim, line) {
                self.bounds.push((start, d));
                start = d + 1;
            }
            self.bounds.push((start, line.len()));
        }
        self.bounds.len()
    }

    #[cold]
    fn split_quoted(&mut self, line: &[u8]) {
        let mut rdr = csv_core::ReaderBuilder::new().delimiter(self.delim).build();
        self.unquoted.resize(line.len() + 1, 0);
        self.ends.resize(line.len() + 2, 0);
        let (mut input, mut out_at, mut ends_at) = (line, 0, 0);
        loop {
            let (res, nin, nout, nend) = rdr.read_record(
                input,
                &mut self.unquoted[out_at..],
                &mut self.ends[ends_at..],
            );
            input = &input[nin..];
            out_at += nout;
            ends_at += nend;
            match res {
                // The buffers are sized for the whole line: these cannot
                // happen, but ending the loop on them keeps it total.
                csv_core::ReadRecordResult::OutputFull
                | csv_core::ReadRecordResult::OutputEndsFull => break,
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            }
        }
        let mut start = 0;
        for &e in &self.ends[..ends_at] {
            self.bounds.push((start, e));
            start = e;
        }
    }

    /// Field `i` of the line last split (unquoted), if there is one.
    #[inline]
    pub fn field<'a>(&'a self, line: &'a [u8], i: usize) -> Option<&'a [u8]> {
        let &(s, e) = self.bounds.get(i)?;
        Some(if self.quoted {
            &self.unquoted[s..e]
        } else {
            &line[s..e]
        })
    }

    /// True when the line last split had a quote (and took the slow path).
    pub fn was_quoted(&self) -> bool {
        self.quoted
    }
}

/// Parses a number field: decimal, exponent, `nan`, `inf`; surrounding
/// ASCII spaces are allowed. `None` for anything else, the empty field
/// included.
#[inline]
pub fn parse_number(field: &[u8]) -> Option<f64> {
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
