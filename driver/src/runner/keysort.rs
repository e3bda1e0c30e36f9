//! Sorting a spill's lines by key bytes, as Hadoop's map side does, without
//! a byte comparison per step: the lines are sorted by 16-byte windows of
//! their keys taken as integers, and only lines whose windows tie are
//! sorted again by the next window (a most-significant-digit radix sort
//! with 128-bit digits). Comparing whole keys with `memcmp` reached into
//! the spill buffer at random at every comparison, and many keys (titles)
//! share their first words.

/// The key of a streaming line: up to its first tab.
pub fn key(line: &[u8]) -> &[u8] {
    mapfold_core::wire::split_line(line).0
}

/// A line of a spill: where it lies in the buffer, the length of its key,
/// and one 16-byte window of the key (refilled at each level of the sort).
#[derive(Clone, Copy, Debug)]
pub(super) struct Line {
    window: u128,
    start: u32,
    klen: u32,
    len: u32,
    /// The key's bytes past the window's start, at most 17 (see
    /// [`sort_lines`]): set with the window.
    rest: u8,
}

impl Line {
    /// A line at `start` of `len` bytes (without its newline) whose key is
    /// its first `klen` bytes.
    pub(super) fn new(start: u32, klen: u32, len: u32) -> Self {
        Self {
            window: 0,
            start,
            klen,
            len,
            rest: 0,
        }
    }

    pub(super) fn key<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.start as usize..(self.start + self.klen) as usize]
    }

    /// The line without its newline.
    pub(super) fn text<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.start as usize..(self.start + self.len) as usize]
    }

    /// The line with its newline.
    pub(super) fn with_newline<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        &buf[self.start as usize..=(self.start + self.len) as usize]
    }
}

/// Sorts `ls` by the bytes of their keys in `buf` (equal keys in any
/// order).
pub(super) fn sort_lines(ls: &mut [Line], buf: &[u8]) {
    // Ranges of lines whose keys agree on their first `depth` bytes. An
    // explicit stack: a long key must not mean deep recursion.
    let mut todo = vec![(0, ls.len(), 0usize)];
    while let Some((from, to, depth)) = todo.pop() {
        let part = &mut ls[from..to];
        // Within equal windows, a key that ends inside the window is a
        // prefix (zero-padded) of the longer ones: shorter first. Keys
        // that go on past it (17 and more bytes left) tie and are sorted
        // by the next window. Both set once per line, not per comparison.
        for l in part.iter_mut() {
            l.window = window(l.key(buf), depth);
            l.rest = (l.klen as usize - depth).min(17) as u8;
        }
        let rank = |l: &Line| (l.window, l.rest);
        part.sort_unstable_by_key(rank);
        let mut i = 0;
        while i < part.len() {
            let r = rank(&part[i]);
            let mut j = i + 1;
            while j < part.len() && rank(&part[j]) == r {
                j += 1;
            }
            if r.1 == 17 && j - i > 1 {
                todo.push((from + i, from + j, depth + 16));
            }
            i = j;
        }
    }
}

/// Bytes `depth..depth + 16` of `key`, zero-padded, as a number that
/// orders as the bytes do.
fn window(key: &[u8], depth: usize) -> u128 {
    let rest = key.get(depth..).unwrap_or_default();
    let mut b = [0u8; 16];
    let n = rest.len().min(16);
    b[..n].copy_from_slice(&rest[..n]);
    u128::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Keys from a small alphabet with zero bytes, long shared prefixes
    /// and prefixes of one another: every tie the windows can have.
    fn keys() -> impl Strategy<Value = Vec<Vec<u8>>> {
        let stem = prop::collection::vec(prop::sample::select(vec![0u8, 1, b'a', 0xff]), 0..40);
        prop::collection::vec((stem, 0..3usize), 0..200).prop_map(|v| {
            v.into_iter()
                .map(|(k, pad)| {
                    let mut k2 = "List_of_Data_Rivière_".as_bytes().repeat(pad);
                    k2.extend_from_slice(&k);
                    k2
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn sorts_as_bytes_do(keys in keys()) {
            let mut buf = Vec::new();
            let mut ls = Vec::new();
            for k in &keys {
                let start = buf.len() as u32;
                buf.extend_from_slice(k);
                buf.extend_from_slice(b"\tv\n");
                ls.push(Line::new(start, k.len() as u32, k.len() as u32 + 2));
            }
            sort_lines(&mut ls, &buf);
            let got: Vec<&[u8]> = ls.iter().map(|l| l.key(&buf)).collect();
            let mut want: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            want.sort();
            prop_assert_eq!(got, want);
        }
    }
}
