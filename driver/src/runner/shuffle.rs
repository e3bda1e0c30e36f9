//! Between map and reduce: sort by key bytes and merge sorted runs (the
//! map side, `mapside.rs`, partitions and combines).
//!
//! Map outputs wait for the reducers as sorted run files, not in memory;
//! a reducer reads its runs through a k-way merge, a line at a time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::keysort::key;
use super::ranges::Span;

/// Lines of `data` (each without its newline).
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    body.split(|&b| b == b'\n')
        .filter(move |_| !data.is_empty())
}

/// Sorts lines by key bytes (the order of equal keys is kept, as any order
/// is allowed) and joins them back with newlines.
pub fn sort_join(mut ls: Vec<&[u8]>) -> Vec<u8> {
    ls.sort_by(|a, b| key(a).cmp(key(b)));
    let mut out = Vec::with_capacity(ls.iter().map(|l| l.len() + 1).sum());
    for l in ls {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// Merges sorted runs into one sorted run.
pub fn merge(runs: &[Vec<u8>]) -> Vec<u8> {
    sort_join(runs.iter().flat_map(|r| lines(r)).collect())
}

/// Writes a sorted run to `path` (fsync is not needed: a run lives only
/// as long as the job's staging directory).
pub fn write_run(path: &Path, run: &[u8]) -> io::Result<()> {
    std::fs::write(path, run)
}

/// Merges sorted run files into `out`, k ways, holding one line of each
/// run in memory; returns the lines written. Lines of equal keys come out
/// in run order (any order is allowed).
pub fn merge_files(runs: &[PathBuf], out: &mut dyn Write) -> io::Result<u64> {
    let spans: Vec<Span> = runs
        .iter()
        .map(|p| Span::whole(p))
        .collect::<io::Result<_>>()?;
    merge_spans(&spans, out)
}

/// [`merge_files`] of spans of run files.
pub fn merge_spans(runs: &[Span], out: &mut dyn Write) -> io::Result<u64> {
    // Lines go out in 64 KiB writes, not two system calls each (a pipe to
    // the reducer).
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    struct Head {
        line: Vec<u8>,
        reader: BufReader<io::Take<File>>,
    }
    let next = |h: &mut Head| -> io::Result<bool> {
        h.line.clear();
        let n = read_line(&mut h.reader, &mut h.line)?;
        if h.line.last() == Some(&b'\n') {
            h.line.pop();
        }
        Ok(n > 0)
    };
    let mut heads = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::new();
    for s in runs {
        let mut f = File::open(&s.path)?;
        f.seek(io::SeekFrom::Start(s.start))?;
        let mut h = Head {
            line: Vec::new(),
            reader: BufReader::with_capacity(1 << 16, f.take(s.end.saturating_sub(s.start))),
        };
        if next(&mut h)? {
            heap.push(Reverse((key(&h.line).to_vec(), heads.len())));
        }
        heads.push(h);
    }
    let mut written = 0;
    // A popped key's buffer holds the next key of its run: no allocation
    // per line.
    while let Some(Reverse((mut k, i))) = heap.pop() {
        let h = &mut heads[i];
        out.write_all(&h.line)?;
        out.write_all(b"\n")?;
        written += 1;
        if next(h)? {
            k.clear();
            k.extend_from_slice(key(&h.line));
            heap.push(Reverse((k, i)));
        }
    }
    out.flush()?;
    Ok(written)
}

/// `read_until(b'\n')` with the `memchr` crate's search, much faster than
/// the standard library's byte search on long runs.
fn read_line(r: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    let mut n = 0;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(n);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        n += take;
        if done {
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_sort_and_merge() {
        let data = b"b\t1\na\t2\n\t3\nb\t4\n";
        assert_eq!(sort_join(lines(data).collect()), b"\t3\na\t2\nb\t1\nb\t4\n");
        assert_eq!(
            merge(&[b"a\t1\nc\t1\n".to_vec(), b"b\t1\n".to_vec(), Vec::new()]),
            b"a\t1\nb\t1\nc\t1\n"
        );
        assert_eq!(lines(b"").count(), 0);
        let dir = tempfile::tempdir().expect("tempdir");
        let runs: Vec<PathBuf> = [&b"a\t1\nc\t1\n"[..], b"b\t1\nc\t2\n", b""]
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p = dir.path().join(format!("r{i}"));
                write_run(&p, r).expect("write");
                p
            })
            .collect();
        let mut out = Vec::new();
        assert_eq!(merge_files(&runs, &mut out).expect("merge"), 4);
        assert_eq!(out, b"a\t1\nb\t1\nc\t1\nc\t2\n");
    }

    /// Lines longer than the reader's buffer, and a last line without its
    /// newline, read as `read_until` reads them.
    #[test]
    fn lines_across_refills() {
        let data = b"abcdefgh\nij\n\nklm";
        let mut r = BufReader::with_capacity(4, &data[..]);
        let mut want = BufReader::with_capacity(3, &data[..]);
        loop {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let n = read_line(&mut r, &mut a).expect("reads");
            assert_eq!(n, want.read_until(b'\n', &mut b).expect("reads"));
            assert_eq!(a, b);
            if n == 0 {
                break;
            }
        }
    }
}
