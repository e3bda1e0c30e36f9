//! One group's state: the aggregates of each of a job's value columns.
//!
//! The first column's [`Aggregates`] also hold the group's own (its row
//! count, distinct counts and column pairs). A job with several value
//! columns (`--value temp --value precip`) adds one [`Aggregates`] per
//! further column. Their wire tokens carry the column's position
//! (`1:v=...` for the second column), so a one-column job's partials are
//! the same bytes as before several columns existed, and the reducer nests
//! one object per column under its name.

use crate::agg::{Aggregates, Shape, What};
use crate::error::DecodeError;
use crate::json::Obj;

/// The most value columns a job may have: a corrupted token cannot make a
/// decoder allocate more.
pub const MAX_COLUMNS: usize = 64;

/// The state of one group over every value column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    /// The first value column's aggregates and the group's own.
    pub aggs: Aggregates,
    /// The aggregates of the second, third, ... value column.
    pub more: Vec<Aggregates>,
}

impl Group {
    /// A group of no values yet: `shapes[0]` for the first column (with
    /// the group's own aggregates), one more shape per further column.
    pub fn new(shapes: &[Shape]) -> Self {
        let mut it = shapes.iter().map(|&s| Aggregates::new(s));
        Self {
            aggs: it.next().unwrap_or_default(),
            more: it.collect(),
        }
    }

    /// Value column `j`'s aggregates (the first for an index past the
    /// last, which the mapper never asks for).
    #[inline]
    pub fn column(&mut self, j: usize) -> &mut Aggregates {
        match j.checked_sub(1).and_then(|i| self.more.get_mut(i)) {
            Some(a) => a,
            None => &mut self.aggs,
        }
    }

    /// Bytes this group holds on the heap.
    pub fn heap_size(&self) -> usize {
        self.aggs.heap_size()
            + self.more.capacity() * std::mem::size_of::<Aggregates>()
            + self.more.iter().map(Aggregates::heap_size).sum::<usize>()
    }

    /// Why `other` cannot be merged into `self`.
    pub fn check_merge(&self, other: &Self) -> Result<(), String> {
        if self.more.len() != other.more.len() {
            return Err(format!(
                "partials of {} and of {} value columns under one key: were these written by \
                 different jobs?",
                self.more.len() + 1,
                other.more.len() + 1
            ));
        }
        self.aggs.check_merge(&other.aggs)?;
        for (a, b) in self.more.iter().zip(&other.more) {
            a.check_merge(b)?;
        }
        Ok(())
    }

    /// Why this state, decoded from the wire, cannot be one the mapper
    /// made (see [`Aggregates::check_column`]): every column also accounts
    /// for the same rows.
    pub fn check_consistent(&self) -> Result<(), String> {
        self.aggs.check_column()?;
        self.aggs.check_group()?;
        let rows = self.aggs.rows_seen();
        for (j, a) in self.more.iter().enumerate() {
            a.check_column()?;
            if a.rows_seen() != rows {
                return Err(format!(
                    "value column {} of {} rows in a group of {rows}",
                    j + 2,
                    a.rows_seen()
                ));
            }
        }
        Ok(())
    }

    /// Folds in `other` (after [`Group::check_merge`]).
    pub fn merge(&mut self, other: &Self) {
        self.aggs.merge(&other.aggs);
        for (a, b) in self.more.iter_mut().zip(&other.more) {
            a.merge(b);
        }
    }

    /// The one value of a one-column group of exactly one value (see
    /// [`Aggregates::single_value`]).
    pub fn single_value(&self) -> Option<f64> {
        self.more
            .is_empty()
            .then(|| self.aggs.single_value())
            .flatten()
    }

