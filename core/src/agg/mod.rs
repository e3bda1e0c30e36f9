//! Mergeable partial aggregates.
//!
//! A [`Partial`] is the state of an aggregate over some of the values of a
//! group (DataFusion's `Accumulator`, rust-stats' `Commute`): `update` folds in
//! one value, `merge` folds in another partial, `finish` turns the state into
//! the numbers a person reads. `Default` is the identity of `merge`, and merge
//! is associative and commutative *exactly*: merging partials in any grouping
//! and order gives the same state, bit for bit, as one pass over all values.
//! The proptests beside each type check that law.
//!
//! A new aggregate is one file here plus one line in the `registry!` below.

/// A partial that tallies rows of some kind: one `u64`, counted by the
/// mapper with `add` (values never reach it), added on merge with an
/// overflow check, written as a decimal.
macro_rules! tally {
    ($(#[$doc:meta])* $name:ident, tag: $tag:literal, json: $json:literal, what: $what:literal) => {
        use $crate::agg::{Partial, read_u64, write_u64};
        use $crate::json::Obj;
        use $crate::error::DecodeError;

        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            pub n: u64,
        }

        impl $name {
            /// Counts one row.
            #[inline]
            pub fn add(&mut self) {
                self.n += 1;
            }
        }

        impl Partial for $name {
            const TAG: &'static str = $tag;

            #[inline]
            fn update(&mut self, _: f64) {}

            fn check_merge(&self, other: &Self) -> Result<(), String> {
                $crate::agg::checked_sum([self.n, other.n], $what).map(|_| ())
            }

            fn merge(&mut self, other: &Self) {
                self.n += other.n;
            }

            fn finish(&self, out: &mut Obj<'_>, _: &$crate::agg::Finish<'_>) {
                out.u64($json, self.n);
            }

            fn encode(&self, out: &mut Vec<u8>) {
                write_u64(out, self.n);
            }

            fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
                Ok(Self {
                    n: read_u64(payload, $what)?,
                })
            }
        }
    };
}
pub(crate) use tally;

mod corr;
mod count;
pub mod distinct;
mod hist;
pub mod hist2d;
pub mod measure;
mod minmax;
mod missing;
mod nonfinite;
pub mod quantiles;
mod rows;
mod spread;
mod sum;

pub use corr::Corr;
pub use count::Count;
pub use distinct::DistinctSet;
pub use hist::{Hist, HistLayout};
pub use hist2d::{Grid, Hist2d};
pub use minmax::MinMax;
pub use missing::Missing;
pub use nonfinite::NonFinite;
pub use quantiles::Quantiles;
pub use rows::Rows;
pub use spread::Spread;
pub use sum::Sum;

pub use measure::{Check, Flag, Given, Line, Measure, Row, Text};

use crate::error::DecodeError;
use crate::json::Obj;
use crate::spec::Column;

/// The state of one aggregate over part of a group's values.
pub trait Partial: Default + Clone + PartialEq + std::fmt::Debug {
    /// The token naming this partial on the wire (`TAG=payload`).
    const TAG: &'static str;

    /// Folds in one value. Values arrive finite or not; each partial decides
    /// what a NaN or an infinity means to it.
    fn update(&mut self, x: f64);

    /// [`Partial::update`] of a value known to be finite, which the caller
    /// has tested once for all of a group's aggregates (most values are).
    #[inline]
    fn update_finite(&mut self, x: f64) {
        self.update(x);
    }

    /// Folds in `n` copies of one value: the state [`Partial::update`]
    /// `n` times gives, in one step where the aggregate can (a count, a
    /// bin, an exact sum of `n x`), for arrays of small integers counted
    /// by value first.
    #[inline]
    fn update_n(&mut self, x: f64, n: u64) {
        for _ in 0..n {
            self.update(x);
        }
    }

    /// Folds in a run of values: the state [`Partial::update`] of each in
    /// turn gives. An array's column arrives as such runs; an aggregate
    /// whose per-value step has a cheaper form over many values (an exact
    /// sum) overrides it.
    #[inline]
    fn update_batch(&mut self, xs: &[f64]) {
        for &x in xs {
            self.update(x);
        }
    }

    /// Folds in another partial of the same group.
    fn merge(&mut self, other: &Self);

    /// Why `other` cannot be merged into `self` (e.g. different histogram
    /// edges), checked before [`Partial::merge`].
    fn check_merge(&self, _other: &Self) -> Result<(), String> {
        Ok(())
    }

    /// Writes the finished values; `report` says what the reducer was
    /// asked for (which quantiles, the names of other columns).
    fn finish(&self, out: &mut Obj<'_>, report: &Finish<'_>);

    /// Writes the payload: text without spaces, tabs or newlines, lossless.
    fn encode(&self, out: &mut Vec<u8>);

    /// Parses [`Partial::encode`]'s payload.
    fn decode(payload: &[u8]) -> Result<Self, DecodeError>;

