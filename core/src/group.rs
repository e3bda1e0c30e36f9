//! One group's state: the aggregates of each of a job's value columns.
//!
//! The first column's [`Aggregates`] also hold the group's own (its row
//! count, distinct counts and column pairs). A job with several value
//! columns (`--value temp --value precip`) adds one [`Aggregates`] per
//! further column. Their wire tokens carry the column's position
//! (`1:v=...` for the second column), so a one-column job's partials are
//! the same bytes as before several columns existed, and the reducer nests
//! one object per column under its name.

use crate::agg::{Aggregates, Report, Shape};
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
    /// column; else one object per column under its name (from `report`,
    /// else `v1`, `v2`, ...), then the group's own.
    pub fn finish(&self, out: &mut Obj<'_>, report: &Report) {
        if self.more.is_empty() {
            self.aggs.finish(out, report);
            return;
        }
        for (j, a) in std::iter::once(&self.aggs).chain(&self.more).enumerate() {
            let name = report
                .values
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("v{}", j + 1));
            out.obj_named(&name, |o| a.finish_column(o, report));
        }
        self.aggs.finish_group(out, report);
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
                distinct: 1,
                ..Shape::default()
            },
            Shape {
                hist,
                quantile_bits: Some(3),
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
        a.aggs.add_distinct(0, b"x");
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
}
