//! Binary arrays: rows of fixed-size numbers, from a raw file (the layout
//! `ndarray.tofile` writes and `np.memmap` reads), a `.npy` file (whose
//! header gives the layout), or Hadoop streaming's `rawbytes` frames of
//! `FixedLengthInputFormat` records (each its file offset and its bytes).
//!
//! A row is read as the same numbers written as CSV would be: integers as
//! written, booleans as 0 and 1, floats (f32 widened exactly) as Python's
//! `repr` writes them, shortest round-trip digits. Once the first row has
//! settled the mapper's first-record checks, each row goes to the job as
//! it is (see [`Typed`]): values converted straight to `f64` (the number
//! the text parses to) and compared so by filters, the text CSV would hold
//! written only for what reads text (keys, derived keys, text comparisons,
//! distinct values); a job of one value column and no keys gets runs of
//! its values.

use std::io::{self, Read};

use crate::lines::{Records, Run, Typed};
use crate::pyfloat::Out;

/// The element types of an array, as NumPy names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    Bool,
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl Dtype {
    const ALL: [(Self, &'static str, &'static str); 11] = [
        (Self::Bool, "bool", "b1"),
        (Self::U8, "u8", "u1"),
        (Self::U16, "u16", "u2"),
        (Self::U32, "u32", "u4"),
        (Self::U64, "u64", "u8"),
        (Self::I8, "i8", "i1"),
        (Self::I16, "i16", "i2"),
        (Self::I32, "i32", "i4"),
        (Self::I64, "i64", "i8"),
        (Self::F32, "f32", "f4"),
        (Self::F64, "f64", "f8"),
    ];

    /// `--dtype`: `bool`, `u8` .. `u64`, `i8` .. `i64`, `f32`, `f64`
    /// (bits, as Rust names them).
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(_, name, _)| *name == s)
            .map(|(t, ..)| *t)
            .ok_or_else(|| "one of bool, u8, u16, u32, u64, i8, i16, i32, i64, f32, f64".into())
    }

    /// The type of a `.npy` header's `descr` (`<f8`, `|u1`, `|b1`):
    /// little-endian (or single-byte) types only.
    pub fn of_descr(descr: &str) -> Result<Self, &'static str> {
        let (order, code) = descr.split_at_checked(1).unwrap_or(("", descr));
        let t = Self::ALL
            .iter()
            .find(|(.., c)| *c == code)
            .map(|(t, ..)| *t)
            .ok_or(
                "the array's dtype is not one mapfold reads (bool, u8..u64, i8..i64, f32, f64)",
            )?;
        match order {
            "<" | "|" | "=" => Ok(t),
            ">" if t.size() == 1 => Ok(t),
            ">" => Err(
                "the array is big-endian: mapfold reads little-endian arrays \
                        (save arr.astype(arr.dtype.newbyteorder('<')))",
            ),
            _ => Err("the array's dtype is not one mapfold reads"),
        }
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(t, ..)| *t == self)
            .map_or("", |x| x.1)
    }

    pub fn size(self) -> usize {
        match self {
            Self::Bool | Self::U8 | Self::I8 => 1,
            Self::U16 | Self::I16 => 2,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 => 8,
        }
    }

    /// The bits of the little-endian value `b` (`size()` bytes).
    #[inline]
    fn bits(b: &[u8]) -> u64 {
        let mut le = [0u8; 8];
        le[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(le)
    }

    /// The number the little-endian value `b` is, as its text parses.
    #[inline]
    fn value(self, b: &[u8]) -> f64 {
        self.number(Self::bits(b))
    }

    /// [`Dtype::value`] of `N` bytes (`N` the type's size): the bytes
    /// copied as a constant, for a loop over many.
    #[inline(always)]
    fn value_of<const N: usize>(self, b: [u8; N]) -> f64 {
        let mut le = [0u8; 8];
        le[..N].copy_from_slice(&b);
        self.number(u64::from_le_bytes(le))
    }

    /// The number whose little-endian bits (zero-extended) are `u`.
    #[inline(always)]
    fn number(self, u: u64) -> f64 {
        match self {
            Self::Bool => f64::from(u8::from(u != 0)),
            // `as` rounds to nearest, ties to even, as the decimal parse of
            // the integer's text does.
            Self::U8 | Self::U16 | Self::U32 | Self::U64 => u as f64,
            Self::I8 => f64::from(u as u8 as i8),
            Self::I16 => f64::from(u as u16 as i16),
            Self::I32 => f64::from(u as u32 as i32),
            Self::I64 => u as i64 as f64,
            Self::F32 => f64::from(f32::from_bits(u as u32)),
            Self::F64 => f64::from_bits(u),
        }
    }

    /// Value `col` of `row` (a row of this type), as its text parses.
    #[inline]
    pub fn value_at(self, row: &[u8], col: usize) -> f64 {
        let n = self.size();
        row.get(col * n..(col + 1) * n)
            .map_or(f64::NAN, |b| self.value(b))
    }

    /// The text of value `col` of `row`: what CSV would hold.
    #[inline]
    pub fn text_at(self, row: &[u8], col: usize) -> NumberText {
        let n = self.size();
        let mut t = NumberText::default();
        if let Some(b) = row.get(col * n..(col + 1) * n) {
            self.push_text(b, &mut t);
        }
        t
    }

    /// Appends row `row`'s values as a text line, joined by `delim`.
    pub fn push_row(self, row: &[u8], delim: u8, out: &mut Vec<u8>) {
        for (i, v) in row.chunks_exact(self.size()).enumerate() {
            if i > 0 {
                out.push(delim);
            }
            self.push_text(v, out);
        }
    }

    /// Appends the text of the little-endian value `b` (`size()` bytes).
    #[inline]
    fn push_text(self, b: &[u8], out: &mut impl Out) {
        let mut int = itoa::Buffer::new();
        let u = Self::bits(b);
        let text = match self {
            Self::Bool => {
                out.push(if u != 0 { b'1' } else { b'0' });
                return;
            }
            Self::U8 | Self::U16 | Self::U32 | Self::U64 => int.format(u),
            // Sign-extended from the type's width.
            Self::I8 => int.format(i64::from(u as u8 as i8)),
            Self::I16 => int.format(i64::from(u as u16 as i16)),
            Self::I32 => int.format(i64::from(u as u32 as i32)),
            Self::I64 => int.format(u as i64),
            Self::F32 => return push_float(f64::from(f32::from_bits(u as u32)), out),
            Self::F64 => return push_float(f64::from_bits(u), out),
        };
        out.put(text.as_bytes());
    }
}

