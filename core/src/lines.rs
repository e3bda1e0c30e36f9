//! The record reader: bytes in, records out, without copying or UTF-8
//! checks, and each short record's delimiters found in the same pass.
//!
//! Two framings (see [`Framing`]): the wire between mapfold's tasks, whose
//! records are `\n`-terminated lines, and CSV/TSV text, whose records end
//! at `\n`, `\r\n` or a lone `\r` (as Hadoop's `LineRecordReader` ends
//! lines) outside a quoted field, so a quoted field may hold the
//! delimiter and line breaks (RFC 4180).
//!
//! The read buffer is indexed 64 bytes at a time with SIMD compares (the
//! `wide` crate: SSE2 on x86_64, NEON on aarch64, safe code here): one bit
//! per byte for record ends and delimiters. A block without a quote, not
//! entered inside a quoted field, is taken as the compares give it; a
//! block with quotes goes through the CSV state machine byte by byte
//! (the one `csv-core`, Python's `csv` and pandas follow: a quote opens a
//! quoted field only at its start, `""` inside is a quote, a quote
//! elsewhere is a character), which masks the delimiters and line breaks
//! that quotes hold. Records come from the end bits, and a record of up to
//! 64 bytes gets its delimiter bits as one `u64`, so splitting it is a loop
//! over set bits whose trip count is the field count: the same on every
//! line of a file, so predicted.
//!
//! The index runs a window ahead of the records (16 KiB), so the bytes are
//! still in cache when the record is parsed.

use std::io::{self, Read};

use wide::u8x16;

/// Starting size of the read buffer (a multiple of 64); it doubles for
/// longer lines.
const BUF: usize = 1 << 20;
/// Bytes indexed ahead of the line being handed out, in 64-byte blocks.
const WINDOW: usize = 256;

/// How a byte stream is cut into records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Lines ended by `\n` alone: mapfold's own wire, whose text has no
    /// raw `\r` and no CSV quoting.
    Lines,
    /// CSV/TSV text with this delimiter; `quote` is the quoting character
    /// (`None`: no quoting, every byte is data, as Hive's text tables and
    /// the page-view dumps are).
    Csv { delim: u8, quote: Option<u8> },
}

impl Framing {
    /// CSV/TSV text with `delim`, quoted with `"` unless the delimiter is
    /// a space: space-separated files are logs and dumps (page views,
    /// access logs) whose quotes are data, not CSV quoting.
    pub fn text(delim: u8) -> Self {
        Framing::Csv {
            delim,
            quote: (delim != b' ').then_some(b'"'),
        }
    }
}

/// Bitmaps of one 64-byte block: bit `i` is byte `i`. Record ends and
/// delimiters inside quoted fields are not set.
#[derive(Clone, Copy, Debug, Default)]
struct Block {
    ends: u64,
    delims: u64,
    quotes: u64,
    /// Bytes that make a record's quotes [`Quotes::Other`]: `""`, line
    /// breaks inside quotes, and every byte of a block whose quotes are
    /// not all at the edges of fields.
    other: u64,
    /// Where the CSV state machine is after the block's last byte.
    state: State,
}

/// The CSV state machine's states (`csv-core`'s, less those of escapes
/// and comments, which mapfold does not take).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    #[default]
    Start,
    /// In a field that did not start with a quote: quotes are data.
    Field,
    /// In a quoted field.
    Quoted,
    /// After a quote in a quoted field: the field's end, or half of `""`.
    QuoteInQuoted,
}

/// The longest line read (64 MiB): a longer one is skipped, not held, and
/// reported to the caller by its length (as Hadoop's LineRecordReader
/// skips lines over `mapreduce.input.linerecordreader.line.maxlength`), so
/// no input makes a reader hold more than this in memory.
pub const MAX_LINE: usize = 64 << 20;

/// Calls `f` for each `\n`-terminated line of `r` (without its `\n`); a
/// last line without a newline is still a line, as in Hadoop's
/// `LineRecordReader`. A line over `max_line` bytes goes to `long` with its
/// length instead.
pub fn for_each_line<R: Read, E: From<io::Error>>(
    r: R,
    max_line: usize,
    mut f: impl FnMut(&[u8]) -> Result<(), E>,
    long: impl FnMut(u64) -> Result<(), E>,
) -> Result<(), E> {
    for_each_record(
        r,
        Framing::Lines,
        max_line,
        &mut (|line: &[u8], _| f(line), long),
    )
}

/// Where [`for_each_record`] hands its lines: a pair of closures (lines,
/// over-long lines), or one value that takes both (the mapper).
pub trait Records<E> {
    /// A record (without its line terminator) and, when known, its
    /// delimiter bits (see [`for_each_record`]).
    fn record(&mut self, line: &[u8], delims: Option<Delims>) -> Result<(), E>;