    /// Bytes this state holds on the heap, beyond its own size (as
    /// DataFusion's `Accumulator::size`): the mapper's memory bound counts
    /// them.
    fn heap_size(&self) -> usize {
        0
    }

    /// True for the identity, which is left off the wire.
    fn is_identity(&self) -> bool {
        *self == Self::default()
    }
}

/// Shortest round-trip decimal of a finite `f64`: ryu's text, but in
/// exponent form (`9.3e-5`) where ryu writes three or more zeros after the
/// point (`0.000093`), so that a value costs no more bytes on the wire than
/// in a CSV that wrote it the usual way (`9.3e-05`).
#[inline]
pub(crate) fn write_f64(out: &mut Vec<u8>, x: f64) {
    // Counts (views, bytes, clicks) are whole numbers, and ryu is a cost
    // per value written; below 2^53
    // ryu writes a whole number as its digits and `.0`, as this does.
    // Not -0.0, whose sign the integer would lose.
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 && x.to_bits() != 1 << 63 {
        out.extend_from_slice(itoa::Buffer::new().format(x as i64).as_bytes());
        out.extend_from_slice(b".0");
        return;
    }
    let mut b = ryu::Buffer::new();
    let text = b.format(x).as_bytes();
    let (sign, body) = match text {
        [b'-', rest @ ..] => (&text[..1], rest),
        _ => (&text[..0], text),
    };
    match body.strip_prefix(b"0.000") {
        // ryu's digits, moved: `0.000ddd` is `d.dd` times ten to minus the
        // place of the first digit (no formatting machinery per value).
        Some(rest) => {
            let zeros = rest.iter().take_while(|&&d| d == b'0').count();
            let (first, more) = rest[zeros..].split_at(1);
            out.extend_from_slice(sign);
            out.extend_from_slice(first);
            if !more.is_empty() {
                out.push(b'.');
                out.extend_from_slice(more);
            }
            out.extend_from_slice(b"e-");
            out.extend_from_slice(itoa::Buffer::new().format(zeros + 4).as_bytes());
        }
        None => out.extend_from_slice(text),
    }
}

/// Parses a finite decimal written by [`write_f64`].
pub(crate) fn read_f64(text: &[u8], what: &'static str) -> Result<f64, DecodeError> {
    match fast_float2::parse::<f64, _>(text) {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(DecodeError::new(what, text)),
    }
}

/// The sum of counts, or why it cannot be one: counts decoded from the wire
/// may be anything, and a wrapped count would be a silently wrong number.
pub(crate) fn checked_sum<const N: usize>(xs: [u64; N], what: &str) -> Result<u64, String> {
    xs.iter()
        .try_fold(0u64, |a, &b| a.checked_add(b))
        .ok_or_else(|| format!("the {what} overflows 2^64 (corrupted input?)"))
}

/// Parses a decimal `u64` written by `itoa`.
pub(crate) fn read_u64(text: &[u8], what: &'static str) -> Result<u64, DecodeError> {
    std::str::from_utf8(text)
        .ok()
        .filter(|s| !s.starts_with('+'))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| DecodeError::new(what, text))
}

pub(crate) fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