/// The text of one number of a row, held without an allocation: at most
/// 24 bytes (`-2.2250738585072014e-308`, `-9223372036854775808`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NumberText {
    buf: [u8; 32],
    len: u8,
}

impl Out for NumberText {
    fn put(&mut self, s: &[u8]) {
        let at = usize::from(self.len);
        let n = s.len().min(self.buf.len() - at);
        self.buf[at..at + n].copy_from_slice(&s[..n]);
        self.len += n as u8;
    }
}

impl std::ops::Deref for NumberText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

/// Python's `repr` of `x`: `nan`, `inf` and `-inf` for the non-finite.
fn push_float(x: f64, out: &mut impl Out) {
    if x.is_nan() {
        out.put(b"nan");
    } else if x.is_infinite() {
        out.put(if x > 0.0 { b"inf" } else { b"-inf" });
    } else {
        crate::pyfloat::push_repr(out, x);
    }
}

/// How a task's input stores its records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Input {
    /// CSV/TSV lines.
    #[default]
    Text,
    /// A `.npy` file, from its start (a plain pipe): its header gives the
    /// layout.
    Npy,
    /// Rows of this layout.
    Raw(Layout),
}

/// The rows of a binary array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub dtype: Dtype,
    /// Values per row.
    pub columns: usize,
    /// Bytes before the first row in each file (a `.npy` header).
    pub data_offset: u64,
}

impl Layout {
    /// The column names of such rows when none are given: `0` to `N-1`.
    pub fn names(&self) -> Vec<Vec<u8>> {
        (0..self.columns)
            .map(|i| i.to_string().into_bytes())
            .collect()
    }
}

/// A `.npy` file's layout, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Npy {
    pub dtype: Dtype,
    /// Values per row: 1 for a 1-D array, the second dimension of a 2-D one.
    pub columns: usize,
    pub rows: u64,
    /// Bytes before the first value: magic, version, length and header.
    pub data_offset: u64,
}