    /// The records of `window`, each as [`Records::record`] takes it. A
    /// sink whose step is worth inlining (the mapper's) overrides this
    /// with its step inlined into the loop: a call, and the registers
    /// saved around it, are then paid once a window, not once a record.
    fn records(&mut self, window: Window<'_>) -> Result<(), E> {
        for (record, delims) in window {
            self.record(record, delims)?;
        }
        Ok(())
    }

    /// A line over the limit, skipped: its length.
    fn too_long(&mut self, len: u64) -> Result<(), E>;

    /// How a binary array's rows go to the job, once the first-record
    /// checks are settled (see [`Typed`]): each as [`Records::row`], or
    /// its one value as [`Records::numbers`], not as a text line. Once a
    /// row was, every later one of the input is.
    fn typed(&self) -> Option<Typed> {
        None
    }

    /// A row of a binary array: its bytes, each value of `dtype`.
    fn row(&mut self, _row: &[u8], _dtype: crate::binary::Dtype) -> Result<(), E> {
        Ok(())
    }

    /// Rows of the one group whose value is each of `xs` in turn, each
    /// past the filters ([`Typed::run`]).
    fn numbers(&mut self, _xs: &[f64]) -> Result<(), E> {
        Ok(())
    }

    /// `n` rows that some filter of [`Typed::run`] left out.
    fn filtered(&mut self, _n: u64) -> Result<(), E> {
        Ok(())
    }

    /// `n` records whose one used field is `x`, in one step: an array of
    /// bytes is counted by value first.
    fn number_n(&mut self, x: f64, n: u64) -> Result<(), E> {
        for _ in 0..n {
            self.numbers(&[x])?;
        }
        Ok(())
    }
}

/// How a job reads a binary array's rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Typed {
    /// The fields a record must have, when the schema says.
    pub width: Option<usize>,
    /// The highest field the job reads.
    pub max_field: usize,
    /// The job takes one number from each row (one value column, no keys,
    /// group measures or derived keys, filters that compare numbers): the
    /// reader hands over the values past the filters as runs of numbers.
    pub run: Option<Run>,
}

/// See [`Typed::run`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    /// The value column.
    pub value: usize,
    /// A row is folded in when each comparison holds.
    pub tests: Vec<(usize, crate::spec::Op, f64)>,
}

impl Typed {
    /// Whether rows of `columns` fields are read by the job as they are:
    /// the width the schema gives, each column read among them (else they
    /// go as text lines, to be counted malformed as such).
    pub fn fits(&self, columns: usize) -> bool {
        self.width
            .map_or(columns > self.max_field, |w| w == columns)
    }
}

impl<E, F, G> Records<E> for (F, G)
where
    F: FnMut(&[u8], Option<Delims>) -> Result<(), E>,
    G: FnMut(u64) -> Result<(), E>,
{
    #[inline]
    fn record(&mut self, line: &[u8], delims: Option<Delims>) -> Result<(), E> {
        (self.0)(line, delims)
    }

    fn too_long(&mut self, len: u64) -> Result<(), E> {
        (self.1)(len)
    }
}

/// True when a record of `bytes` (the start of a file, say) holds a line
/// break: a quoted field spans lines.
pub fn spans_lines(bytes: &[u8], framing: Framing) -> bool {
    let mut spans = false;
    let _ = for_each_record::<_, io::Error>(
        bytes,
        framing,
        MAX_LINE,
        &mut (
            |l: &[u8], _| {
                spans |= memchr::memchr2(b'\n', b'\r', l).is_some();
                Ok(())
            },
            |_| Ok(()),
        ),
    );
    spans
}

/// Records of one read buffer, as [`for_each_record`] hands them over in
/// a run ([`Records::records`]): each with its delimiters when it is
/// short, less the `\r` of a `\r\n`.
#[derive(Clone, Debug)]
pub struct Window<'a> {
    buf: &'a [u8],
    index: &'a [Block],
    /// Where the next record starts.
    start: usize,
    /// Where each record ends: its terminator's position.
    ends: std::slice::Iter<'a, usize>,
    /// Whether a `\r` before a `\n` is stripped (CSV text that has one).
    crlf: bool,
}

