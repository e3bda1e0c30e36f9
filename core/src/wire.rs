//! The wire format between mapper, combiner and reducer.
//!
//! One line per key: `KEY<TAB>mf2 TAG=payload TAG=payload...`. `mf2` names
//! the version; each token is one partial (see [`crate::agg`]) or the line
//! counters (`c=`, only under [`crate::key::COUNTERS_KEY`]). Identity partials
//! are left off. Every payload is text and lossless: sums travel as exact
//! integers, floats as shortest round-trip decimals. Anything else is an
//! error, never a guess.
//!
//! A group of exactly one finite value (most groups, when keys are many:
//! one per id, per n-gram) travels as the bare value, `-1.17` (with
//! `@LO:HI:BINS` when the job has a histogram): no more bytes than the
//! value took in the input, instead of a hundred bytes of sums. It is the
//! one form that does not start with the version word, and it starts with
//! a digit or `-`, which no version word does. Decoding folds the value in,
//! which gives the very state the mapper held.

use crate::agg::{Aggregates, Shape, What};
use crate::counters::Counters;
use crate::error::DecodeError;
use crate::group::Group;
use crate::json::Obj;
use crate::key::COUNTERS_KEY;

/// The version word that starts every partial.
pub const VERSION: &[u8] = b"mf2";
const COUNTERS_TAG: &[u8] = b"c";
/// The job's report (see [`crate::cli::WhatArgs`]), beside the counters.
const JOB_TAG: &[u8] = b"j";

/// Everything known about one key: its group's aggregates and, for the
/// counters record, the line counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Partials {
    pub group: Group,
    pub counters: Counters,
    /// The job's report as [`crate::cli::WhatArgs::encode`] wrote it,
    /// carried by the counters record (empty elsewhere).
    pub job: Vec<u8>,
}

impl Partials {
    /// A group's aggregates, without counters.
    pub fn of(group: Group) -> Self {
        Self {
            group,
            counters: Counters::default(),
            job: Vec::new(),
        }
    }

    /// Appends `mf2 TAG=payload...`, or a one-value group's bare value
    /// (no newline).
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode(&self.group, &self.counters, &self.job, out);
    }

    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let mut p = Self::default();
        p.decode_into(value)?;
        Ok(p)
    }

    /// [`Partials::merge`] of `other` as [`Partials::decode_into`] left it:
    /// a one-value group (`one`) of this state's shape (an identity adopts
    /// the shape of what merges into it; a proptest found that) is folded
    /// in as that value, after the same checks. By the merge law that is
    /// the same state, and it spares the exact sums' merge, most records
    /// being one value when keys are many.
    pub fn merge_decoded(&mut self, other: &Self, one: Option<f64>) -> Result<(), String> {
        match one {
            Some(x) if self.group.aggs.shape() == other.group.aggs.shape() => {
                self.group.check_merge(&other.group)?;
                self.group.aggs.update(x);
                Ok(())
            }
            _ => self.merge(other),
        }
    }

    /// The partial of the one value `x` of the default shape, in place:
    /// what [`Partials::decode_into`] makes of its bare text.
    pub fn set_one(&mut self, x: f64) {
        self.counters = Counters::default();
        self.job.clear();
        self.group.more.clear();
        self.group.aggs.reset_to_one(Shape::default(), x);
    }

    /// [`Partials::decode`] into `self`, in place: a partial is some 500
    /// bytes, and moving each decoded one through results and runs is a
    /// copy per record on many keys.
    /// Returns the value when the partial is a one-value group's bare value
    /// (see [`Partials::merge_decoded`]).
    pub fn decode_into(&mut self, value: &[u8]) -> Result<Option<f64>, DecodeError> {
        self.counters = Counters::default();
        self.job.clear();
        self.group.more.clear();
        if let Some(b'0'..=b'9' | b'-') = value.first() {
            return decode_one(value, &mut self.group.aggs).map(Some);
        }
        self.group.aggs.reset();
        let mut tokens = value.split(|&b| b == b' ');
        match tokens.next() {
            Some(VERSION) => {}
            Some(v) if v.len() <= 4 && v.starts_with(b"mf") => {
                return Err(DecodeError::new(
                    "a partial of this version (it was written by another mapfold version: run \
                     every stage of a job with the same binaries)",
                    value,
                ));
            }
            _ => {
                return Err(DecodeError::new(
                    "a mapfold partial (expected \"mf2 ...\" or a number; is this mapfold-map output?)",
                    value,
                ));
            }
        }
        for t in tokens {
            let eq = memchr::memchr(b'=', t).ok_or_else(|| DecodeError::new("TAG=payload", t))?;
            let (tag, payload) = (&t[..eq], &t[eq + 1..]);
            if tag == COUNTERS_TAG {
                self.counters = Counters::decode(payload)?;
            } else if tag == JOB_TAG {
                // Lower-case hex, as written; what it says is read by the
                // reducer (`cli::WhatArgs::decode`).
                if payload.len() % 2 != 0
                    || !payload
                        .iter()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(DecodeError::new("the job's report (hex)", payload));
                }
                self.job = payload.to_vec();
            } else if !self.group.decode_token(tag, payload)? {
                return Err(DecodeError::new(
                    "a partial (unknown tag; written by a newer mapfold?)",
                    t,
                ));
            }
        }
        self.group
            .check_consistent()
            .map_err(|why| DecodeError::contradiction(why, value))?;
        Ok(None)
    }

    /// Merges another partial of the same key, refusing incompatible ones.
    pub fn merge(&mut self, other: &Self) -> Result<(), String> {
        self.group.check_merge(&other.group)?;
        if !self.job.is_empty() && !other.job.is_empty() && self.job != other.job {
            return Err(
                "the counters of two different jobs (their reports differ): were \
                        these partials written by different jobs?"
                    .into(),
            );
        }
        let mut counters = self.counters;
        counters.merge(&other.counters)?;
        self.group.merge(&other.group);
        self.counters = counters;
        if self.job.is_empty() {
            self.job.clone_from(&other.job);
        }
        Ok(())
    }

    /// Appends the reducer's JSON for a key.
    pub fn finish(&self, key: &[u8], out: &mut Vec<u8>, what: &What) {
        Obj::write(out, |o| {
            if key != COUNTERS_KEY {
                self.group.finish(o, what);
            }
            if key == COUNTERS_KEY || !self.counters.is_zero() {
                o.obj("counters", |c| {
                    for (name, n) in self.counters.named() {
                        c.u64(name, n);
                    }
                });
            }
        });
    }
}

