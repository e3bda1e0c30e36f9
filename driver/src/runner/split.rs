//! Input splits, cut and read exactly as Hadoop's `FileInputFormat` and
//! `LineRecordReader` do.
//!
//! A file is cut every `split_size` bytes, except that the last split may be
//! up to 10% larger (Hadoop's `SPLIT_SLOP`); a compressed file is one split
//! (but bzip2, cut at its blocks: [`super::bzsplit`]). A
//! split starting at `s > 0` skips through the first newline at or after
//! `s`, and every split reads each line that starts at or before its end, so
//! each line is read by exactly one split: the one where it starts, counting
//! a line that starts exactly on a boundary into the split before. Lines
//! end at `\n`, `\r\n` or a lone `\r`, as in Hadoop's `LineReader`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};

use serde::Serialize;

use mapfold_core::binary::Layout;

use super::input::{Codec, Format, InputFile};

/// Hadoop's `FileInputFormat.SPLIT_SLOP`.
const SPLIT_SLOP: f64 = 1.1;

/// A byte range of one input file, read by one map task.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Split {
    /// Index into the job's input files.
    pub file: usize,
    pub start: u64,
    pub length: u64,
}

/// The split size when none is given: Hadoop's 128 MiB block, or less so
/// that `maps` slots all get work (at least 1 MiB a split). Splitting
/// never changes a result, only how many processes share the work.
pub fn default_size(inputs: &[InputFile], maps: usize) -> u64 {
    const BLOCK: u64 = 128 << 20;
    let total: u64 = inputs.iter().map(|f| f.size).sum();
    total.div_ceil(maps.max(1) as u64).clamp(1 << 20, BLOCK)
}

/// Cuts every input into splits; `whole` makes each file one split (its
/// records may span lines), as a compressed text file always is (a
/// SequenceFile compresses inside, and splits).
pub fn plan(inputs: &[InputFile], split_size: u64, whole: bool, format: Format) -> Vec<Split> {
    let whole = whole || format.whole_files();
    // A compressed text file is one split, but for bzip2, cut at its
    // blocks as BZip2Codec lets Hadoop cut it.
    let compressed = |f: &InputFile| {
        format != Format::Sequence && !matches!(f.codec(), None | Some(Codec::Bzip2))
    };
    let mut splits = Vec::new();
    for (file, f) in inputs.iter().enumerate() {
        if whole || compressed(f) || f.size == 0 {
            splits.push(Split {
                file,
                start: 0,
                length: f.size,
            });
            continue;
        }
        let mut left = f.size;
        while left as f64 / split_size as f64 > SPLIT_SLOP {
            splits.push(Split {
                file,
                start: f.size - left,
                length: split_size,
            });
            left -= split_size;
        }
        if left > 0 {
            splits.push(Split {
                file,
                start: f.size - left,
                length: left,
            });
        }
    }
    splits
}

/// Writes the lines of `split` to `out`, as the record reader of `format`
/// gives them to a streaming mapper, calling `progress` with byte counts.
pub fn feed(
    input: &InputFile,
    split: &Split,
    format: Format,
    out: &mut dyn Write,
    mut progress: impl FnMut(u64),
) -> io::Result<()> {
    match format {
        Format::Sequence => {
            return super::seqfile::feed(&input.path, split.start, split.length, out, progress);
        }
        Format::Array(l) => {
            let (from, to) = array_bytes(input, split, l);
            let mut f = File::open(&input.path)?;
            f.seek(SeekFrom::Start(from))?;
            let mut body = BufReader::with_capacity(1 << 20, f).take(to - from);
            return copy(&mut body, out, &mut progress);
        }
        Format::Text => {}
    }
    if input.codec() == Some(Codec::Bzip2) && split.length < input.size {
        return super::bzsplit::feed(&input.path, split.start, split.length, out, progress);
    }
    if input.codec().is_some() {
        let mut r = input.open().map_err(io::Error::other)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            out.write_all(&buf[..n])?;
            progress(n as u64);
        }
    }
    let mut f = File::open(&input.path)?;
    f.seek(SeekFrom::Start(split.start))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let end = split.start + split.length;
    let mut pos = split.start;
    if split.start != 0 {
        pos += skip_line(&mut r)?;
    }
    if pos > end {
        return Ok(());
    }
    // Whole bytes up to the end, then the rest of the line that crosses it.
    let mut body = (&mut r).take(end - pos);
    copy(&mut body, out, &mut progress)?;
    copy_line(&mut r, out, &mut progress)
}

/// When `split` runs to the end of an uncompressed file, the file itself,
/// positioned at the split's first line, can be the task's stdin: the same
/// lines with no copy through a pipe (which cost more system time than the
/// mappers' own work). Also returns the bytes from there to the planned
/// end, which the mapper reads no further than (a file that grows while the
/// job runs). `None` when the split must be fed.
pub fn direct(input: &InputFile, split: &Split, format: Format) -> io::Result<Option<(File, u64)>> {
    if let Format::Array(l) = format {
        let (from, to) = array_bytes(input, split, l);
        if to != input.size || input.codec().is_some() {
            return Ok(None);
        }
        let mut f = File::open(&input.path)?;
        f.seek(SeekFrom::Start(from))?;
        return Ok(Some((f, to - from)));
    }
    if format == Format::Sequence
        || input.codec().is_some()
        || split.start + split.length != input.size
    {
        return Ok(None);
    }
    let mut f = File::open(&input.path)?;
    let mut pos = split.start;
    if split.start != 0 {
        f.seek(SeekFrom::Start(split.start))?;
        pos += skip_line(&mut BufReader::new(&mut f))?;
    }
    f.seek(SeekFrom::Start(pos))?;
    Ok(Some((f, input.size.saturating_sub(pos))))
}