impl<'a> Window<'a> {
    /// Hands `f` a window of the one record `line`, with `delims` (or
    /// none): [`Records::record`] for a sink that takes its records
    /// in windows.
    pub fn one<R>(line: &[u8], delims: Option<Delims>, f: impl FnOnce(Window<'_>) -> R) -> R {
        // Its delimiters as the index would hold them for a record at the
        // start of a block, so that [`delims_of`] gives them back.
        let blocks = delims.map(|d| {
            let block = Block {
                delims: d.bits,
                quotes: u64::from(d.quotes != Quotes::None),
                other: u64::from(d.quotes == Quotes::Other),
                ..Block::default()
            };
            [block, Block::default()]
        });
        let ends = [line.len()];
        f(Window {
            buf: line,
            index: blocks.as_ref().map_or(&[], |b| &b[..]),
            start: 0,
            ends: ends.iter(),
            crlf: false,
        })
    }
}

impl<'a> Iterator for Window<'a> {
    type Item = (&'a [u8], Option<Delims>);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let &at = self.ends.next()?;
        let start = std::mem::replace(&mut self.start, at + 1);
        let end = record_end(self.buf, start, at, self.crlf);
        Some((&self.buf[start..end], delims_of(self.index, start, end)))
    }
}

/// Where the record `start..at` (`at` its terminator) ends: less the `\r`
/// of a `\r\n` when `crlf` (CSV text that has a `\r`).
#[inline(always)]
fn record_end(buf: &[u8], start: usize, at: usize, crlf: bool) -> usize {
    if crlf && at > start && buf[at] == b'\n' && buf[at - 1] == b'\r' {
        at - 1
    } else {
        at
    }
}

/// The delimiters of a record of at most 64 bytes: bit `i` set when byte
/// `i` is a delimiter outside quotes, and what its quotes ask of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delims {
    pub bits: u64,
    pub quotes: Quotes,
}

/// The quotes of a short record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quotes {
    /// None: every field is as written.
    None,
    /// Only whole fields are quoted (`"a,b",1`), with no `""` or line
    /// break inside: a quoted field is its bytes between the quotes.
    Whole,
    /// Anything else (`""`, a line break, a quote inside a field): the
    /// caller splits the record itself.
    Other,
}