/// [`Partials::encode`] of borrowed parts (the mapper writes its groups in
/// place, without moving them out of its table): `job` is the report token
/// the counters record carries (empty elsewhere).
pub fn encode(group: &Group, counters: &Counters, job: &[u8], out: &mut Vec<u8>) {
    if let Some(x) = group
        .single_value()
        .filter(|_| counters.is_zero() && job.is_empty())
    {
        return encode_one(x, group.aggs.shape(), out);
    }
    out.extend_from_slice(VERSION);
    group.encode(out);
    if !counters.is_zero() {
        out.push(b' ');
        out.extend_from_slice(COUNTERS_TAG);
        out.push(b'=');
        counters.encode(out);
    }
    if !job.is_empty() {
        out.push(b' ');
        out.extend_from_slice(JOB_TAG);
        out.push(b'=');
        out.extend_from_slice(job);
    }
}

/// The partial of a group of the one finite value `x` in a job of
/// `shape`: `VALUE[SIGIL SHAPE]...`, each column measure's shape after its
/// sigil (`@LO:HI:BINS` a histogram's, `/K` a sketch's; see
/// [`Shape::write_one`]).
pub fn encode_one(x: f64, shape: Shape, out: &mut Vec<u8>) {
    crate::agg::write_f64(out, x);
    // The mapper calls this only for a state of one value, whose shape a
    // one-value partial names.
    let named = shape.write_one(out);
    debug_assert!(named, "a one-value partial of {shape:?}");
}

/// The value of a one-value partial of the default shape (a bare `VALUE`,
/// no shape after it), `None` for any other partial.
#[inline]
pub fn plain_one(v: &[u8]) -> Option<Result<f64, DecodeError>> {
    match v.first() {
        Some(b'0'..=b'9' | b'-') if !v.iter().any(|&b| Shape::is_sigil(b)) => {
            Some(crate::agg::read_f64(v, "a single value"))
        }
        _ => None,
    }
}

/// `VALUE[SIGIL SHAPE]...`: the aggregates of that one value, in a job of
/// that shape.
fn decode_one(payload: &[u8], into: &mut Aggregates) -> Result<f64, DecodeError> {
    let (value, shape) = Shape::read_one(payload)?;
    let x = crate::agg::read_f64(value, "a single value")?;
    into.reset_to_one(shape, x);
    Ok(x)
}

