//! Reading LF-terminated lines fast, without copying or UTF-8 checks, and
//! finding each short line's delimiters in the same pass.
//!
//! The read buffer is indexed 64 bytes at a time with SIMD compares (the
//! `wide` crate: SSE2 on x86_64, NEON on aarch64, safe code here): one bit
//! per byte for newlines, delimiters and quotes. Lines come from the newline
//! bits, and a line of up to 64 bytes gets its delimiter bits as one `u64`,
//! so splitting it is a loop over set bits whose trip count is the field
//! count: the same on every line of a file, so predicted.
//!
//! The index runs a window ahead of the lines (16 KiB), so the bytes are
//! still in cache when the line is parsed.

use std::io::{self, Read};

use wide::u8x16;

/// Starting size of the read buffer (a multiple of 64); it doubles for
/// longer lines.
const BUF: usize = 1 << 20;
/// Bytes indexed ahead of the line being handed out, in 64-byte blocks.
const WINDOW: usize = 256;

/// Bitmaps of one 64-byte block: bit `i` is byte `i`.
#[derive(Clone, Copy, Debug, Default)]
struct Block {
    newlines: u64,
    delims: u64,
    quotes: u64,
}

/// The longest line read (64 MiB): a longer one is skipped, not held, and
/// reported to the caller by its length (as Hadoop's LineRecordReader
/// skips lines over `mapreduce.input.linerecordreader.line.maxlength`), so
/// no input makes a reader hold more than this in memory.
pub const MAX_LINE: usize = 64 << 20;

/// Calls `f` for each line of `r` (without its `\n`); a last line without a
/// newline is still a line, as in Hadoop's `LineRecordReader`. A line over
/// `max_line` bytes goes to `long` with its length instead.
pub fn for_each_line<R: Read, E: From<io::Error>>(
    r: R,
    max_line: usize,
    mut f: impl FnMut(&[u8]) -> Result<(), E>,
    long: impl FnMut(u64) -> Result<(), E>,
) -> Result<(), E> {
    for_each_record(r, b'\t', max_line, &mut (|line: &[u8], _| f(line), long))
}

/// Where [`for_each_record`] hands its lines: a pair of closures (lines,
/// over-long lines), or one value that takes both (the mapper).
pub trait Records<E> {
    /// A line (without its `\n`) and its delimiter bits when known.
    fn record(&mut self, line: &[u8], delims: Option<u64>) -> Result<(), E>;
    /// A line over the limit, skipped: its length.
    fn too_long(&mut self, len: u64) -> Result<(), E>;
}

impl<E, F, G> Records<E> for (F, G)
where
    F: FnMut(&[u8], Option<u64>) -> Result<(), E>,
    G: FnMut(u64) -> Result<(), E>,
{
    #[inline]
    fn record(&mut self, line: &[u8], delims: Option<u64>) -> Result<(), E> {
        (self.0)(line, delims)
    }

    fn too_long(&mut self, len: u64) -> Result<(), E> {
        (self.1)(len)
    }
}