macro_rules! registry {
    (
        column { $($c:ident: $cty:ty),* $(,)? }
        column_measures { $($cm:ident: $cmty:ty),* $(,)? }
        group { $($g:ident: $gty:ty),* $(,)? }
        group_measures { $($gm:ident: $gmty:ty),* $(,)? }
    ) => {
        /// Every registered aggregate of one value column, and (in a
        /// group's first column) those of the group itself: its row count,
        /// and the group measures (distinct counts, column pairs).
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Aggregates {
            $(pub $c: $cty,)*
            $(pub $cm: $cmty,)*
            $(pub $g: $gty,)*
            $(pub $gm: $gmty,)*
        }

        /// What the job's flags say of each measure it asks for (see
        /// [`Measure::Spec`]).
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Measures {
            $(pub $cm: Option<<$cmty as Measure>::Spec>,)*
            $(pub $gm: Option<<$gmty as Measure>::Spec>,)*
        }

        /// The parameters a state is made with: each measure's
        /// [`Measure::Shape`], when it has one. A group's state starts from
        /// them, and a one-value group's bare form names them.
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct Shape {
            $(pub $cm: Option<<$cmty as Measure>::Shape>,)*
            $(pub $gm: Option<<$gmty as Measure>::Shape>,)*
        }

        /// The field indices each group measure reads, bound to a schema
        /// (empty for a measure the job does not ask for).
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct Fields {
            $(pub $gm: Vec<usize>,)*
        }

        impl Fields {
            /// Every field index a group measure reads.
            pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
                [$(&self.$gm,)*].into_iter().flatten().copied()
            }
        }

        /// What one line gives the group measures.
        #[derive(Clone, Copy, Debug, Default)]
        pub struct Inputs {
            $($gm: <$gmty as Measure>::Input,)*
        }

        /// The measure's place in [`Measures`].
        pub trait Registered: Measure {
            fn spec(m: &Measures) -> Option<&Self::Spec>;
        }

        $(impl Registered for $cmty {
            fn spec(m: &Measures) -> Option<&Self::Spec> {
                m.$cm.as_ref()
            }
        })*
        $(impl Registered for $gmty {
            fn spec(m: &Measures) -> Option<&Self::Spec> {
                m.$gm.as_ref()
            }
        })*

        impl Measures {
            /// Every measure's flags, in registry order.
            pub fn flags() -> impl Iterator<Item = &'static Flag> {
                [$(<$cmty as Measure>::FLAGS,)* $(<$gmty as Measure>::FLAGS,)*]
                    .into_iter()
                    .flatten()
            }

            /// Parses every measure's flags for a job of these value columns.
            pub fn parse(given: &Given, values: &[Column]) -> Result<Self, crate::Error> {
                Ok(Self {
                    $($cm: <$cmty as Measure>::parse(given, values)?,)*
                    $($gm: <$gmty as Measure>::parse(given, values)?,)*
                })
            }

            /// The columns the measures read besides the value columns.
            pub fn columns(&self) -> Vec<&Column> {
                let mut v = Vec::new();
                $(if let Some(s) = &self.$cm { v.extend(<$cmty as Measure>::columns(s)); })*
                $(if let Some(s) = &self.$gm { v.extend(<$gmty as Measure>::columns(s)); })*
                v
            }

            /// The shape of value column `j`'s state: the column measures',
            /// and in the first column the group measures'.
            pub fn shape(&self, j: usize) -> Shape {
                Shape {
                    $($cm: self.$cm.as_ref().and_then(|s| <$cmty as Measure>::shape(s, j)),)*
                    $($gm: self.$gm.as_ref().filter(|_| j == 0)
                        .and_then(|s| <$gmty as Measure>::shape(s, 0)),)*
                }
            }

            /// The group measures' columns under `schema`.
            pub fn bind(&self, schema: Option<&[Vec<u8>]>) -> Result<Fields, crate::Error> {
                let resolve = |cols: Vec<&Column>| {
                    cols.iter().map(|c| c.resolve(schema)).collect::<Result<Vec<_>, _>>()
                };
                Ok(Fields {
                    $($gm: match &self.$gm {
                        Some(s) => resolve(<$gmty as Measure>::columns(s))?,
                        None => Vec::new(),
                    },)*
                })
            }
        }

        impl Shape {
            /// True when some state of this shape grows as values come.
            pub fn grows(&self) -> bool {
                false $(|| (<$cmty as Measure>::GROWS && self.$cm.is_some()))*
                    $(|| (<$gmty as Measure>::GROWS && self.$gm.is_some()))*
            }

            /// True for a byte that introduces a shape in a one-value
            /// partial (never in a number's text).
            #[inline]
            pub fn is_sigil(b: u8) -> bool {
                false $(|| <$cmty as Measure>::SIGIL == Some(b))*
            }

            /// Appends the shape of a one-value partial (each column
            /// measure's sigil and shape); false when it has a shape that a
            /// one-value partial cannot name (a group measure's).
            pub fn write_one(&self, out: &mut Vec<u8>) -> bool {
                $(if self.$gm.is_some() { return false; })*
                $(if let (Some(shape), Some(sigil)) = (&self.$cm, <$cmty as Measure>::SIGIL) {
                    out.push(sigil);
                    <$cmty as Measure>::write_shape(shape, out);
                })*
                true
            }

            /// Parses [`Shape::write_one`]'s text: the value before the
            /// first sigil, and the shape.
            pub fn read_one(text: &[u8]) -> Result<(&[u8], Self), DecodeError> {
                let mut shape = Self::default();
                let at = text.iter().position(|&b| Self::is_sigil(b)).unwrap_or(text.len());
                let (value, mut tail) = text.split_at(at);
                while let [sigil, rest @ ..] = tail {
                    let end = rest.iter().position(|&b| Self::is_sigil(b)).unwrap_or(rest.len());
                    let t = &rest[..end];
                    let bad = || DecodeError::new("a one-value partial's shape", tail);
                    $(
                        if <$cmty as Measure>::SIGIL == Some(*sigil) {
                            if shape.$cm.is_some() {
                                return Err(bad());
                            }
                            shape.$cm = Some(<$cmty as Measure>::read_shape(t).ok_or_else(bad)?);
                        }
                    )*
                    tail = &rest[end..];
                }
                Ok((value, shape))
            }
        }

        impl Aggregates {
            /// Every registered aggregate's wire tag.
            pub const TAGS: &'static [&'static str] = &[
                $(<$cty>::TAG,)* $(<$cmty>::TAG,)* $(<$gty>::TAG,)* $(<$gmty>::TAG,)*
            ];

            #[inline]
            pub fn update(&mut self, x: f64) {
                $(self.$c.update(x);)*
                $(self.$cm.update(x);)*
            }

            /// [`Aggregates::update`] of a finite `x`.
            #[inline(always)]
            pub fn update_finite(&mut self, x: f64) {
                $(self.$c.update_finite(x);)*
                $(self.$cm.update_finite(x);)*
            }

            /// [`Aggregates::update`] of each of `xs` in turn, aggregate
            /// by aggregate.
            pub fn update_batch(&mut self, xs: &[f64]) {
                $(self.$c.update_batch(xs);)*
                $(self.$cm.update_batch(xs);)*
            }

            /// [`Aggregates::update`] of `n` copies of `x`.
            pub fn update_n(&mut self, x: f64, n: u64) {
                $(self.$c.update_n(x, n);)*
                $(self.$cm.update_n(x, n);)*
            }

            /// Bytes every aggregate holds on the heap.
            pub fn heap_size(&self) -> usize {
                0 $(+ self.$c.heap_size())* $(+ self.$cm.heap_size())*
                  $(+ self.$g.heap_size())* $(+ self.$gm.heap_size())*
            }

            /// True when some value statistic is not the identity.
            pub fn has_values(&self) -> bool {
                $(!self.$c.is_identity())||* $(|| !self.$cm.is_identity())*
            }

            /// True when no group measure holds anything.
            fn no_group_measures(&self) -> bool {
                true $(&& self.$gm.is_identity())*
            }

            pub fn check_merge(&self, other: &Self) -> Result<(), String> {
                $(self.$c.check_merge(&other.$c)?;)*
                $(self.$cm.check_merge(&other.$cm)?;)*
                $(self.$g.check_merge(&other.$g)?;)*
                $(self.$gm.check_merge(&other.$gm)?;)*
                let counts_rows = |a: &Self| !a.rows.is_identity();
                if (counts_rows(self) && other.has_values()) || (self.has_values() && counts_rows(other)) {
                    return Err("a row count and value statistics under one key: were these \
                                partials written by different jobs?".into());
                }
                Ok(())
            }

            pub fn merge(&mut self, other: &Self) {
                $(self.$c.merge(&other.$c);)*
                $(self.$cm.merge(&other.$cm);)*
                $(self.$g.merge(&other.$g);)*
                $(self.$gm.merge(&other.$gm);)*
            }

            /// Writes every aggregate's finished values as `what` asks;
            /// the row count and the group measures when the job counted
            /// rows (no value column).
            pub fn finish(&self, out: &mut Obj<'_>, what: &What) {
                if !self.rows.is_identity() {
                    let f = Finish { what, range: None };
                    self.rows.finish(out, &f);
                    self.finish_group(out, what);
                    return;
                }
                self.finish_column(out, what);
                self.finish_group(out, what);
            }

            /// Writes the value column's finished values.
            pub fn finish_column(&self, out: &mut Obj<'_>, what: &What) {
                let f = Finish { what, range: self.minmax.range() };
                $(self.$c.finish(out, &f);)*
                $(self.$cm.finish(out, &f);)*
            }

            /// Writes the group's own finished values (not its row count).
            pub fn finish_group(&self, out: &mut Obj<'_>, what: &What) {
                let f = Finish { what, range: None };
                $(
                    if <$gty>::TAG != Rows::TAG {
                        self.$g.finish(out, &f);
                    }
                )*
                $(self.$gm.finish(out, &f);)*
            }

            /// Appends ` TAG=payload` for every non-identity aggregate.
            pub fn encode(&self, out: &mut Vec<u8>) {
                self.encode_column("", out);
                $(encode_token(&self.$g, "", out);)*
                $(encode_token(&self.$gm, "", out);)*
            }

            /// Appends ` PREFIX:TAG=payload` for every non-identity
            /// aggregate of the value column (a further column's).
            pub fn encode_column(&self, prefix: &str, out: &mut Vec<u8>) {
                $(encode_token(&self.$c, prefix, out);)*
                $(encode_token(&self.$cm, prefix, out);)*
            }

            /// Decodes one `TAG=payload` token; `Ok(false)` for a tag that
            /// is not an aggregate's.
            pub fn decode_token(&mut self, tag: &[u8], payload: &[u8]) -> Result<bool, DecodeError> {
                $(
                    if tag == <$gty>::TAG.as_bytes() {
                        self.$g = <$gty>::decode(payload)?;
                        return Ok(true);
                    }
                )*
                $(
                    if tag == <$gmty>::TAG.as_bytes() {
                        self.$gm = <$gmty>::decode(payload)?;
                        return Ok(true);
                    }
                )*
                self.decode_column_token(tag, payload)
            }

            /// [`Aggregates::decode_token`] for a value column's aggregates
            /// only.
            pub fn decode_column_token(&mut self, tag: &[u8], payload: &[u8]) -> Result<bool, DecodeError> {
                $(
                    if tag == <$cty>::TAG.as_bytes() {
                        self.$c = <$cty>::decode(payload)?;
                        return Ok(true);
                    }
                )*
                $(
                    if tag == <$cmty>::TAG.as_bytes() {
                        self.$cm = <$cmty>::decode(payload)?;
                        return Ok(true);
                    }
                )*
                Ok(false)
            }

            /// What a line gives the group measures (`fields` their
            /// columns), or why the line is malformed.
            pub fn read<'a>(
                fields: &Fields,
                line: &Line<'_, impl measure::Fields<'a>>,
            ) -> Result<Inputs, String> {
                Ok(Inputs {
                    $($gm: if fields.$gm.is_empty() {
                        Default::default()
                    } else {
                        <$gmty as Measure>::read(&fields.$gm, line)?
                    },)*
                })
            }

            /// Folds a counted line's [`Aggregates::read`] into the group
            /// measures.
            pub fn feed<'a>(
                &mut self,
                inputs: Inputs,
                fields: &Fields,
                line: &Line<'_, impl measure::Fields<'a>>,
            ) {
                $(if !fields.$gm.is_empty() {
                    self.$gm.feed(inputs.$gm, &fields.$gm, line);
                })*
            }

            /// The aggregates of a job: its measures' states when it asks
            /// for them.
            pub fn new(shape: Shape) -> Self {
                Self {
                    $($cm: shape.$cm.map(<$cmty as Measure>::with_shape).unwrap_or_default(),)*
                    $($gm: shape.$gm.map(<$gmty as Measure>::with_shape).unwrap_or_default(),)*
                    ..Self::default()
                }
            }

            /// The parameters this state was made with.
            pub fn shape(&self) -> Shape {
                Shape {
                    $($cm: self.$cm.shape_of(),)*
                    $($gm: self.$gm.shape_of(),)*
                }
            }

            /// Why this column's state, decoded from the wire, cannot be one
            /// the mapper made: its count, extremes, sums and measures must
            /// agree. Each check holds for every union of states that pass
            /// it, so whatever a combiner merges from checked partials
            /// passes again.
            pub fn check_column(&self) -> Result<(), String> {
                let range = self.minmax.range();
                self.spread.check_within(range)?;
                let c = Check {
                    finite: self.spread.sum.count.n,
                    nonfinite: self.nonfinite.n,
                    range,
                };
                $(self.$cm.check_state(&c)?;)*
                Ok(())
            }

            /// [`Aggregates::check_column`] for the group's own aggregates:
            /// none counts more rows than the group has.
            pub fn check_group(&self) -> Result<(), String> {
                if !self.rows.is_identity() && self.has_values() {
                    return Err("a row count and value statistics in one partial".into());
                }
                let rows = self.rows_seen();
                let c = Check { finite: 0, nonfinite: 0, range: None };
                $(
                    self.$gm.check_state(&c)?;
                    let n = self.$gm.rows_counted();
                    if n > rows {
                        return Err(format!(
                            "{n} rows counted by --{} in a group of {rows} rows",
                            <$gmty as Measure>::FLAGS[0].name
                        ));
                    }
                )*
                Ok(())
            }
        }

        impl Aggregates {
            /// The rows this column's tallies account for: each row of a group
            /// lands in exactly one of them (wide: decoded counts may add past
            /// 2^64).
            pub fn rows_seen(&self) -> u128 {
                [
                    self.rows.n,
                    self.spread.sum.count.n,
                    self.nonfinite.n,
                    self.missing.n,
                ]
                .iter()
                .map(|&n| u128::from(n))
                .sum()
            }

            /// The one value of a group that holds exactly one finite value and
            /// nothing else (no non-finite or missing values, no row count, no
            /// group measure): its state is what folding that value into
            /// [`Aggregates::new`] gives.
            pub fn single_value(&self) -> Option<f64> {
                let one = self.spread.sum.count.n == 1
                    && self.nonfinite.n == 0
                    && self.missing.n == 0
                    && self.rows.n == 0
                    && self.no_group_measures();
                // Every state the mapper and merges make with one finite value is
                // exactly what folding that value in gives. Rebuilding the state to
                // compare (against corrupted input, which could claim one value
                // with other sums) would build a state per one-value record, and
                // the consistency checks of decoded partials (Group::check_consistent)
                // refuse sums that disagree with min and max, which must agree.
                let x = self.minmax.min;
                (one && x.is_finite() && x == self.minmax.max).then_some(x)
            }

            /// The aggregates of one value.
            pub fn of_one(shape: Shape, x: f64) -> Self {
                let mut a = Self::default();
                a.reset_to_one(shape, x);
                a
            }

            /// Back to the identity, in place (a decoder reusing its state).
            pub fn reset(&mut self) {
                *self = Self::default();
            }

            /// [`Aggregates::of_one`] in place.
            pub fn reset_to_one(&mut self, shape: Shape, x: f64) {
                *self = Self::new(shape);
                self.update(x);
            }
        }
    };
}

