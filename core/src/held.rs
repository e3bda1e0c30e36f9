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
//! of one value is written bare without a state ever built.

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
    /// [`HeldJob::full`]) and fold it in there. The state is looked at
    /// first, as a few keys' groups all have one: the few-keys mapper
    /// pays for every look past it.
    #[inline(always)]
    pub fn add(&mut self, x: f64) -> bool {
        self.add_with(x, Aggregates::update)
    }

    /// [`Held::add`] of a finite `x`.
    #[inline(always)]
    pub fn add_finite(&mut self, x: f64) -> bool {
        self.add_with(
            x,
            #[inline(always)]
            |a, x| a.update_finite(x),
        )
    }

    #[inline(always)]
    fn add_with(&mut self, x: f64, update: impl FnOnce(&mut Aggregates, f64)) -> bool {
        if let Some(g) = &mut self.state {
            update(&mut g.aggs, x);
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

    /// The group's state, when it has one.
    pub fn state(&self) -> Option<&Group> {
        self.state.as_deref()
    }

    /// True when the group has a state of its own.
    pub fn is_full(&self) -> bool {
        self.state.is_some()
    }
}

/// What a task's groups are made of and written as: the job's state of no
/// values, whether the job counts rows (no value column), and whether its
/// states of one value are written bare.
#[derive(Debug)]
pub struct HeldJob {
    proto: Group,
    rows: bool,
    bare: bool,
    /// A held group's state, built to be written.
    scratch: Group,
}

impl HeldJob {
    /// The job whose empty state is `proto`; `rows` says it counts rows.
    pub fn new(proto: Group, rows: bool) -> Self {
        // Whether `wire::encode` writes a state of one finite value as that
        // value depends on the job (its distinct counts, pairs of
        // columns), not on the value: the state of one is asked.
        let bare = !rows && {
            let mut one = proto.clone();
            one.aggs.update(1.0);
            one.single_value().is_some()
        };
        Self {
            proto,
            rows,
            bare,
            scratch: Group::default(),
        }
    }

    /// `h`'s state, made from the empty state and its held values first
    /// if it has none yet.
    #[inline]
    pub fn full<'a>(&self, h: &'a mut Held) -> &'a mut Group {
        let (n, xs) = (h.n, h.xs);
        h.state.get_or_insert_with(|| {
            let mut g = Box::new(self.proto.clone());
            fold_into(&mut g.aggs, n, &xs, self.rows);
            g
        })
    }

    /// Appends `h`'s partial as [`wire::encode`] writes its state: one
    /// held finite value bare, without a state built, in a job whose
    /// states of one value are written so; else the state, built in the
    /// scratch group if it has none.
    pub fn encode(&mut self, h: &Held, out: &mut Vec<u8>) {
        let x = h.xs[0];
        if self.bare && h.state.is_none() && h.n == 1 && x.is_finite() {
            return wire::encode_one(x, self.proto.aggs.shape(), out);
        }
        wire::encode(self.state(h), &Counters::default(), &[], out);
    }

    /// `h`'s state, or the scratch group made its state.
    fn state<'a>(&'a mut self, h: &'a Held) -> &'a Group {
        match &h.state {
            Some(g) => g,
            None => {
                self.scratch.clone_from(&self.proto);
                fold_into(&mut self.scratch.aggs, h.n, &h.xs, self.rows);
                &self.scratch
            }
        }
    }
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
            quantiles: sketch.then_some(7),
            distinct: distinct.then_some(1),
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
            let mut direct = Group::new(&[shape(hist, sketch, distinct)]);
            let mut job = HeldJob::new(direct.clone(), false);
            let mut held = Held::default();
            for &l in &lines {
                match l {
                    Some(x) => {
                        direct.aggs.update(x);
                        if !held.add(x) {
                            job.full(&mut held).aggs.update(x);
                        }
                    }
                    None => {
                        direct.aggs.missing.add();
                        job.full(&mut held).aggs.missing.add();
                    }
                }
            }
            prop_assert_eq!(job.state(&held), &direct);
            let mut want = Vec::new();
            wire::encode(&direct, &Counters::default(), &[], &mut want);
            let mut got = Vec::new();
            job.encode(&held, &mut got);
            prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        }

        /// A row-counting group holds its rows as a count.
        #[test]
        fn held_rows_are_counted(n in 0u32..10) {
            let mut job = HeldJob::new(Group::new(&[Shape::default()]), true);
            let mut held = Held::default();
            for _ in 0..n {
                prop_assert!(held.add_row());
            }
            // The wire form of a row count, never a bare value.
            let mut out = Vec::new();
            job.encode(&held, &mut out);
            let want = if n == 0 { "mf2".to_owned() } else { format!("mf2 r={n}") };
            prop_assert_eq!(String::from_utf8_lossy(&out), want);
            job.full(&mut held).aggs.rows.add();
            prop_assert!(held.add_row());
            prop_assert_eq!(job.state(&held).aggs.rows.n, u64::from(n) + 2);
        }
    }
}
