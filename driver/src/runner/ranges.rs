//! Cutting one reduce partition into key ranges, so that several reducer
//! processes can fold it at once on a machine with more cores than
//! reducers. The reducer folds each key on its own and writes its keys in
//! input order, so the ranges' outputs, joined in order, are the very bytes
//! one reducer writes for the whole partition: the part files do not
//! change; only the local runner's use of cores does.
//!
//! Each run file is sorted, so a range of keys is one byte span of each
//! run. Cut points are drawn from keys sampled across the runs (weighted
//! by the bytes they stand for) and found in every run by binary search
//! over byte offsets; every line of a key lands in the same range.

use super::keysort::key;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Partitions smaller than this are reduced by one process: starting more
/// costs more than it saves.
pub(super) const MIN_BYTES: u64 = 8 << 20;

/// Keys sampled from each run to choose the cut points.
const SAMPLES: u64 = 64;

/// Bytes `start..end` of a sorted run file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub path: PathBuf,
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// A whole run file.
    pub fn whole(path: &Path) -> io::Result<Self> {
        Ok(Self {
            path: path.to_owned(),
            start: 0,
            end: std::fs::metadata(path)?.len(),
        })
    }
}

/// Cuts the sorted `runs` into up to `ways` key ranges of about equal
/// bytes; returns, per range in key order, its (non-empty) spans of the
/// runs. One range when `ways` is 1 or the runs hold under `min_bytes`.
pub(super) fn cut(runs: &[PathBuf], ways: usize, min_bytes: u64) -> io::Result<Vec<Vec<Span>>> {
    let whole: Vec<Span> = runs
        .iter()
        .map(|p| Span::whole(p))
        .collect::<io::Result<_>>()?;
    let total: u64 = whole.iter().map(|s| s.end).sum();
    if ways <= 1 || total < min_bytes {
        return Ok(vec![whole]);
    }
    let files: Vec<File> = runs.iter().map(File::open).collect::<io::Result<_>>()?;
    let mut samples: Vec<(Vec<u8>, u64)> = Vec::new();
    for (f, s) in files.iter().zip(&whole) {
        let step = s.end / SAMPLES;
        if step == 0 {
            continue;
        }
        for i in 0..SAMPLES {
            let at = next_line_start(f, i * step, s.end)?;
            if at < s.end {
                samples.push((key(&line_at(f, at)?).to_vec(), step));
            }
        }
    }
    samples.sort_unstable();
    let mut pivots: Vec<Vec<u8>> = Vec::new();
    let mut seen = 0;
    let mut next = 1;
    for (k, w) in samples {
        seen += w;
        if next < ways && seen * ways as u64 >= total * next as u64 {
            next += 1;
            if pivots.last() != Some(&k) {
                pivots.push(k);
            }
        }
    }
    // Per run, the offset of each pivot: where its range starts.
    let mut starts = Vec::with_capacity(files.len());
    for (f, s) in files.iter().zip(&whole) {
        let mut at = vec![0];
        for p in &pivots {
            at.push(first_at_least(f, s.end, p)?);
        }
        at.push(s.end);
        starts.push(at);
    }
    Ok((0..=pivots.len())
        .map(|r| {
            whole
                .iter()
                .zip(&starts)
                .map(|(s, at)| Span {
                    path: s.path.clone(),
                    start: at[r],
                    end: at[r + 1],
                })
                .filter(|s| s.start < s.end)
                .collect::<Vec<_>>()
        })
        .filter(|r| !r.is_empty())
        .collect())
}

/// The first line start at or after `at` (or `end`).
fn next_line_start(f: &File, at: u64, end: u64) -> io::Result<u64> {
    if at == 0 {
        return Ok(0);
    }
    // A line starts at `at` when the byte before it ends a line.
    let mut pos = at - 1;
    let mut buf = [0u8; 4096];
    while pos < end {
        let n = f.read_at(&mut buf, pos)?;
        if n == 0 {
            break;
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            return Ok((pos + i as u64 + 1).min(end));
        }
        pos += n as u64;
    }
    Ok(end)
}

/// The line starting at `at`, without its newline.
fn line_at(f: &File, at: u64) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut buf = [0u8; 4096];
    let mut pos = at;
    loop {
        let n = f.read_at(&mut buf, pos)?;
        if n == 0 {
            return Ok(line);
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            line.extend_from_slice(&buf[..i]);
            return Ok(line);
        }
        line.extend_from_slice(&buf[..n]);
        pos += n as u64;
    }
}

/// The start of the first line of the sorted run `f` (of `end` bytes)
/// whose key is at least `pivot`, or `end`.
fn first_at_least(f: &File, end: u64, pivot: &[u8]) -> io::Result<u64> {
    // `lo` is a line start with only smaller keys before it; `hi` is a line
    // start (or the end) with only keys at least `pivot` from it on.
    let (mut lo, mut hi) = (0, end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let mut at = next_line_start(f, mid, hi)?;
        if at >= hi {
            // No line starts in mid..hi: look at the line at `lo`.
            at = lo;
        }
        let line = line_at(f, at)?;
        if key(&line) < pivot {
            lo = at + line.len() as u64 + 1;
        } else {
            hi = at;
        }
    }
    Ok(lo.min(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn write(dir: &Path, name: &str, keys: &[u16]) -> PathBuf {
        let mut data = Vec::new();
        for k in keys {
            // Lines of different lengths, so offsets fall mid-line.
            data.extend_from_slice(
                format!("k{k:05}\t{}\n", "x".repeat(usize::from(*k % 7))).as_bytes(),
            );
        }
        let p = dir.join(name);
        std::fs::write(&p, data).expect("write run");
        p
    }

    fn read(s: &Span) -> Vec<u8> {
        let data = std::fs::read(&s.path).expect("read run");
        data[s.start as usize..s.end as usize].to_vec()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every line lands in one range, ranges are in key order, no key
        /// is in two ranges, and each span is whole lines.
        #[test]
        fn ranges_cover_each_key_once(
            runs in prop::collection::vec(prop::collection::vec(0u16..3000, 0..40_000), 1..5),
            ways in 1usize..5,
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let paths: Vec<PathBuf> = runs
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut r = r.clone();
                    r.sort_unstable();
                    write(dir.path(), &format!("r{i}"), &r)
                })
                .collect();
            let ranges = cut(&paths, ways, 0).expect("cut");
            let distinct: std::collections::BTreeSet<u16> = runs.iter().flatten().copied().collect();
            prop_assert!(ranges.len() <= ways);
            if ways > 1 && distinct.len() >= 100 {
                prop_assert!(ranges.len() > 1, "a partition of many keys was not cut");
            }
            let mut last: Option<Vec<u8>> = None;
            for (run, p) in paths.iter().enumerate() {
                let mut joined = Vec::new();
                for r in &ranges {
                    for s in r.iter().filter(|s| &s.path == p) {
                        joined.extend(read(s));
                    }
                }
                prop_assert_eq!(joined, std::fs::read(p).expect("read"), "run {}", run);
            }
            for r in &ranges {
                let mut keys: Vec<Vec<u8>> = r
                    .iter()
                    .flat_map(|s| read(s).split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| key(l).to_vec()).collect::<Vec<_>>())
                    .collect();
                keys.sort();
                if let (Some(prev), Some(first)) = (&last, keys.first()) {
                    prop_assert!(prev < first, "ranges overlap or are out of order");
                }
                if let Some(k) = keys.last() {
                    last = Some(k.clone());
                }
            }
        }
    }
}