/// Appends ` PREFIX:TAG=payload` (` TAG=payload` without a prefix) unless
/// `p` is the identity.
fn encode_token<P: Partial>(p: &P, prefix: &str, out: &mut Vec<u8>) {
    if p.is_identity() {
        return;
    }
    out.push(b' ');
    if !prefix.is_empty() {
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(P::TAG.as_bytes());
    out.push(b'=');
    p.encode(out);
}

/// The registry: every aggregate, in wire order. A new one is one line
/// here (`extra` lets a test add a group measure to a copy of it).
macro_rules! aggregates {
    ($($extra:tt)*) => {
        registry! {
            column {
                spread: Spread,
                minmax: MinMax,
                nonfinite: NonFinite,
                missing: Missing,
            }
            column_measures {
                hist: Hist,
                quantiles: Quantiles,
            }
            group {
                rows: Rows,
            }
            group_measures {
                distinct: DistinctSet,
                corr: Corr,
                hist2d: Hist2d,
                $($extra)*
            }
        }
    };
}

aggregates! {}

/// What a job computes: its value columns and its measures. The mapper
/// writes its flags into its counters record, so the reducer learns it
/// from its input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct What {
    /// The value columns; none when the job counts rows.
    pub values: Vec<Column>,
    pub measures: Measures,
}

