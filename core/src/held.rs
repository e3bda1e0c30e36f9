//! A group as the mapper holds it: its first few values as they came, or
//! its state.
//!
//! With many keys most groups of a map task see one to three values (page
//! views, words, ids), and a group's full state is some 430 bytes (the
//! exact sums' windows, a histogram's and a sketch's headers) while those
//! values are 24. Holding the values and folding them into a state only
//! when a fourth comes (or when the group is written) is the same state,
//! as it is the same updates in the same order. Such a group takes 40
//! bytes of the table instead of some 430, more groups fit the memory
//! bound and the cache, and no empty state is copied per new key; a group
//! of one value is written bare without a state ever built (one page-view
//! task: 1.00 to 0.85 billion instructions, callgrind).

use crate::agg::Aggregates;
use crate::counters::Counters;
use crate::group::Group;
use crate::wire;

/// Values a group holds before it gets a state of its own.
pub const FEW: usize = 3;

/// One group of the mapper's table: its first `n` values in `xs`, in
/// order, until it has a `state` (a job that counts rows, with no value
/// column, holds `n` rows and no values).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Held {
    n: u32,
    xs: [f64; FEW],
    state: Option<Box<Group>>,
}

impl Held {
    /// Folds value `x` into the state, or holds it if there is none and
    /// there is room: false when the caller must make the state (see
    /// [`Held::full`]) and fold it in there. The state is looked at first:
    /// a few keys' groups all have one (the few-keys mapper: 343 against
    /// 319 million instructions when the held values were).
    #[inline(always)]
    pub fn add(&mut self, x: f64) -> bool {
        if let Some(g) = &mut self.state {
            g.aggs.update(x);
            return true;
        }
        match self.xs.get_mut(self.n as usize) {
            Some(slot) => {
                *slot = x;
                self.n += 1;
                true
            }
            None => false,
        }
    }

    /// Counts a row (a job without a value column) as [`Held::add`].
    #[inline(always)]
    pub fn add_row(&mut self) -> bool {
        if let Some(g) = &mut self.state {
            g.aggs.rows.add();
            return true;
        }
        if self.n == u32::MAX {
            return false;
        }
        self.n += 1;
        true
    }

    /// The group's state, made from `proto` (a state of no values) and the
    /// held values first if there is none yet; `rows` says the job counts
    /// rows.
    #[inline]
    pub fn full(&mut self, proto: &Group, rows: bool) -> &mut Group {
        let (n, xs) = (self.n, self.xs);
        self.state.get_or_insert_with(|| {
            let mut g = Box::new(proto.clone());
            fold_into(&mut g.aggs, n, &xs, rows);
            g
        })
    }

    /// The group's state, built in `scratch` (reset from `proto`) when it
    /// has none yet; `rows` as for [`Held::full`].
    pub fn state<'a>(&'a self, proto: &Group, rows: bool, scratch: &'a mut Group) -> &'a Group {
        match &self.state {
            Some(g) => g,
            None => {
                scratch.clone_from(proto);
                fold_into(&mut scratch.aggs, self.n, &self.xs, rows);
                scratch
            }
        }
    }

    /// The one value of a group that holds just that one finite value, in
    /// a job of values.
    #[inline]
    pub fn single_value(&self, rows: bool) -> Option<f64> {
        let x = self.xs[0];
        (self.state.is_none() && self.n == 1 && !rows && x.is_finite()).then_some(x)
    }

    /// Appends the group's partial, as [`wire::encode`] writes its state:
    /// a held value bare (without a state built) when `bare` says the
    /// job's states of one value are written so (see [`writes_bare`]),
    /// else the state, built in `scratch` if there is none; `rows` as for
    /// [`Held::full`].
    pub fn encode(
        &self,
        proto: &Group,
        (rows, bare): (bool, bool),
        scratch: &mut Group,
        out: &mut Vec<u8>,
    ) {
        match self.single_value(rows).filter(|_| bare) {
            Some(x) => wire::encode_one(x, proto.aggs.shape(), out),
            None => wire::encode(self.state(proto, rows, scratch), &Counters::default(), out),
        }
    }

    /// True when the group has a state of its own.
    pub fn is_full(&self) -> bool {
        self.state.is_some()
    }
}

/// Whether [`wire::encode`] writes a state of one finite value of the job
/// whose empty state is `proto` as that bare value. That depends on the
/// job (its distinct counts and pairs of columns), not on the value: the
/// state of one is asked.
pub fn writes_bare(proto: &Group) -> bool {
    let mut one = proto.clone();
    one.aggs.update(1.0);
    one.single_value().is_some()
}

/// Folds `n` held values (`n` rows when `rows`) into `aggs`.
fn fold_into(aggs: &mut Aggregates, n: u32, xs: &[f64; FEW], rows: bool) {
    if rows {
        aggs.rows.n += u64::from(n);
        return;
    }
    for &x in xs.iter().take(n as usize) {
        aggs.update(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::{HistLayout, Shape, laws};
    use proptest::prelude::*;

    /// A line's value as the mapper has it: a number or missing.
    fn line() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![9 => laws::value().prop_map(Some), 1 => Just(None)]
    }

    fn shape(hist: bool, sketch: bool, distinct: bool) -> Shape {
        Shape {
            hist: hist.then_some(HistLayout {
                lo: -5.0,
                hi: 5.0,
                bins: 10,
            }),
            quantile_bits: sketch.then_some(7),
            distinct: usize::from(distinct),
            ..Shape::default()
        }
    }

    proptest! {
        /// Held values folded in later are the state folded line by line,
        /// bit for bit and byte for byte on the wire: a bare value exactly
        /// when the state is written bare.
        #[test]
        fn holding_is_folding_later(lines in prop::collection::vec(line(), 0..8),
                                    hist: bool, sketch: bool, distinct: bool) {
            let proto = Group::new(&[shape(hist, sketch, distinct)]);
            let mut direct = proto.clone();
            let mut held = Held::default();
            for &l in &lines {
                match l {
                    Some(x) => {
                        direct.aggs.update(x);
                        if !held.add(x) {
                            held.full(&proto, false).aggs.update(x);
                        }
                    }
                    None => {
                        direct.aggs.missing.add();
                        held.full(&proto, false).aggs.missing.add();
                    }
                }
            }
            let mut scratch = Group::default();
            prop_assert_eq!(held.state(&proto, false, &mut scratch), &direct);
            let mut want = Vec::new();
            wire::encode(&direct, &Counters::default(), &mut want);
            let mut got = Vec::new();
            held.encode(&proto, (false, writes_bare(&proto)), &mut scratch, &mut got);
            prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        }

        /// A row-counting group holds its rows as a count.
        #[test]
        fn held_rows_are_counted(n in 0u32..10) {
            let proto = Group::new(&[Shape::default()]);
            let mut held = Held::default();
            for _ in 0..n {
                prop_assert!(held.add_row());
            }
            prop_assert_eq!(held.single_value(true), None);
            let mut scratch = Group::default();
            prop_assert_eq!(held.state(&proto, true, &mut scratch).aggs.rows.n, u64::from(n));
            held.full(&proto, true).aggs.rows.add();
            prop_assert!(held.add_row());
            prop_assert_eq!(held.state(&proto, true, &mut scratch).aggs.rows.n, u64::from(n) + 2);
        }
    }
}