/// The `.npy` magic.
pub const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// The layout in the `.npy` header at the start of `head`; `Ok(None)` when
/// `head` does not start with the `.npy` magic, an error when the header
/// is not one mapfold reads (Fortran order, 3-D, big-endian, cut short).
/// Errors are plain sentences (no formatting: the static mapper reads
/// headers too).
pub fn parse_npy(head: &[u8]) -> Result<Option<Npy>, &'static str> {
    let Some(rest) = head.strip_prefix(NPY_MAGIC) else {
        return Ok(None);
    };
    const SHORT: &str = "the .npy header is cut short";
    let (len, rest) = match rest {
        [1, _, a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        [2 | 3, _, a, b, c, d, rest @ ..] => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, rest),
        [1..=3, ..] => return Err(SHORT),
        _ => return Err("a .npy format version mapfold does not read (it reads 1 to 3)"),
    };
    let text = rest.get(..len).ok_or(SHORT)?;
    let text = std::str::from_utf8(text).map_err(|_| "the .npy header is not text")?;
    let data_offset = (head.len() - rest.len() + len) as u64;
    let value = |key: &str| -> Option<&str> {
        let at = text.find(key)?;
        Some(text[at + key.len()..].trim_start())
    };
    let descr = value("'descr':")
        .and_then(|d| d.strip_prefix('\''))
        .and_then(|d| d.split_once('\''))
        .map(|(d, _)| d)
        .ok_or("the array has a structured dtype: mapfold reads arrays of one number type")?;
    let dtype = Dtype::of_descr(descr)?;
    if value("'fortran_order':").is_some_and(|v| v.starts_with("True")) {
        return Err("the array is in Fortran order: save it in C order \
                    (np.save(path, np.ascontiguousarray(arr)))");
    }
    let shape = value("'shape':")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split_once(')'))
        .map(|(s, _)| s)
        .ok_or("the .npy header has no shape")?;
    let mut dims = [0u64; 2];
    let mut n = 0;
    for d in shape.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if n == 2 {
            return Err("the array has over 2 dimensions: mapfold reads 1-D and 2-D arrays");
        }
        dims[n] = d.parse().map_err(|_| "the .npy shape is not numbers")?;
        n += 1;
    }
    let (rows, columns) = match n {
        1 => (dims[0], 1),
        2 => (
            dims[0],
            usize::try_from(dims[1]).map_err(|_| "too many columns")?,
        ),
        _ => return Err("the array is a single number (0-D): mapfold reads 1-D and 2-D arrays"),
    };
    if columns == 0 {
        return Err("the array has no columns");
    }
    Ok(Some(Npy {
        dtype,
        columns,
        rows,
        data_offset,
    }))
}

/// How the rows' bytes come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frames {
    /// The bytes themselves, the first `skip` of them not rows (a header).
    Raw { skip: u64 },
    /// Hadoop streaming's `stream.map.input=rawbytes`: each record a
    /// 4-byte big-endian length and its key (a LongWritable: the file
    /// offset of the record), then a length and the record's bytes; the
    /// bytes before file offset `skip` are not rows.
    RawBytes { skip: u64 },
}

/// What [`for_each_row`] read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rows {
    /// Header bytes were skipped at the file's start.
    pub header: bool,
}

/// An error when the input ended part way into a row.
fn finish_rows<E: From<io::Error>>(rest: &[u8], end: bool) -> Result<(), E> {
    if end && !rest.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the input ends part way into a row: is --dtype or --columns wrong, or the file \
             cut short?",
        )
        .into());
    }
    Ok(())
}

/// Hands the rows in `rows` (whole rows of `row` bytes) to `sink` as the
/// job `t` reads them: each as it is ([`Records::row`]), or the values of
/// [`Typed::run`] past its filters, in runs small enough to stay in the
/// cache, the conversion made once for each type.
fn typed_rows<E>(
    rows: &[u8],
    row: usize,
    dtype: Dtype,
    t: &Typed,
    sink: &mut impl Records<E>,
) -> Result<(), E> {
    let Some(run) = &t.run else {
        for r in rows.chunks_exact(row) {
            sink.row(r, dtype)?;
        }
        return Ok(());
    };
    match dtype.size() {
        1 if run.tests.is_empty() => {
            // One-byte values are counted by value and folded once per
            // value (a count, a bin, an exact `n x`): the rows' order
            // cannot change what an exact aggregate holds.
            let mut counts = [0u64; 256];
            for r in rows.chunks_exact(row) {
                counts[usize::from(r.get(run.value).copied().unwrap_or_default())] += 1;
            }
            for (v, &n) in counts.iter().enumerate() {
                sink.number_n(dtype.value(&[v as u8]), n)?;
            }
            Ok(())
        }
        // Each type's loop made for it (a match per value costs a third).
        _ => {
            macro_rules! each {
                ($($t:ident: $n:literal),*) => {
                    match dtype {
                        $(Dtype::$t => runs::<_, $n>(rows, row, run, sink, |b| Dtype::$t.value_of(b)),)*
                    }
                };
            }
            each!(Bool: 1, U8: 1, I8: 1, U16: 2, I16: 2, U32: 4, I32: 4, F32: 4, U64: 8, I64: 8, F64: 8)
        }
    }
}