impl What {
    /// The shape of each value column's state (the first with the
    /// group's own measures), one at least.
    pub fn shapes(&self) -> Vec<Shape> {
        (0..self.values.len().max(1))
            .map(|j| self.measures.shape(j))
            .collect()
    }
}

/// What [`Partial::finish`] is given: what the job computes, and the range
/// of the column's finite values, which estimates (the quantile sketch's)
/// are clamped to: an estimate outside the values' range is never closer
/// to the truth, and a p50 above the max would contradict the line it is
/// printed on.
#[derive(Clone, Copy, Debug)]
pub struct Finish<'a> {
    pub what: &'a What,
    /// The column's finite `(min, max)`, `None` without finite values or
    /// for the group's own aggregates.
    pub range: Option<(f64, f64)>,
}

impl Finish<'_> {
    /// What the job's flags say of measure `M`, if it asked for it.
    pub fn spec<M: Registered>(&self) -> Option<&M::Spec> {
        M::spec(&self.what.measures)
    }
}

#[cfg(test)]
mod registry_tests {
    /// Two aggregates under one tag would decode as each other.
    #[test]
    fn tags_are_distinct() {
        let tags = super::Aggregates::TAGS;
        let set: std::collections::BTreeSet<_> = tags.iter().collect();
        assert_eq!(set.len(), tags.len(), "{tags:?}");
        assert!(!tags.contains(&"c"), "c is the counters' tag");
    }
}