/// Hands each record of `r`, cut as `framing` says, to `sink`, with its
/// delimiters when it is at most 64 bytes long (else `None`: the caller
/// splits it itself). A last record without a terminator is still a
/// record, as in Hadoop's `LineRecordReader`; a record over `max_line`
/// bytes goes to [`Records::too_long`] with its length.
///
/// Every byte is indexed once and moved at most once per record it is
/// part of, so reading is linear in the input whatever the record lengths
/// and however small the reads (a pipe gives 64 KiB at a time).
pub fn for_each_record<R: Read, E: From<io::Error>>(
    mut r: R,
    framing: Framing,
    max_line: usize,
    sink: &mut impl Records<E>,
) -> Result<(), E> {
    // The buffer never grows past the longest record allowed (rounded up
    // to whole blocks), plus one spare block so a record's two-block
    // window never runs off the end.
    let most = (max_line + 1).next_multiple_of(64).max(BUF);
    let mut buf = vec![0u8; BUF + 64];
    // Grown as blocks are indexed (see `room`), not made for the whole
    // buffer at once: a small input then touches only the pages it uses.
    let mut index = Vec::new();
    // Record end positions of one window, with room for two past the last.
    let mut ends = vec![0usize; 64 * WINDOW + 2];
    let (mut start, mut end) = (0, 0);
    // Bytes of an over-long record dropped so far, while it is skipped.
    let mut skipped: Option<u64> = None;
    let csv = matches!(framing, Framing::Csv { .. });
    // Whether a `\r` has been read: until one is, a record ends at its
    // `\n` with nothing to strip.
    let mut saw_cr = false;
    loop {
        let moved = start > 0;
        if moved {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() - 64 {
            if end > max_line || buf.len() - 64 >= most {
                // One record fills the buffer: too long. Drop what is held
                // and skip to its end.
                *skipped.get_or_insert(0) += end as u64;
                end = 0;
            } else {
                let len = (2 * (buf.len() - 64)).min(most) + 64;
                buf.resize(len, 0);
            }
        }
        let cap = buf.len() - 64;
        let n = match r.read(&mut buf[end..cap]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            if let Some(k) = skipped {
                sink.too_long(k + (end - start) as u64)?;
            } else if end - start > max_line {
                sink.too_long((end - start) as u64)?;
            } else if end > start {
                // A last `\r` held back for the `\n` that did not come.
                let mut e = end;
                if csv && buf[e - 1] == b'\r' {
                    e -= 1;
                }
                buf[end..end.next_multiple_of(64) + 64].fill(0);
                let blocks = start / 64..end.div_ceil(64) + 1;
                room(&mut index, blocks.end);
                build(&buf, framing, blocks, &mut index);
                sink.record(&buf[start..e], delims_of(&index, start, e))?;
            }
            return Ok(());
        }
        // The bytes before `end` hold no record end (they are the start of
        // a record), but for a last `\r`, which waits for the next byte:
        // their blocks are still indexed, unless the buffer moved.
        let scan = end.saturating_sub(1);
        end += n;
        let blocks = end.div_ceil(64);
        // Stale bytes past the end must not look like record ends.
        buf[end..64 * blocks + 64].fill(0);
        let mut k = scan / 64;
        let mut built = if moved { 0 } else { k };
        while k < blocks {
            let upto = (k + WINDOW).min(blocks);
            room(&mut index, upto + 1);
            saw_cr |= build(&buf, framing, built..upto + 1, &mut index);
            built = upto + 1;
            let mut n = 0;
            for (j, b) in index[k..upto].iter().enumerate() {
                n = newlines(b.ends, 64 * (k + j), n, &mut ends);
            }
            // The ends before `start` (of records handed out before a
            // read) are passed over.
            let mut ends = &ends[..n];
            while let [nl, rest @ ..] = ends
                && *nl < start
            {
                ends = rest;
            }
            if let Some(&last) = ends.last()
                && skipped.is_none()
                && last - start <= max_line
                && !(saw_cr && last + 1 == end && buf[last] == b'\r')
            {
                // Most windows: no record to skip, none that may end in
                // the next read, all handed over in one call.
                sink.records(Window {
                    buf: &buf,
                    index: &index,
                    start,
                    ends: ends.iter(),
                    crlf: saw_cr,
                })?;
                start = last + 1;
                ends = &[];
            }
            for &nl in ends {
                if saw_cr && nl + 1 == end && buf[nl] == b'\r' {
                    // Its `\n` may be the next read's first byte.
                    break;
                }
                match skipped.take() {
                    Some(k) => sink.too_long(k + (nl - start) as u64)?,
                    None if nl - start > max_line => sink.too_long((nl - start) as u64)?,
                    None => {
                        let e = record_end(&buf, start, nl, saw_cr);
                        sink.record(&buf[start..e], delims_of(&index, start, e))?;
                    }
                }
                start = nl + 1;
            }
            k = upto;
        }
    }
}

/// Appends the positions of the bits of `m` (plus `base`) to `ends` at `n`;
/// returns the new length. Blocks of typical lines hold one or two
/// newlines: two are written whatever the count, so the loop branch (which
/// mispredicted on the irregular one-two pattern) is only taken for more.
#[inline]
fn newlines(mut m: u64, base: usize, mut n: usize, ends: &mut [usize]) -> usize {
    for _ in 0..2 {
        ends[n] = base + m.trailing_zeros() as usize;
        n += usize::from(m != 0);
        m &= m.wrapping_sub(1);
    }
    while m != 0 {
        ends[n] = base + m.trailing_zeros() as usize;
        n += 1;
        m &= m - 1;
    }
    n
}

/// Makes `index` hold blocks `..end`.
#[inline]
fn room(index: &mut Vec<Block>, end: usize) {
    if index.len() < end {
        index.resize(end, Block::default());
    }
}

/// The delimiters of the record `start..end`, if it is short.
#[inline]
fn delims_of(index: &[Block], start: usize, end: usize) -> Option<Delims> {
    let len = end - start;
    if len > 64 {
        return None;
    }
    let (k, off) = (start / 64, start % 64);
    let Some([a, b]) = index.get(k..k + 2) else {
        return None;
    };
    let window = |lo: u64, hi: u64| ((u128::from(hi) << 64 | u128::from(lo)) >> off) as u64;
    let keep = u64::MAX.checked_shr(64 - len as u32).unwrap_or(0);
    // Most records have no quote: one test for both kinds.
    let quotes = if window(a.quotes | a.other, b.quotes | b.other) & keep == 0 {
        Quotes::None
    } else if window(a.other, b.other) & keep != 0 {
        Quotes::Other
    } else {
        Quotes::Whole
    };
    Some(Delims {
        bits: window(a.delims, b.delims) & keep,
        quotes,
    })
}

/// Indexes the 64-byte blocks `blocks` of `buf` (whose bytes run at least
/// one past the last block's end), each from the state the block before
/// left (the first block of the buffer starts a record). Returns whether
/// one of them holds a `\r` that CSV framing reads (never for `Lines`,
/// whose records keep it).
fn build(
    buf: &[u8],
    framing: Framing,
    blocks: std::ops::Range<usize>,
    index: &mut [Block],
) -> bool {
    // One loop per framing, so the block loop tests no flag.
    match framing {
        Framing::Lines => {
            let lf = u8x16::splat(b'\n');
            let bytes = &buf[64 * blocks.start..64 * blocks.end];
            for (b, out) in bytes.as_chunks::<64>().0.iter().zip(&mut index[blocks]) {
                let mut ends = 0u64;
                for (i, v) in b.as_chunks::<16>().0.iter().enumerate() {
                    ends |= u64::from(u8x16::new(*v).simd_eq(lf).to_bitmask()) << (16 * i);
                }
                *out = Block {
                    ends,
                    ..Block::default()
                };
            }
            false
        }
        // Unquoted: the quote byte is never looked at.
        Framing::Csv { delim, quote: None } => build_csv::<false>(buf, delim, b'\n', blocks, index),
        Framing::Csv {
            delim,
            quote: Some(q),
        } => build_csv::<true>(buf, delim, q, blocks, index),
    }
}

/// [`build`] for CSV text, quoted with `quote` when `QUOTED`. The line
/// feeds and delimiters of every block are masked; its `\r`s and quotes,
/// rare in most files, are tested for first, and masked only in a block
/// that has one.
fn build_csv<const QUOTED: bool>(
    buf: &[u8],
    delim: u8,
    quote: u8,
    blocks: std::ops::Range<usize>,
    index: &mut [Block],
) -> bool {
    let quote_of = QUOTED.then_some(quote);
    let (lf, cr) = (u8x16::splat(b'\n'), u8x16::splat(b'\r'));
    let (dl, qt) = (u8x16::splat(delim), u8x16::splat(quote));
    let mut state = match blocks.start {
        0 => State::Start,
        k => index[k - 1].state,
    };
    let mut any_cr = false;
    let first = blocks.start;
    let bytes = &buf[64 * blocks.start..64 * blocks.end];
    let last = 1u64 << 63;
    // The blocks before the first `\r` or quote (found by `memchr`, which
    // picks the widest vectors the CPU has) need only their line feeds and
    // delimiters, when they start outside a quoted field.
    let clean = if matches!(state, State::Start | State::Field) {
        let rare = if QUOTED {
            memchr::memchr2(b'\r', quote, bytes)
        } else {
            memchr::memchr(b'\r', bytes)
        };
        rare.map_or(blocks.len(), |at| at / 64)
    } else {
        0
    };
    // The line feeds and delimiters of a block, as bits.
    let masks = |b: &[u8; 64]| {
        let (mut lfs, mut delims) = (0u64, 0u64);
        for (i, v) in b.as_chunks::<16>().0.iter().enumerate() {
            let v = u8x16::new(*v);
            lfs |= u64::from(v.simd_eq(lf).to_bitmask()) << (16 * i);
            delims |= u64::from(v.simd_eq(dl).to_bitmask()) << (16 * i);
        }
        (lfs, delims)
    };
    // A block without a `\r` or quote, entered outside quotes: the line
    // feeds end records.
    let plain = |lfs: u64, delims: u64| {
        let state = if (delims | lfs) & last != 0 {
            State::Start
        } else {
            State::Field
        };
        Block {
            ends: lfs,
            delims,
            state,
            ..Block::default()
        }
    };
    let chunks = bytes.as_chunks::<64>().0;
    for (b, out) in chunks[..clean].iter().zip(&mut index[first..]) {
        let (lfs, delims) = masks(b);
        *out = plain(lfs, delims);
    }
    if let Some(b) = index[..first + clean].last() {
        state = b.state;
    }
    for (j, b) in chunks.iter().enumerate().skip(clean) {
        let (lfs, delims) = masks(b);
        // Past the first, each block tests for them itself.
        let mut rare = u8x16::splat(0);
        for v in b.as_chunks::<16>().0 {
            let v = u8x16::new(*v);
            rare |= v.simd_eq(cr);
            if QUOTED {
                rare |= v.simd_eq(qt);
            }
        }
        let block = if rare.to_bitmask() == 0 && matches!(state, State::Start | State::Field) {
            let block = plain(lfs, delims);
            state = block.state;
            block
        } else {
            let (mut crs, mut quotes) = (0u64, 0u64);
            for (i, v) in b.as_chunks::<16>().0.iter().enumerate() {
                let v = u8x16::new(*v);
                crs |= u64::from(v.simd_eq(cr).to_bitmask()) << (16 * i);
                if QUOTED {
                    quotes |= u64::from(v.simd_eq(qt).to_bitmask()) << (16 * i);
                }
            }
            any_cr |= crs != 0;
            let at = 64 * (first + j);
            // The byte after the block (zero past the buffer's end).
            let next = buf.get(at + 64).copied().unwrap_or(0);
            let next_lf = u64::from(next == b'\n') << 63;
            if quotes == 0 && matches!(state, State::Start | State::Field) {
                // No quote to change a thing: a `\r` ends a record unless
                // a `\n` follows (that ends it).
                let ends = lfs | (crs & !((lfs >> 1) | next_lf));
                state = if (delims | lfs | crs) & last != 0 {
                    State::Start
                } else {
                    State::Field
                };
                Block {
                    ends,
                    delims,
                    state,
                    ..Block::default()
                }
            } else {
                match by_masks(
                    lfs, crs, delims, quotes, state, next, next_lf, delim, quote_of,
                ) {
                    Some((block, out)) => {
                        state = out;
                        block
                    }
                    None => {
                        let (ends, delims, out) = by_byte(&buf[at..], delim, quote_of, state);
                        state = out;
                        Block {
                            ends,
                            delims,
                            quotes,
                            other: u64::MAX,
                            state,
                        }
                    }
                }
            }
        };
        index[first + j] = block;
    }
    any_cr
}

/// A block with quotes, when they are all where the state machine would
/// open and close quoted fields: at a field's start, before its end, or
/// doubled inside (`""`). Then what is inside quotes is what an odd count
/// of quotes precedes, a prefix XOR of their bits, and the block is taken
/// whole, not byte by byte. `None` for any other block.
#[allow(clippy::too_many_arguments)]
#[inline]
fn by_masks(
    lfs: u64,
    crs: u64,
    delims: u64,
    quotes: u64,
    state: State,
    next: u8,
    next_lf: u64,
    delim: u8,
    quote: Option<u8>,
) -> Option<(Block, State)> {
    // Bit i set when an odd number of quotes is at or before byte i,
    // counting from inside when the block starts in a quoted field.
    let mut inq = quotes;
    for k in [1, 2, 4, 8, 16, 32] {
        inq ^= inq << k;
    }
    if state == State::Quoted {
        inq = !inq;
    }
    let opens = quotes & inq;
    let closes = quotes & !inq;
    let seps = delims | lfs | crs;
    // Where a field starts: after a separator outside quotes, or at the
    // block's start when the state machine is at one.
    let starts = ((seps & !inq) << 1) | u64::from(state == State::Start);
    // After a closing quote: the other half of a `""`.
    let after_close = (closes << 1) | u64::from(state == State::QuoteInQuoted);
    if opens & !(starts | after_close) != 0 {
        return None;
    }
    let next_ends = next == delim || next == b'\n' || next == b'\r' || Some(next) == quote;
    let follows = ((seps | opens) >> 1) | (u64::from(next_ends) << 63);
    if closes & !follows != 0 {
        return None;
    }
    let out = if inq & (1 << 63) != 0 {
        State::Quoted
    } else if closes & (1 << 63) != 0 {
        State::QuoteInQuoted
    } else if seps & (1 << 63) != 0 {
        State::Start
    } else {
        State::Field
    };
    let outside = !inq;
    let ends = (lfs | (crs & !((lfs >> 1) | next_lf))) & outside;
    // `""` (a closing quote then an opening one), and line breaks inside
    // quotes, which the caller must turn into `"` and `\n`.
    let other = (closes & (opens >> 1))
        | (opens & u64::from(state == State::QuoteInQuoted))
        | ((lfs | crs) & inq);
    Some((
        Block {
            ends,
            delims: delims & outside,
            quotes,
            other,
            state: out,
        },
        out,
    ))
}

/// The CSV state machine over the 64 bytes at the start of `b` (and the
/// one after, for a `\r\n` across the block's end), from `state`: the
/// bits of record ends and delimiters outside quotes, and the state after
/// the block.
#[cold]
fn by_byte(b: &[u8], delim: u8, quote: Option<u8>, mut state: State) -> (u64, u64, State) {
    let (mut ends, mut delims) = (0u64, 0u64);
    for i in 0..64 {
        let c = b[i];
        let quoted = Some(c) == quote;
        state = match state {
            State::Quoted if quoted => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if quoted => State::Quoted,
            State::Start if quoted => State::Quoted,
            _ if c == delim => {
                delims |= 1 << i;
                State::Start
            }
            _ if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) => {
                ends |= 1 << i;
                State::Start
            }
            // The `\r` of a `\r\n`: the `\n` ends the record.
            _ if c == b'\r' => State::Start,
            _ => State::Field,
        };
    }
    (ends, delims, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> Vec<(Vec<u8>, Option<Delims>)> {
        let mut v = Vec::new();
        for_each_record::<_, io::Error>(
            input,
            Framing::text(b','),
            MAX_LINE,
            &mut (
                |l: &[u8], d| {
                    v.push((l.to_vec(), d));
                    Ok(())
                },
                |_| panic!("no line is too long here"),
            ),
        )
        .expect("reads");
        v
    }

    /// What the index must say of a line without quotes, computed the
    /// slow way.
    fn expected(line: &[u8]) -> Option<Delims> {
        if line.len() > 64 {
            return None;
        }
        Some(Delims {
            bits: line
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c == b',')
                .fold(0, |m, (i, _)| m | 1 << i),
            quotes: Quotes::None,
        })
    }

    /// A window made of one record (as the mapper takes a record handed
    /// over alone) gives back that record and the delimiters it was made
    /// with: every length, quote kind and delimiter pattern.
    #[test]
    fn a_window_of_one_record_is_that_record() {
        let line: Vec<u8> = (0..80u8).collect();
        for len in 0..=80 {
            let keep = u64::MAX.checked_shr(64 - len.min(64) as u32).unwrap_or(0);
            for quotes in [Quotes::None, Quotes::Whole, Quotes::Other] {
                for bits in [0, 1, 1 << 63, 0x5555_5555_5555_5555, u64::MAX] {
                    let d = Delims {
                        bits: bits & keep,
                        quotes: if len == 0 { Quotes::None } else { quotes },
                    };
                    let (given, want) = match len {
                        0..=64 => (Some(d), Some(d)),
                        _ => (None, None),
                    };
                    for delims in [given, None] {
                        let got: Vec<_> = Window::one(&line[..len], delims, |w| {
                            w.map(|(l, d)| (l.to_vec(), d)).collect()
                        });
                        let want = delims.and(want);
                        assert_eq!(got, [(line[..len].to_vec(), want)], "{len} {delims:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn splits_lines() {
        let lines =
            |input: &[u8]| -> Vec<Vec<u8>> { collect(input).into_iter().map(|(l, _)| l).collect() };
        assert_eq!(
            lines(b"a\nb\n\nc"),
            vec![b"a".to_vec(), b"b".to_vec(), vec![], b"c".to_vec()]
        );
        assert_eq!(lines(b""), Vec::<Vec<u8>>::new());
        let long = vec![b'x'; 3 * BUF + 7];
        let mut input = long.clone();
        input.extend_from_slice(b"\nend\n");
        assert_eq!(lines(&input), vec![long, b"end".to_vec()]);
    }

    /// A reader that gives at most `.1` bytes a read, as a pipe does.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Lines over the limit are skipped and reported by length, from any
    /// reader (here one byte to 64 KiB at a time), and the lines around
    /// them are intact.
    #[test]
    fn long_lines_are_skipped_by_length() {
        let mut input = b"a,1\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 * BUF + 5));
        input.extend_from_slice(b"\nb,2\n");
        input.extend(std::iter::repeat_n(b'y', 1000));
        input.extend_from_slice(b"\nc,3\n");
        input.extend(std::iter::repeat_n(b'z', 2 * BUF));
        for (chunk, max) in [
            (1 << 16, BUF),
            (1 << 20, 999),
            (7, 2 * BUF),
            (1 << 16, 4 * BUF),
        ] {
            let (mut lines, mut longs) = (Vec::new(), Vec::new());
            for_each_record::<_, io::Error>(
                Trickle(&input, chunk),
                Framing::text(b','),
                max,
                &mut (
                    |l: &[u8], _| {
                        lines.push(if l.len() > 8 {
                            format!("{}x{}", l[0] as char, l.len())
                        } else {
                            String::from_utf8_lossy(l).into_owned()
                        });
                        Ok(())
                    },
                    |n| {
                        longs.push(n);
                        Ok(())
                    },
                ),
            )
            .expect("reads");
            let mut want_lines = vec!["a,1".to_owned(), "b,2".to_owned()];
            let mut want_longs = vec![3 * BUF as u64 + 5];
            if max >= 1000 {
                want_lines.push("yx1000".into());
            } else {
                want_longs.push(1000);
            }
            want_lines.push("c,3".into());
            if max >= 2 * BUF {
                want_lines.push(format!("zx{}", 2 * BUF));
            } else {
                want_longs.push(2 * BUF as u64);
            }
            if max >= 3 * BUF + 5 {
                want_lines.insert(1, format!("xx{}", 3 * BUF + 5));
                want_longs.remove(0);
            }
            assert_eq!(
                (lines, longs),
                (want_lines, want_longs),
                "chunk {chunk}, max {max}"
            );
        }
    }

    /// A line over the limit but within one read is reported too, with
    /// nothing skipped before it.
    #[test]
    fn a_line_over_the_limit_within_a_read_is_too_long() {
        let mut input = b"a,1\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', 1000));
        input.extend_from_slice(b"\nb,2\n");
        let (mut lines, mut longs) = (Vec::new(), Vec::new());
        for_each_record::<_, io::Error>(
            &input[..],
            Framing::text(b','),
            999,
            &mut (
                |l: &[u8], _| {
                    lines.push(l.to_vec());
                    Ok(())
                },
                |n| {
                    longs.push(n);
                    Ok(())
                },
            ),
        )
        .expect("reads");
        assert_eq!(
            (lines, longs),
            (vec![b"a,1".to_vec(), b"b,2".to_vec()], vec![1000])
        );
    }

    /// A long line through small reads costs time linear in its length:
    /// 64 MiB in 64 KiB reads indexes each block once, not once per read
    /// (which took minutes before).
    #[test]
    fn a_long_line_from_a_pipe_is_read_in_linear_time() {
        let mut input = vec![b'x'; 48 << 20];
        input.push(b'\n');
        let t = std::time::Instant::now();
        let mut got = 0;
        for_each_line::<_, io::Error>(
            Trickle(&input, 1 << 16),
            MAX_LINE,
            |l| {
                got = l.len();
                Ok(())
            },
            |_| Ok(()),
        )
        .expect("reads");
        assert_eq!(got, 48 << 20);
        assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    }

    #[test]
    fn delimiters_of_every_line() {
        // Lines of every length up to past 64, at every offset of the
        // blocks, across buffer refills (quotes: the integration tests,
        // against Python's csv).
        let mut input = Vec::new();
        let mut want = Vec::new();
        let mut seed = 7u64;
        while input.len() < 3 * BUF {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 80) as usize;
            let line: Vec<u8> = (0..len)
                .map(|i| match (seed >> (i % 60)) % 7 {
                    0 => b',',
                    _ => b'a' + (i % 26) as u8,
                })
                .collect();
            input.extend_from_slice(&line);
            input.push(b'\n');
            want.push((line.clone(), expected(&line)));
        }
        input.extend_from_slice(b"x,y");
        want.push((
            b"x,y".to_vec(),
            Some(Delims {
                bits: 0b10,
                quotes: Quotes::None,
            }),
        ));
        assert_eq!(collect(&input), want);
    }

    /// The records of `input` and the delimiter bits of each short one,
    /// by the CSV state machine one byte at a time (RFC 4180 as Python's
    /// `csv` reads it: a quote opens a field only at its start, `""` in
    /// one is a quote; a record ends at `\n`, `\r\n` or a lone `\r`
    /// outside quotes).
    fn by_hand(input: &[u8], delim: u8, quote: Option<u8>) -> Vec<(Vec<u8>, Option<u64>)> {
        let (mut out, mut rec, mut bits) = (Vec::new(), Vec::new(), 0u64);
        let (mut start, mut quoted, mut after_quote) = (true, false, false);
        let mut i = 0;
        while i < input.len() {
            let c = input[i];
            i += 1;
            let is_quote = Some(c) == quote;
            if quoted {
                if is_quote {
                    (quoted, after_quote) = (false, true);
                }
                rec.push(c);
                continue;
            }
            if is_quote && (start || after_quote) {
                (quoted, after_quote, start) = (true, false, false);
                rec.push(c);
                continue;
            }
            after_quote = false;
            if c == b'\n' || c == b'\r' {
                if c == b'\r' && input.get(i) == Some(&b'\n') {
                    i += 1;
                }
                let short = rec.len() <= 64;
                out.push((std::mem::take(&mut rec), short.then_some(bits)));
                (bits, start) = (0, true);
                continue;
            }
            start = c == delim;
            if start && rec.len() < 64 {
                bits |= 1 << rec.len();
            }
            rec.push(c);
        }
        if !rec.is_empty() {
            let short = rec.len() <= 64;
            out.push((rec, short.then_some(bits)));
        }
        out
    }

    /// Records and delimiters as the byte-by-byte state machine finds
    /// them, over long stretches of plain lines (read by the fast paths),
    /// stretches with quotes (fields with delimiters, line breaks and
    /// `""` inside, quotes inside unquoted fields) and with `\r\n` or lone
    /// `\r` ends, each stretch starting at any offset of a block and of
    /// the index's window, read whole and in small reads.
    #[test]
    fn records_as_the_state_machine_reads_them() {
        // With `\r`s, and without any: the reader takes its fastest loop
        // only until it has seen one, and that loop must meet quotes too.
        for kinds in [4, 2] {
            records_match_the_state_machine(kinds);
        }
    }

    /// [`records_as_the_state_machine_reads_them`] over stretches of the
    /// first `kinds` kinds (plain, quoted, `\r` ends, both).
    fn records_match_the_state_machine(kinds: u64) {
        let mut seed = 11u64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut input = Vec::new();
        while input.len() < 3 * BUF {
            // A stretch of one kind, some 100 bytes to past a window.
            let kind = rand(kinds);
            let end = input.len() + 100 + rand(40_000) as usize;
            while input.len() < end {
                let len = rand(90);
                for _ in 0..len {
                    let c = match (kind, rand(40)) {
                        (_, 0..=5) => b',',
                        (1 | 3, 6..=8) => b'"',
                        (1, 9) => b'\n',
                        (2 | 3, 9) => b'\r',
                        _ => b'a' + rand(26) as u8,
                    };
                    input.push(c);
                }
                input.extend_from_slice(match (kind, rand(3)) {
                    (2 | 3, 0) => b"\r\n",
                    (2 | 3, 1) => b"\r",
                    _ => b"\n",
                });
            }
        }
        input.extend_from_slice(b"x,y\n");
        for quote in [Some(b'"'), None] {
            let want = by_hand(&input, b',', quote);
            for chunk in [usize::MAX, 1 << 16, 4093] {
                let mut got = Vec::new();
                for_each_record::<_, io::Error>(
                    Trickle(&input, chunk),
                    Framing::Csv { delim: b',', quote },
                    MAX_LINE,
                    &mut (
                        |l: &[u8], d: Option<Delims>| {
                            got.push((l.to_vec(), d.map(|d| d.bits)));
                            Ok(())
                        },
                        |_| panic!("no line is too long here"),
                    ),
                )
                .expect("reads");
                let at = format!("kinds {kinds}, quote {quote:?}, reads of {chunk}");
                assert_eq!(got.len(), want.len(), "{at}");
                for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g, w, "record {k}, {at}");
                }
            }
        }
    }
}