/// The bytes of an array's split that its task reads, as
/// `FixedLengthRecordReader` reads records ([`super::input::record_len`]
/// bytes each, from offset 0): those of the records that start in the
/// split, less the file's header (the task reads rows; the split that
/// starts the file counts the header).
fn array_bytes(input: &InputFile, split: &Split, l: Layout) -> (u64, u64) {
    let len = super::input::record_len(l);
    let end = split.start + split.length;
    let first = split.start.div_ceil(len) * len;
    let last = end.div_ceil(len) * len;
    let to = last.min(input.size).max(first);
    (first.max(l.data_offset).min(to), to)
}

/// Consumes through the next line terminator (`\n`, `\r\n` or a lone
/// `\r`, as Hadoop's `LineReader`); returns the bytes consumed.
pub(super) fn skip_line(r: &mut impl BufRead) -> io::Result<u64> {
    let mut n = 0u64;
    through_line(r, &mut |b| {
        n += b.len() as u64;
        Ok(())
    })?;
    Ok(n)
}

/// Hands `take` the bytes of `r` through the next line terminator, the
/// `\n` of a `\r\n` that spans two reads included.
fn through_line(
    r: &mut impl BufRead,
    take: &mut impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match memchr::memchr2(b'\n', b'\r', buf) {
            Some(i) => {
                let cr = buf[i] == b'\r';
                take(&buf[..=i])?;
                r.consume(i + 1);
                if cr && r.fill_buf()?.first() == Some(&b'\n') {
                    take(b"\n")?;
                    r.consume(1);
                }
                return Ok(());
            }
            None => {
                let l = buf.len();
                take(buf)?;
                r.consume(l);
            }
        }
    }
}

pub(super) fn copy_line(
    r: &mut impl BufRead,
    out: &mut dyn Write,
    progress: &mut impl FnMut(u64),
) -> io::Result<()> {
    through_line(r, &mut |b| {
        out.write_all(b)?;
        progress(b.len() as u64);
        Ok(())
    })
}

fn copy(r: &mut impl Read, out: &mut dyn Write, progress: &mut impl FnMut(u64)) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
        progress(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(data: &[u8]) -> (tempfile::TempDir, InputFile) {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("f.csv");
        std::fs::write(&p, data).expect("write");
        (
            d,
            InputFile {
                path: p,
                size: data.len() as u64,
                modified: None,
            },
        )
    }

    #[test]
    fn default_size_gives_every_slot_work() {
        let f = |size: u64| InputFile {
            path: "x".into(),
            size,
            modified: None,
        };
        // One 100 MB file on 2 slots: two splits of 50 MB.
        assert_eq!(default_size(&[f(100_000_000)], 2), 50_000_000);
        assert_eq!(
            plan(
                &[f(100_000_000)],
                default_size(&[f(100_000_000)], 2),
                false,
                Format::Text
            )
            .len(),
            2
        );
        // Large inputs keep Hadoop's block; tiny ones are not cut below 1 MiB.
        assert_eq!(default_size(&[f(10 << 30)], 2), 128 << 20);
        assert_eq!(default_size(&[f(1000)], 8), 1 << 20);
        assert_eq!(default_size(&[], 0), 1 << 20);
    }

    #[test]
    fn every_line_read_once_for_every_split_size() {
        let data = b"aa\nbbbb\n\nc\ndddddddd\ne";
        let (_d, f) = input(data);
        for size in 1..=data.len() as u64 + 1 {
            let mut all = Vec::new();
            for s in plan(std::slice::from_ref(&f), size, false, Format::Text) {
                feed(&f, &s, Format::Text, &mut all, |_| {}).expect("feed");
            }
            assert_eq!(all, data, "split size {size}");
        }
    }

    #[test]
    fn slop_and_boundaries_like_hadoop() {
        let (_d, f) = input(&[b'x'; 105]);
        let p = plan(std::slice::from_ref(&f), 50, false, Format::Text);
        // 105/50 > 1.1: cut at 50; 55/50 <= 1.1: the rest is one split.
        assert_eq!(
            p.iter().map(|s| (s.start, s.length)).collect::<Vec<_>>(),
            vec![(0, 50), (50, 55)]
        );
        // A line starting exactly on a boundary belongs to the split before.
        let (_d, f) = input(b"ab\ncd\nef\n");
        let s = [
            Split {
                file: 0,
                start: 0,
                length: 3,
            },
            Split {
                file: 0,
                start: 3,
                length: 6,
            },
        ];
        let mut a = Vec::new();
        feed(&f, &s[0], Format::Text, &mut a, |_| {}).expect("feed");
        assert_eq!(a, b"ab\ncd\n");
        let mut b = Vec::new();
        feed(&f, &s[1], Format::Text, &mut b, |_| {}).expect("feed");
        assert_eq!(b, b"ef\n");
        // Read directly, the last split gives the same bytes.
        let mut d = Vec::new();
        let (mut file, n) = direct(&f, &s[1], Format::Text)
            .expect("io")
            .expect("runs to EOF");
        assert_eq!(n, 3);
        std::io::Read::read_to_end(&mut file, &mut d).expect("read");
        assert_eq!(d, b);
        assert!(direct(&f, &s[0], Format::Text).expect("io").is_none());
    }
}