#[cfg(test)]
mod write_tests {
    use proptest::prelude::*;

    proptest! {
        /// Every finite value reads back as itself; the whole-number path
        /// writes ryu's very bytes, and values under 1e-3 are written in
        /// exponent form, shorter than ryu's text: Rust's own `{:e}` text
        /// (the same shortest digits, formatted independently).
        #[test]
        fn floats_are_written_as_ryu_does_or_shorter(x in super::laws::value(),
                                                     i in any::<i64>(), k in 0u32..64,
                                                     small in -1e-3f64..1e-3) {
            for x in [x, x.trunc(), (i >> k) as f64, -0.0, 0.0, small, 9.342745142706569e-05,
                      -1e-300, 5e-324, 1e-4, -0.000999] {
                if x.is_finite() {
                    let mut v = Vec::new();
                    super::write_f64(&mut v, x);
                    let text = String::from_utf8_lossy(&v).into_owned();
                    prop_assert_eq!(text.parse::<f64>().map(f64::to_bits), Ok(x.to_bits()), "{}", text);
                    let mut b = ryu::Buffer::new();
                    let ryu = b.format(x);
                    if ryu.trim_start_matches('-').starts_with("0.000") {
                        prop_assert!(text.len() < ryu.len(), "{} vs {}", text, ryu);
                        prop_assert_eq!(&text, &format!("{x:e}"));
                    } else {
                        prop_assert_eq!(text.as_str(), ryu);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tally_tests {
    use super::{Missing, Partial, Rows};
    use proptest::prelude::*;

    fn laws<P: Partial + Copy>(make: fn(u64) -> P, n: fn(&P) -> u64, a: u64, b: u64) {
        let mut m = make(a);
        assert_eq!(m.check_merge(&make(b)), Ok(()));
        m.merge(&make(b));
        assert_eq!(n(&m), a + b);
        let mut v = Vec::new();
        m.encode(&mut v);
        assert_eq!(P::decode(&v), Ok(m));
        assert!(make(u64::MAX).check_merge(&make(1)).is_err());
    }

    proptest! {
        #[test]
        fn tallies_add_exactly_and_roundtrip(a in 0u64..1 << 62, b in 0u64..1 << 62) {
            laws(|n| Missing { n }, |m| m.n, a, b);
            laws(|n| Rows { n }, |m| m.n, a, b);
        }
    }
}

/// Helpers for the merge-law proptests of every aggregate.
#[cfg(test)]
pub(crate) mod laws {
    use super::Partial;
    use proptest::prelude::*;

    /// Values over the whole range of `f64`: every exponent (any bit
    /// pattern), subnormals, integers of every size, powers of two and their
    /// negations (sums that cancel to -2^k), zeros, and now and then a NaN or
    /// an infinity.
    pub fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -10.0f64..10.0,
            4 => any::<u64>().prop_map(f64::from_bits).prop_filter("finite", |x| x.is_finite()),
            2 => (0u64..1 << 52, any::<bool>())
                .prop_map(|(m, neg)| f64::from_bits(m | u64::from(neg) << 63)),
            2 => any::<i64>().prop_map(|i| i as f64),
            2 => (-1074i32..1024, any::<bool>())
                .prop_map(|(k, neg)| if neg { -(2f64.powi(k)) } else { 2f64.powi(k) }),
            1 => Just(0.0),
            1 => Just(-0.0),
            1 => prop_oneof![Just(1e308), Just(-1e308), Just(f64::MAX), Just(-f64::MAX)],
            1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
        ]
    }

    /// For aggregates of pairs: splits `ps` at `cut`, folds each piece
    /// with `of`, merges the pieces (in reverse when `rev`) after a trip
    /// over the wire, checks the state equals one pass, bit for bit, and
    /// returns it with the one-pass state.
    pub fn check_pairs<P: Partial>(
        of: impl Fn(&[(f64, f64)]) -> P,
        ps: &[(f64, f64)],
        cut: usize,
        rev: bool,
    ) -> (P, P) {
        let k = cut % (ps.len() + 1);
        let (mut a, mut b) = (of(&ps[..k]), of(&ps[k..]));
        if rev {
            std::mem::swap(&mut a, &mut b);
        }
        let m = merged(&a, &b);
        let whole = of(ps);
        assert_eq!(bytes(&m), bytes(&whole));
        (m, whole)
    }

    /// Asserts that `decode` refuses every one of `bad`.
    pub fn rejects<T: std::fmt::Debug, E>(decode: impl Fn(&[u8]) -> Result<T, E>, bad: &[&[u8]]) {
        for b in bad {
            if let Ok(v) = decode(b) {
                panic!("{:?} decoded as {v:?}", String::from_utf8_lossy(b));
            }
        }
    }

    /// `p` after a trip over the wire (identities never travel).
    fn wire<P: Partial>(p: &P) -> P {
        if p.is_identity() {
            return p.clone();
        }
        let decoded = P::decode(&bytes(p)).unwrap_or_else(|e| panic!("{e} for {p:?}"));
        assert_eq!(bytes(&decoded), bytes(p), "the encoding is canonical");
        decoded
    }

    fn merged<P: Partial>(a: &P, b: &P) -> P {
        let (mut a, b) = (wire(a), wire(b));
        assert_eq!(a.check_merge(&b), Ok(()));
        a.merge(&b);
        wire(&a)
    }

    pub fn fold<P: Partial>(init: &P, xs: &[f64]) -> P {
        let mut p = init.clone();
        for &x in xs {
            p.update(x);
        }
        p
    }

    fn bytes<P: Partial>(p: &P) -> Vec<u8> {
        let mut v = Vec::new();
        p.encode(&mut v);
        v
    }

    /// Splits `xs` at `cuts`, folds each piece, merges the pieces in the
    /// order `perm` gives (a tree when `tree`), decoding every partial from
    /// its encoding before and after every merge (as the combiner and the
    /// reducer see them), and checks the state equals one pass, bit for bit.
    pub fn check<P: Partial>(init: &P, xs: &[f64], cuts: &[usize], perm_seed: u64, tree: bool) {
        let one_pass = fold(init, xs);
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (xs.len() + 1)).collect();
        bounds.push(0);
        bounds.push(xs.len());
        bounds.sort_unstable();
        let mut parts: Vec<P> = bounds
            .windows(2)
            .map(|w| fold(init, &xs[w[0]..w[1]]))
            .collect();
        // A deterministic shuffle from the seed.
        let mut s = perm_seed | 1;
        for i in (1..parts.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            parts.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let merged = if tree {
            while parts.len() > 1 {
                let next: Vec<P> = parts
                    .chunks(2)
                    .map(|c| match c.get(1) {
                        Some(b) => merged(&c[0], b),
                        None => wire(&c[0]),
                    })
                    .collect();
                parts = next;
            }
            parts.pop().unwrap_or_default()
        } else {
            let mut acc = P::default();
            for p in &parts {
                acc = merged(&acc, p);
            }
            acc
        };
        assert_eq!(bytes(&merged), bytes(&one_pass));
        // Identities never go on the wire (the registry leaves them off).
        if !one_pass.is_identity() {
            let decoded = P::decode(&bytes(&one_pass)).expect("own encoding decodes");
            assert_eq!(bytes(&decoded), bytes(&one_pass));
        }
        let mut with_identity = one_pass.clone();
        with_identity.merge(&P::default());
        assert_eq!(bytes(&with_identity), bytes(&one_pass));
    }
}

#[cfg(test)]
mod toy;

/// [`Partial::update_n`] gives the state `n` calls of [`Partial::update`]
/// give, bit for bit on the wire, for every aggregate that folds values.
#[cfg(test)]
mod weighted {
    use super::*;
    use proptest::prelude::*;

    fn same<P: Partial>(init: &P, xs: &[(f64, u8)]) {
        let (mut a, mut b) = (init.clone(), init.clone());
        for &(x, n) in xs {
            a.update_n(x, u64::from(n));
            for _ in 0..n {
                b.update(x);
            }
        }
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        a.encode(&mut ea);
        b.encode(&mut eb);
        assert_eq!(String::from_utf8_lossy(&ea), String::from_utf8_lossy(&eb));
    }

    proptest! {
        #[test]
        fn update_n_is_n_updates(
            xs in prop::collection::vec((laws::value(), any::<u8>()), 0..30),
            small in prop::collection::vec((-300i32..300, any::<u8>()), 0..30),
        ) {
            // Small integers (the arrays this serves) and any values.
            let ints: Vec<(f64, u8)> = small.iter().map(|&(v, n)| (f64::from(v), n)).collect();
            for xs in [&xs, &ints] {
                same(&Count::default(), xs);
                same(&NonFinite::default(), xs);
                same(&MinMax::default(), xs);
                same(&Sum::default(), xs);
                same(&Spread::default(), xs);
                same(&Hist::new(HistLayout { lo: -100.0, hi: 100.0, bins: 7 }), xs);
                same(&quantiles::Quantiles::new(quantiles::DEFAULT_BITS), xs);
            }
        }

        /// [`Aggregates::update_finite`] of the finite values, in their
        /// place among the others' [`Aggregates::update`], gives the state
        /// updates alone give.
        #[test]
        fn update_finite_is_update(xs in prop::collection::vec(laws::value(), 0..300)) {
            for init in [
                Aggregates::default(),
                Aggregates {
                    hist: Hist::new(HistLayout { lo: -100.0, hi: 100.0, bins: 7 }),
                    quantiles: quantiles::Quantiles::new(quantiles::DEFAULT_BITS),
                    ..Default::default()
                },
            ] {
                let (mut a, mut b) = (init.clone(), init);
                for &x in &xs {
                    a.update(x);
                    if x.is_finite() {
                        b.update_finite(x);
                    } else {
                        b.update(x);
                    }
                }
                prop_assert_eq!(&a, &b);
                let (mut ea, mut eb) = (Vec::new(), Vec::new());
                a.encode_column("", &mut ea);
                b.encode_column("", &mut eb);
                prop_assert_eq!(ea, eb);
            }
        }

        /// [`Partial::update_batch`] gives the state one update a value
        /// gives, on runs long and short.
        #[test]
        fn update_batch_is_updates(
            xs in prop::collection::vec(laws::value(), 0..300),
            cut in 0usize..300,
        ) {
            let every = |init: &Aggregates| {
                let mut a = init.clone();
                for &x in &xs {
                    a.update(x);
                }
                let mut b = init.clone();
                let (head, tail) = xs.split_at(cut.min(xs.len()));
                b.update_batch(head);
                b.update_batch(tail);
                let mut c = init.clone();
                c.update_batch(&[]);
                for run in xs.chunks(7) {
                    c.update_batch(run);
                }
                let enc = |p: &Aggregates| {
                    let mut out = Vec::new();
                    p.spread.encode(&mut out);
                    p.minmax.encode(&mut out);
                    p.nonfinite.encode(&mut out);
                    p.hist.encode(&mut out);
                    p.quantiles.encode(&mut out);
                    String::from_utf8_lossy(&out).into_owned()
                };
                assert_eq!(enc(&a), enc(&b));
                assert_eq!(enc(&a), enc(&c));
            };
            every(&Aggregates::default());
            every(&Aggregates {
                hist: Hist::new(HistLayout { lo: -100.0, hi: 100.0, bins: 7 }),
                quantiles: quantiles::Quantiles::new(quantiles::DEFAULT_BITS),
                ..Default::default()
            });
        }
    }
}