    /// Appends ` TAG=payload` for the first column and the group, then
    /// ` J:TAG=payload` for each further column `J` (1, 2, ...).
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.aggs.encode(out);
        for (j, a) in self.more.iter().enumerate() {
            a.encode_column(itoa::Buffer::new().format(j + 1), out);
        }
    }

    /// Decodes one token; `Ok(false)` for a tag that is not an
    /// aggregate's.
    pub fn decode_token(&mut self, tag: &[u8], payload: &[u8]) -> Result<bool, DecodeError> {
        let Some(colon) = memchr::memchr(b':', tag) else {
            return self.aggs.decode_token(tag, payload);
        };
        let (index, tag) = (&tag[..colon], &tag[colon + 1..]);
        let j = crate::agg::read_u64(index, "a value column's position")
            .ok()
            .filter(|&j| j >= 1 && (j as usize) < MAX_COLUMNS && !index.starts_with(b"0"))
            .ok_or_else(|| {
                DecodeError::new(
                    "a value column's position (1 to 63, no leading zeros)",
                    index,
                )
            })? as usize;
        if self.more.len() < j {
            self.more.resize_with(j, Aggregates::default);
        }
        self.more[j - 1].decode_column_token(tag, payload)
    }

    /// Writes the finished values: as the first column's when there is one
    /// column; else one object per column under its name (from `what`,
    /// else `v1`, `v2`, ...), then the group's own.
    pub fn finish(&self, out: &mut Obj<'_>, what: &What) {
        if self.more.is_empty() {
            self.aggs.finish(out, what);
            return;
        }
        for (j, a) in std::iter::once(&self.aggs).chain(&self.more).enumerate() {
            let name = what
                .values
                .get(j)
                .map_or_else(|| format!("v{}", j + 1), |c| c.0.clone());
            out.obj_named(&name, |o| a.finish_column(o, what));
        }
        self.aggs.finish_group(out, what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::HistLayout;

    fn shapes() -> Vec<Shape> {
        let hist = HistLayout::parse("-4:4:8").ok();
        vec![
            Shape {
                distinct: Some(1),
                ..Shape::default()
            },
            Shape {
                hist,
                quantiles: Some(3),
                ..Shape::default()
            },
        ]
    }

    fn bytes(g: &Group) -> Vec<u8> {
        let mut v = Vec::new();
        g.encode(&mut v);
        v
    }

    fn decode(b: &[u8]) -> Result<Group, DecodeError> {
        let mut g = Group::default();
        for t in b.split(|&c| c == b' ').filter(|t| !t.is_empty()) {
            let eq = memchr::memchr(b'=', t).ok_or_else(|| DecodeError::new("TAG=payload", t))?;
            if !g.decode_token(&t[..eq], &t[eq + 1..])? {
                return Err(DecodeError::new("a known tag", t));
            }
        }
        Ok(g)
    }

    #[test]
    fn columns_roundtrip_merge_and_refuse() {
        let mut a = Group::new(&shapes());
        a.column(0).update(1.5);
        a.column(1).update(-2.25);
        a.column(1).missing.add();
        a.aggs.distinct.columns[0].add(crate::agg::distinct::hash(b"x"));
        let text = String::from_utf8(bytes(&a)).expect("utf8");
        assert!(text.contains(" 1:v="), "{text}");
        assert!(text.contains(" 1:q="), "{text}");
        assert!(
            !text.contains(" 1:d="),
            "the group's own stay unprefixed: {text}"
        );
        let back = decode(&bytes(&a)).expect("decodes");
        assert_eq!(back, a);
        let mut m = back.clone();
        m.check_merge(&a).expect("same shape");
        m.merge(&a);
        assert_eq!(m.more[0].spread.sum.count.n, 2);
        assert_eq!(m.more[0].missing.n, 2);
        assert_eq!(m.aggs.spread.sum.count.n, 2);
        assert!(m.check_merge(&Group::new(&shapes()[..1])).is_err());
        assert_eq!(a.single_value(), None, "two columns never travel bare");
        for bad in ["0:v=1", "01:v=1", "64:v=1", "x:v=1", ":v=1", "1:d=1/e:1"] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// A group as the mapper folds rows into it: two value columns (the
    /// second `None` for a missing value), the pairs of the first two
    /// into co-moments and a 2-D grid, the first's text into a distinct
    /// count.
    fn fold(shapes: &[Shape], rows: &[(f64, Option<f64>)]) -> Group {
        let mut g = Group::new(shapes);
        for &(x, y) in rows {
            g.column(0).update(x);
            match y {
                Some(y) => {
                    g.column(1).update(y);
                    g.aggs.corr.add_pair(x, y);
                    g.aggs.hist2d.add_pair(x, y);
                }
                None => g.column(1).missing.add(),
            }
            g.aggs.distinct.columns[0].add(crate::agg::distinct::hash(&x.to_bits().to_le_bytes()));
        }
        g
    }

    fn rich_shapes(k: u8, hist: &str) -> Vec<Shape> {
        let hist = HistLayout::parse(hist).ok();
        vec![
            Shape {
                hist,
                quantiles: Some(k),
                distinct: Some(1),
                corr: Some(()),
                hist2d: crate::agg::Grid::parse("-4:4:3", "-10:10:2").ok(),
            },
            Shape {
                hist,
                quantiles: Some(k),
                ..Shape::default()
            },
        ]
    }

    proptest::proptest! {
        /// Whatever the values, a group the mapper makes passes the checks,
        /// and so does every merge of such groups: the checks refuse no
        /// real data.
        #[test]
        fn real_states_and_their_merges_are_consistent(
            rows in proptest::collection::vec(
                (crate::agg::laws::value(), proptest::option::of(crate::agg::laws::value())), 0..60),
            cut in 0usize..60, k in 1u8..8, hist in 0usize..3,
        ) {
            let layouts = ["-4:4:8", "0:1e300:3", "-1:1:1"];
            let shapes = rich_shapes(k, layouts[hist]);
            let cut = cut.min(rows.len());
            let (a, b) = (fold(&shapes, &rows[..cut]), fold(&shapes, &rows[cut..]));
            for g in [&a, &b] {
                proptest::prop_assert_eq!(g.check_consistent(), Ok(()));
            }
            let mut m = a.clone();
            m.check_merge(&b).expect("same job");
            m.merge(&b);
            proptest::prop_assert_eq!(m.check_consistent(), Ok(()));
        }

        /// The 128-bit path of the moment checks decides as the big
        /// integers do, on real states and on states with the extremes
        /// moved.
        #[test]
        fn moment_checks_agree_in_both_widths(
            xs in proptest::collection::vec(crate::agg::laws::value(), 1..20),
            lo in crate::agg::laws::value(), hi in crate::agg::laws::value(), moved: bool,
        ) {
            let g = fold(&rich_shapes(3, "-4:4:8"), &xs.iter().map(|&x| (x, None)).collect::<Vec<_>>());
            let s = &g.aggs.spread;
            let n = s.sum.count.n;
            if let Some((min, max)) = g.aggs.minmax.range() {
                let (min, max) = if moved && lo.is_finite() && hi.is_finite() {
                    (lo.min(hi), lo.max(hi))
                } else {
                    (min, max)
                };
                let big = s.big_within(n, min, max);
                if let Some(small) = s.small_within(n, min, max) {
                    proptest::prop_assert_eq!(small, big);
                }
                proptest::prop_assert!(moved || big);
            }
        }
    }

    /// Partials that decode but contradict themselves, each refused with
    /// why: the example (mean 1 with min 5), and one of each kind.
    #[test]
    fn contradictions_are_refused() {
        let shapes = rich_shapes(3, "0:4:4");
        let rows: Vec<(f64, Option<f64>)> = [1.0, 2.0, 3.0, f64::NAN]
            .iter()
            .map(|&x| (x, Some(x / 2.0)))
            .collect();
        let good = fold(&shapes, &rows);
        assert_eq!(good.check_consistent(), Ok(()));
        let text = String::from_utf8(bytes(&good)).expect("utf8");
        let cases: Vec<(String, &str)> = vec![
            (" v=4;21:100000;43:40 m=5,6".into(), "sums that no 4 values"),
            (
                text.replace("m=1.0,3.0", "m=1.5,3.0"),
                "sums that no 3 values",
            ),
            (text.replace(",12:1 ", ",13:1 "), "extreme buckets"),
            (
                text.replace(";0,0,1 ", ";0,0,2 "),
                "a histogram of 5 values",
            ),
            (
                text.replace(" x=1 ", " x=2 "),
                "a histogram of 4 values in a column of 5",
            ),
            (
                text.replace("q=3;0;", "q=3;1;"),
                "a quantile sketch of 4 values",
            ),
            (text.replace(" v=3;", " v=2;"), "sums that no 2 values"),
            (format!("{text} r=1"), "a row count and value statistics"),
        ];
        for (t, why) in cases {
            // Each decodes: only the consistency check can refuse it.
            let g = decode(t.trim().as_bytes()).unwrap_or_else(|e| panic!("{t}: {e}"));
            let e = g.check_consistent().expect_err(&t);
            assert!(e.contains(why), "{t}: {e}");
        }
    }
}