/// Like [`for_each_line`], and also hands out where `delim` occurs in the
/// line: bit `i` set when byte `i` is `delim`. `None` when the line is
/// longer than 64 bytes or holds a `"` (the caller then splits it itself).
///
/// Every byte is indexed once and moved at most once per line it is part
/// of, so reading is linear in the input whatever the line lengths and
/// however small the reads (a pipe gives 64 KiB at a time).
pub fn for_each_record<R: Read, E: From<io::Error>>(
    mut r: R,
    delim: u8,
    max_line: usize,
    sink: &mut impl Records<E>,
) -> Result<(), E> {
    // The buffer never grows past the longest line allowed (rounded up to
    // whole blocks), plus one spare block so a line's two-block window
    // never runs off the end.
    let most = (max_line + 1).next_multiple_of(64).max(BUF);
    let mut buf = vec![0u8; BUF + 64];
    let mut index = vec![Block::default(); BUF / 64 + 1];
    // Newline positions of one window, with room for two past the last.
    let mut ends = vec![0usize; 64 * WINDOW + 2];
    let (mut start, mut end) = (0, 0);
    // Bytes of an over-long line dropped so far, while it is skipped.
    let mut skipped: Option<u64> = None;
    loop {
        let moved = start > 0;
        if moved {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if end == buf.len() - 64 {
            if end > max_line || buf.len() - 64 >= most {
                // One line fills the buffer: too long. Drop what is held
                // and skip to its end.
                *skipped.get_or_insert(0) += end as u64;
                end = 0;
            } else {
                let len = (2 * (buf.len() - 64)).min(most) + 64;
                buf.resize(len, 0);
                index.resize(len / 64, Block::default());
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
                build(&buf, delim, start / 64..end.div_ceil(64) + 1, &mut index);
                sink.record(&buf[start..end], delims_of(&index, start, end))?;
            }
            return Ok(());
        }
        // The bytes before `end` hold no newline (they are the start of a
        // line): their blocks are still indexed, unless the buffer moved.
        let scan = end;
        end += n;
        let blocks = end.div_ceil(64);
        // Stale bytes past the end must not look like newlines.
        buf[end..64 * blocks].fill(0);
        let mut k = scan / 64;
        let mut built = if moved { 0 } else { k };
        while k < blocks {
            let upto = (k + WINDOW).min(blocks);
            build(&buf, delim, built..upto + 1, &mut index);
            built = upto + 1;
            let mut n = 0;
            for (j, b) in index[k..upto].iter().enumerate() {
                n = newlines(b.newlines, 64 * (k + j), n, &mut ends);
            }
            for &nl in &ends[..n] {
                match skipped.take() {
                    Some(k) => sink.too_long(k + (nl - start) as u64)?,
                    None if nl - start > max_line => sink.too_long((nl - start) as u64)?,
                    None => sink.record(&buf[start..nl], delims_of(&index, start, nl))?,
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

/// The delimiter bits of the line `start..end`, if it is short and unquoted.
#[inline]
fn delims_of(index: &[Block], start: usize, end: usize) -> Option<u64> {
    let len = end - start;
    if len > 64 {
        return None;
    }
    let (k, off) = (start / 64, start % 64);
    let (a, b) = (index[k], index[k + 1]);
    let window = |lo: u64, hi: u64| ((u128::from(hi) << 64 | u128::from(lo)) >> off) as u64;
    let keep = u64::MAX.checked_shr(64 - len as u32).unwrap_or(0);
    if window(a.quotes, b.quotes) & keep != 0 {
        return None;
    }
    Some(window(a.delims, b.delims) & keep)
}

/// Indexes the 64-byte blocks `blocks` of `buf`.
fn build(buf: &[u8], delim: u8, blocks: std::ops::Range<usize>, index: &mut [Block]) {
    let (nl, dl, qt) = (u8x16::splat(b'\n'), u8x16::splat(delim), u8x16::splat(b'"'));
    let bytes = &buf[64 * blocks.start..64 * blocks.end];
    for (b, out) in bytes.as_chunks::<64>().0.iter().zip(&mut index[blocks]) {
        let mut m = Block::default();
        for (j, v) in b.as_chunks::<16>().0.iter().enumerate() {
            let v = u8x16::new(*v);
            let bits = |c: u8x16| u64::from(v.simd_eq(c).to_bitmask()) << (16 * j);
            m.newlines |= bits(nl);
            m.delims |= bits(dl);
            m.quotes |= bits(qt);
        }
        *out = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8]) -> Vec<(Vec<u8>, Option<u64>)> {
        let mut v = Vec::new();
        for_each_record::<_, io::Error>(
            input,
            b',',
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

    /// What the index must say, computed the slow way.
    fn expected(line: &[u8]) -> Option<u64> {
        if line.len() > 64 || line.contains(&b'"') {
            return None;
        }
        Some(
            line.iter()
                .enumerate()
                .filter(|&(_, &c)| c == b',')
                .fold(0, |m, (i, _)| m | 1 << i),
        )
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
                b',',
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
        // blocks, across buffer refills, with and without quotes.
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
                    1 if seed.is_multiple_of(5) => b'"',
                    _ => b'a' + (i % 26) as u8,
                })
                .collect();
            input.extend_from_slice(&line);
            input.push(b'\n');
            want.push((line.clone(), expected(&line)));
        }
        input.extend_from_slice(b"x,y");
        want.push((b"x,y".to_vec(), Some(0b10)));
        assert_eq!(collect(&input), want);
    }
}