/// Splits a streaming line at its first tab, as Hadoop does: a line without
/// a tab is all key.
pub fn split_line(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b'\t', line) {
        Some(t) => (&line[..t], &line[t + 1..]),
        None => (line, b""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::HistLayout;
    use proptest::strategy::Strategy;

    #[test]
    fn roundtrip_and_rejects() {
        let mut p = Partials::of(Group {
            aggs: Aggregates::new(Shape {
                hist: Some(HistLayout::parse("0:1:2").expect("valid")),
                quantiles: Some(3),
                distinct: Some(2),
                corr: Some(()),
                hist2d: Some(crate::agg::Grid::parse("0:1:2", "0:1:3").expect("valid")),
            }),
            more: vec![Aggregates::default(); 2],
        });
        for x in [0.25, 0.75, 3.0, f64::NAN] {
            p.group.aggs.update(x);
            p.group.more[0].missing.add();
            p.group.more[1].update(-x);
        }
        let mut v = Vec::new();
        p.encode(&mut v);
        assert_eq!(Partials::decode(&v), Ok(p.clone()));
        crate::agg::laws::rejects(
            Partials::decode,
            &[
                &b""[..],
                b"mf1 v=1;0;0",
                b"mf3 n=1",
                b"mf2 z=1",
                b"mf2 s",
                b"mf2 v=1;0",
                b"mf2 c=1,1",
                b"mf2 1=1",
                b"mf2 1:r=1",
                b"mf2 1:zz=1",
                b"mf2 0:v=1;0;0",
                b"mf2 99999999999:m=1,1",
                b"nan",
                b"-nan",
                b"1 2",
                b"1 c=1,0,0,0,0,0,0,1",
                b"1@0:1",
                b"1@",
                b"1/0",
                b"1/21",
                b"1/",
                b"1@0:1:2/x",
                b"-",
                b"1e999",
                b"0x10",
                b"inf",
            ],
        );
        assert_eq!(Partials::decode(b"mf2"), Ok(Partials::default()));
        let err = Partials::decode(b"mf1 v=1;0;0").expect_err("old version");
        assert!(err.to_string().contains("another mapfold version"), "{err}");
    }

    /// Tokens the decoder must survive: valid ones and near misses.
    fn token() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let num = prop_oneof![
            Just("18446744073709551615".to_owned()),
            Just("0".to_owned()),
            any::<u64>().prop_map(|n| n.to_string()),
            "[0-9a-f]{1,9}",
        ];
        let acc = prop_oneof![
            Just("0".to_owned()),
            (
                num.clone(),
                proptest::collection::vec("-?[0-9a-f]{1,9}", 1..5)
            )
                .prop_map(|(f, c)| format!("{f}:{}", c.join("."))),
        ];
        prop_oneof![
            (num.clone(), acc.clone()).prop_map(|(n, a)| format!("s={n};{a}")),
            (num.clone(), acc.clone(), acc).prop_map(|(n, a, b)| format!("v={n};{a};{b}")),
            "m=[-0-9.e]{0,12},[-0-9.e]{0,12}",
            num.clone().prop_map(|n| format!("x={n}")),
            (num.clone(), num.clone(), num)
                .prop_map(|(a, b, c)| format!("h=0:1:2;{a},{b};{c},0,0")),
            "[a-z]=[ -~]{0,20}",
            // A further value column's token, or a near miss.
            ("[0-9]{1,2}", "[vmxhqnar]{1,2}", "[ -~]{0,20}")
                .prop_map(|(j, t, p)| format!("{j}:{t}={p}")),
        ]
    }

    proptest::proptest! {
        /// Whatever decodes merges without a panic or a wrapped count, and
        /// finishes into JSON.
        #[test]
        fn decoded_partials_merge_and_finish(a in proptest::collection::vec(token(), 0..4),
                                             b in proptest::collection::vec(token(), 0..4)) {
            let parse = |t: &[String]| Partials::decode(format!("mf2 {}", t.join(" ")).trim_end().as_bytes());
            if let (Ok(mut x), Ok(y)) = (parse(&a), parse(&b)) {
                let before = x.clone();
                match x.merge(&y) {
                    Ok(()) => {
                        let mut json = Vec::new();
                        x.finish(b"k", &mut json, &What::default());
                        proptest::prop_assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
                        let mut v = Vec::new();
                        x.encode(&mut v);
                        proptest::prop_assert_eq!(Partials::decode(&v).map(|_| ()), Ok(()));
                    }
                    Err(_) => proptest::prop_assert_eq!(x, before),
                }
            }
        }

        /// A group of one value travels as the bare value and decodes to
        /// the very state, at every magnitude, with and without a histogram.
        #[test]
        fn one_value_groups_roundtrip(x in crate::agg::laws::value(), hist: bool,
                                      bits in proptest::option::of(1u8..=20)) {
            proptest::prop_assume!(x.is_finite());
            let layout = hist.then(|| crate::agg::HistLayout::parse("-5:5:10").expect("valid"));
            let shape = Shape { hist: layout, quantiles: bits, distinct: None, corr: None, hist2d: None };
            let p = Partials::of(Group { aggs: Aggregates::of_one(shape, x), more: Vec::new() });
            let mut v = Vec::new();
            p.encode(&mut v);
            // ryu's text, or the exponent form where ryu writes 0.000...
            let text = ryu::Buffer::new().format_finite(x).to_owned();
            let text = if text.trim_start_matches('-').starts_with("0.000") { format!("{x:e}") } else { text };
            let want = if hist { format!("{text}@-5:5:10") } else { text };
            let want = match bits { Some(k) => format!("{want}/{k}"), None => want };
            proptest::prop_assert_eq!(String::from_utf8_lossy(&v), want);
            proptest::prop_assert_eq!(Partials::decode(&v), Ok(p));
        }

        /// Decoding into a reused state (as the combiner and reducer do)
        /// leaves nothing of the state before: every field equals a fresh
        /// decode, for full partials of several columns, bare values and
        /// counters records in any sequence.
        #[test]
        fn decoding_in_place_leaves_nothing_behind(
            seq in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::collection::vec(token(), 0..4)
                        .prop_map(|t| format!("mf2 {}", t.join(" ")).trim_end().to_owned()),
                    crate::agg::laws::value()
                        .prop_filter("finite", |x| x.is_finite())
                        .prop_map(|x| ryu::Buffer::new().format_finite(x).to_owned()),
                    proptest::strategy::Just("mf2 c=3,0,1,0,0,0,0,2".to_owned()),
                    proptest::strategy::Just("mf2 v=1;1f:1 1:v=2;20:1".to_owned()),
                    proptest::strategy::Just("2.5@-5:5:10/7".to_owned()),
                ],
                1..8,
            )
        ) {
            let mut reused = Partials::default();
            for v in &seq {
                let fresh = Partials::decode(v.as_bytes());
                let in_place = reused.decode_into(v.as_bytes());
                proptest::prop_assert_eq!(in_place.is_ok(), fresh.is_ok(), "{}", v);
                if let Ok(fresh) = fresh {
                    proptest::prop_assert_eq!(&reused, &fresh, "{}", v);
                }
            }
        }

        /// Folding a decoded one-value partial in as its value gives the
        /// state and the bytes a full merge gives, from any state: values
        /// of every magnitude, non-finite ones, histograms and sketches of
        /// matching and of other shapes, row counts and counters records
        /// (the same refusals too).
        #[test]
        fn a_one_value_partial_folds_in_as_a_merge_would(
            start in proptest::collection::vec(
                proptest::prop_oneof![
                    crate::agg::laws::value().prop_map(|x| {
                        let mut v = Vec::new();
                        crate::agg::write_f64(&mut v, x);
                        String::from_utf8_lossy(&v).into_owned()
                    }),
                    proptest::collection::vec(token(), 0..4)
                        .prop_map(|t| format!("mf2 {}", t.join(" ")).trim_end().to_owned()),
                    proptest::strategy::Just("mf2 r=3".to_owned()),
                    proptest::strategy::Just("mf2 c=3,0,1,0,0,0,0,2".to_owned()),
                    proptest::strategy::Just("2.5@-5:5:10/7".to_owned()),
                ],
                1..5,
            ),
            x in crate::agg::laws::value().prop_filter("bare values are finite", |x| x.is_finite()),
            suffix in proptest::sample::select(vec!["", "@-5:5:10", "/7", "@-5:5:10/7", "@0:1:4"]),
        ) {
            let mut a = Partials::default();
            for v in &start {
                if let Ok(p) = Partials::decode(v.as_bytes())
                    && a.merge(&p).is_err()
                {
                    a = p;
                }
            }
            let mut text = Vec::new();
            crate::agg::write_f64(&mut text, x);
            text.extend_from_slice(suffix.as_bytes());
            let mut scratch = Partials::default();
            let one = scratch.decode_into(&text).expect("a bare value decodes");
            proptest::prop_assert_eq!(one, Some(x));
            let (mut merged, mut folded) = (a.clone(), a);
            let m = merged.merge(&scratch);
            let f = folded.merge_decoded(&scratch, one);
            proptest::prop_assert_eq!(m.is_ok(), f.is_ok());
            if m.is_ok() {
                proptest::prop_assert_eq!(&merged, &folded);
                let (mut e1, mut e2) = (Vec::new(), Vec::new());
                merged.encode(&mut e1);
                folded.encode(&mut e2);
                proptest::prop_assert_eq!(e1, e2);
                let (mut j1, mut j2) = (Vec::new(), Vec::new());
                merged.finish(b"k", &mut j1, &What::default());
                folded.finish(b"k", &mut j2, &What::default());
                proptest::prop_assert_eq!(j1, j2);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut v = b"mf2 ".to_vec();
            v.extend(&bytes);
            let _ = Partials::decode(&v);
            let _ = Partials::decode(&bytes);
        }
    }
}
