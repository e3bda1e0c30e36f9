//! How many groups the mapper holds before it writes the coldest out.
//!
//! A bigger table combines more lines, so fewer records reach the sort and
//! the reducer; but once it outgrows a core's cache every line's lookup
//! waits on memory. On a skewed stream (page views, Zipf) holding every
//! group costs several times the time of a cache-sized table while the
//! records written fall little: the tail of a skewed stream is seen once
//! per task whatever the table (figures in docs/performance.md). Keys
//! repeated evenly
//! (stations, products) are the other way round: each doubling of the
//! table combines many more lines. So the table starts small, as DuckDB's
//! does, and doubles while a doubling pays: while the share of lines that
//! made a new group fell by at least [`WORTH`] over the last doubling.
//! Once a doubling did not pay, it goes back and stays.

/// Groups held at first: with their keys and the index about 1.5 MB, in
/// the order of a core's L2 cache.
pub const START: usize = 16_384;

/// The least fall in the share of lines that make a new group for which
/// a doubling of the table is kept: a record written costs the runner's
/// sort and merge and the reducer about nine times what a doubling past
/// the cache costs the mapper per line (docs/performance.md), so it pays
/// when it saves a record every 8 or 9 lines.
pub const WORTH: f64 = 0.12;

/// The group limit of one map task.
#[derive(Clone, Debug)]
pub struct Sizing {
    cap: usize,
    max: usize,
    /// Lines and new groups at the last full table.
    at: (u64, u64),
    /// The share of lines that made a new group before the last doubling,
    /// when the table is on trial at its new size.
    before: Option<f64>,
    /// Growing stopped: the last doubling did not pay, or a bound came.
    settled: bool,
    /// Full tables seen: the first epoch fills an empty table (every key
    /// new), so it says nothing of the table's size.
    fulls: u32,
}

/// What to do with a full table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// Hold more groups: the limit was raised.
    Grow,
    /// Write the coldest out, keeping at most this many groups.
    Evict { keep: usize },
}

impl Sizing {
    /// A task that may hold up to `max` groups.
    pub fn new(max: usize) -> Self {
        Self {
            cap: START.min(max),
            max,
            at: (0, 0),
            before: None,
            settled: false,
            fulls: 0,
        }
    }

    /// Groups held before the table is full.
    #[inline]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// The limit will not change any more.
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// The table is full at [`Sizing::cap`] groups, after `lines` lines
    /// made `made` groups in all; `room` says memory allows more groups.
    pub fn full(&mut self, lines: u64, made: u64, room: bool) -> Full {
        let (dl, dm) = (lines - self.at.0.min(lines), made - self.at.1.min(made));
        self.at = (lines, made);
        let miss = dm as f64 / dl.max(1) as f64;
        self.fulls = self.fulls.saturating_add(1);
        let can_grow = !self.settled && room && self.cap < self.max;
        // Whether the last doubling paid, when the table is on trial.
        match self.before.map(|before| before - miss >= WORTH) {
            // The second full table is the first of steady state (the
            // first filled an empty one): the baseline of a trial.
            None if can_grow && self.fulls >= 2 => return self.grow(miss),
            Some(true) if can_grow => return self.grow(miss),
            Some(true) => self.settled = true,
            Some(false) => {
                self.cap = (self.cap / 2).max(START.min(self.max));
                self.settled = true;
            }
            None => {}
        }
        self.before = None;
        if !can_grow {
            self.settled = true;
        }
        Full::Evict { keep: self.cap / 2 }
    }

    /// Doubles the table on trial, `miss` its share of new groups so far.
    fn grow(&mut self, miss: f64) -> Full {
        self.before = Some(miss);
        self.cap = self.cap.saturating_mul(2).min(self.max);
        Full::Grow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limit a stream settles at whose lines make new groups at the
    /// rate `miss_at(cap)`, fed table by table.
    fn settle(miss_at: impl Fn(usize) -> f64, max: usize) -> usize {
        let mut s = Sizing::new(max);
        let (mut lines, mut made) = (0u64, 0u64);
        for _ in 0..40 {
            let miss = miss_at(s.cap());
            lines += 100_000;
            made += (miss * 100_000.0) as u64;
            s.full(lines, made, true);
        }
        s.cap()
    }

    #[test]
    fn a_skewed_tail_keeps_the_table_small() {
        // Page views: 0.43, 0.38, 0.33 ... of lines make a new group.
        let cap = settle(|c| 0.43 - 0.05 * (c / START).ilog2() as f64, usize::MAX);
        assert_eq!(cap, START);
    }

    #[test]
    fn evenly_repeated_keys_grow_it_until_they_fit() {
        // 100,000 keys repeated evenly: a table of c holds c of them.
        let cap = settle(|c| 1.0 - (c as f64 / 100_000.0).min(0.99), usize::MAX);
        assert_eq!(cap, 8 * START);
    }

    #[test]
    fn never_past_the_bound() {
        let cap = settle(|c| 1.0 - (c as f64 / 100_000.0).min(0.99), 50_000);
        assert_eq!(cap, 50_000);
        // A bound below the start: settled at once (the mapper then
        // judges whether the table combines anything).
        let mut s = Sizing::new(100);
        assert_eq!(s.cap(), 100);
        assert_eq!(s.full(110, 100, true), Full::Evict { keep: 50 });
        assert!(s.settled());
        // Memory full settles it too.
        let mut s = Sizing::new(usize::MAX);
        assert_eq!(s.full(110, 100, false), Full::Evict { keep: START / 2 });
        assert!(s.settled());
    }
}