/// [`typed_rows`] of a run, for values of `N` bytes that `value` converts.
#[inline(always)]
fn runs<E, const N: usize>(
    rows: &[u8],
    row: usize,
    run: &Run,
    sink: &mut impl Records<E>,
    value: impl Fn([u8; N]) -> f64,
) -> Result<(), E> {
    // Every column read is in the row (`Typed::fits`).
    let at = |r: &[u8], c: usize| {
        r.get(c * N..)
            .and_then(|b| b.first_chunk::<N>())
            .map_or(f64::NAN, |b| value(*b))
    };
    let mut xs = [0f64; 4096];
    let (mut n, mut left_out) = (0, 0);
    for r in rows.chunks_exact(row) {
        if !run.tests.iter().all(|&(c, op, rhs)| op.eval(at(r, c), rhs)) {
            left_out += 1;
            continue;
        }
        xs[n] = at(r, run.value);
        n += 1;
        if n == xs.len() {
            sink.numbers(&xs)?;
            n = 0;
        }
    }
    sink.numbers(&xs[..n])?;
    sink.filtered(left_out)
}

/// Hands each row of `dtype` x `columns` values read from `r` to `sink`:
/// as [`Records::typed`] says, or as a text line, the values joined by
/// `delim`.
#[inline(never)]
pub fn for_each_row<R: Read, E: From<io::Error>>(
    mut r: R,
    dtype: Dtype,
    columns: usize,
    frames: Frames,
    delim: u8,
    sink: &mut impl Records<E>,
) -> Result<Rows, E> {
    let size = dtype.size();
    let row = size
        .checked_mul(columns)
        .filter(|&n| n <= 1 << 20)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "rows over 1 MiB"))?;
    let mut seen = Rows::default();
    let mut line = Vec::with_capacity(32 * columns);
    // Hands on the whole rows at the start of `buf`, keeping the part of
    // a row that the next read completes; `end` when no read follows.
    let mut emit = |buf: &mut [u8], filled: &mut usize, end: bool| -> Result<(), E> {
        let whole = *filled / row * row;
        // A job that takes one number from each row gets it as one, once
        // the first row settled the mapper's first-record checks.
        // A job of numbers and keys gets them as such, once the first row
        // settled the mapper's first-record checks.
        let mut typed = sink.typed().filter(|t| t.fits(columns));
        let mut at = 0;
        while at < whole {
            let rest = &buf[at..whole];
            if let Some(t) = &typed {
                typed_rows(rest, row, dtype, t, sink)?;
                break;
            }
            line.clear();
            dtype.push_row(&rest[..row], delim, &mut line);
            sink.record(&line, None)?;
            at += row;
            typed = sink.typed().filter(|t| t.fits(columns));
        }
        buf.copy_within(whole..*filled, 0);
        *filled -= whole;
        finish_rows(&buf[..*filled], end)
    };
    // Reads go straight after the part row left from the last one.
    let mut buf = vec![0u8; (1 << 20) + row];
    let mut filled = 0;
    match frames {
        Frames::Raw { skip } => {
            let got = io::copy(&mut (&mut r).take(skip), &mut io::sink())?;
            seen.header = skip > 0 && got > 0;
            loop {
                let n = match r.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                };
                filled += n;
                emit(&mut buf, &mut filled, false)?;
            }
            emit(&mut buf, &mut filled, true)?;
        }
        Frames::RawBytes { skip } => {
            let mut r = io::BufReader::with_capacity(1 << 20, r);
            let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
            let mut value = Vec::new();
            loop {
                let mut len = [0u8; 4];
                match r.read_exact(&mut len) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e.into()),
                }
                if u32::from_be_bytes(len) != 8 {
                    return Err(bad("a rawbytes key that is not a LongWritable offset").into());
                }
                let mut key = [0u8; 8];
                r.read_exact(&mut key)?;
                let offset = u64::try_from(i64::from_be_bytes(key))
                    .map_err(|_| bad("a negative record offset"))?;
                r.read_exact(&mut len)?;
                let n = u32::from_be_bytes(len) as usize;
                if n > 1 << 26 {
                    return Err(bad("a rawbytes record over 64 MiB").into());
                }
                value.resize(n, 0);
                r.read_exact(&mut value)?;
                let from = skip.saturating_sub(offset).min(n as u64) as usize;
                // The header is counted by the split that starts the file.
                seen.header |= offset == 0 && skip > 0;
                let mut value = &value[from..];
                while !value.is_empty() {
                    let n = value.len().min(buf.len() - filled);
                    buf[filled..filled + n].copy_from_slice(&value[..n]);
                    (filled, value) = (filled + n, &value[n..]);
                    if filled == buf.len() {
                        emit(&mut buf, &mut filled, false)?;
                    }
                }
            }
            emit(&mut buf, &mut filled, true)?;
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &[u8], dtype: Dtype, columns: usize, frames: Frames) -> (Vec<String>, Rows) {
        let mut out = Vec::new();
        let got = for_each_row::<_, io::Error>(
            data,
            dtype,
            columns,
            frames,
            b',',
            &mut (
                |l: &[u8], _| {
                    out.push(String::from_utf8(l.to_vec()).expect("utf8"));
                    Ok(())
                },
                |_| Ok(()),
            ),
        )
        .expect("rows");
        (out, got)
    }

    #[test]
    fn values_as_csv_writes_them() {
        let mut data = Vec::new();
        for x in [1.5f64, -0.0, 1e-5, f64::NAN, f64::INFINITY, 100.0] {
            data.extend_from_slice(&x.to_le_bytes());
        }
        let (got, _) = rows(&data, Dtype::F64, 2, Frames::Raw { skip: 0 });
        assert_eq!(got, ["1.5,-0.0", "1e-05,nan", "inf,100.0"]);
        let (got, _) = rows(&[255, 1, 128, 0], Dtype::I8, 1, Frames::Raw { skip: 0 });
        assert_eq!(got, ["-1", "1", "-128", "0"]);
        let (got, _) = rows(&[255, 255, 0, 1], Dtype::U16, 1, Frames::Raw { skip: 0 });
        assert_eq!(got, ["65535", "256"]);
        let (got, _) = rows(
            &0.1f32.to_le_bytes(),
            Dtype::F32,
            1,
            Frames::Raw { skip: 0 },
        );
        assert_eq!(got, ["0.10000000149011612"]);
        let (got, seen) = rows(&[9, 9, 2, 0, 7], Dtype::Bool, 1, Frames::Raw { skip: 2 });
        assert_eq!(got, ["1", "0", "1"]);
        assert!(seen.header);
    }

    #[test]
    fn rawbytes_frames_from_their_offsets() {
        // Records of 2 bytes at offsets 0, 2, 4; the first 2 bytes are a
        // header.
        let mut data = Vec::new();
        for (off, rec) in [(0i64, [7u8, 7]), (2, [1, 0]), (4, [2, 0])] {
            data.extend_from_slice(&8u32.to_be_bytes());
            data.extend_from_slice(&off.to_be_bytes());
            data.extend_from_slice(&2u32.to_be_bytes());
            data.extend_from_slice(&rec);
        }
        let (got, seen) = rows(&data, Dtype::U16, 1, Frames::RawBytes { skip: 2 });
        assert_eq!(got, ["1", "2"]);
        assert!(seen.header);
    }

    #[test]
    fn npy_headers_as_numpy_writes_them() {
        let mut h = NPY_MAGIC.to_vec();
        h.extend_from_slice(&[1, 0]);
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 3), }";
        let pad = 64 - (10 + dict.len() + 1) % 64;
        let text = format!("{dict}{}\n", " ".repeat(pad));
        h.extend_from_slice(&(text.len() as u16).to_le_bytes());
        h.extend_from_slice(text.as_bytes());
        let npy = parse_npy(&h).expect("parses").expect("npy");
        assert_eq!(
            npy,
            Npy {
                dtype: Dtype::F64,
                columns: 3,
                rows: 1000,
                data_offset: 10 + text.len() as u64
            }
        );
        assert!(parse_npy(b"x,y\n").expect("not npy").is_none());
        assert!(parse_npy(&h[..20]).is_err());
    }
}
