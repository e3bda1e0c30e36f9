//! What a new aggregate takes: a toy measure with a parameter, over two
//! columns (`--above X,Y=T`, the rows where `x + y > T`), written as any
//! aggregate is (this file) and added to a copy of the registry by one
//! line. Everything the job needs of it (its flag, its parsed description,
//! the plan's fields, its state's shape, what a line feeds it, the wire,
//! the consistency checks, the finished JSON) comes from the registry, with
//! no other file touched.

use super::measure::{Check, Fields, Flag, Given, Line, flag_error};
use super::{Finish, Partial, read_f64, read_u64, write_f64, write_u64};
use crate::error::{DecodeError, Error};
use crate::json::Obj;
use crate::spec::Column;

/// The threshold and the rows above it. Identity: off.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Above(Option<(f64, u64)>);

impl Partial for Above {
    const TAG: &'static str = "toy";

    fn update(&mut self, _: f64) {}

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        match (self.0, other.0) {
            (Some((a, _)), Some((b, _))) if a != b => Err("different thresholds".into()),
            _ => Ok(()),
        }
    }

    fn merge(&mut self, other: &Self) {
        match (&mut self.0, other.0) {
            (Some((_, n)), Some((_, m))) => *n += m,
            (None, o) => self.0 = o,
            _ => {}
        }
    }

    fn finish(&self, out: &mut Obj<'_>, _: &Finish<'_>) {
        if let Some((_, n)) = self.0 {
            out.u64("above", n);
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        if let Some((t, n)) = self.0 {
            write_f64(out, t);
            out.push(b';');
            write_u64(out, n);
        }
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let (t, n) = payload
            .iter()
            .position(|&b| b == b';')
            .map(|at| (&payload[..at], &payload[at + 1..]))
            .ok_or_else(|| DecodeError::new("a toy", payload))?;
        Ok(Self(Some((
            read_f64(t, "a threshold")?,
            read_u64(n, "a count")?,
        ))))
    }
}

impl super::Measure for Above {
    const FLAGS: &'static [Flag] = &[Flag {
        hyphen: true,
        ..Flag::new("above", "X,Y=T", "Rows where X + Y is above T.")
    }];

    type Spec = (Column, Column, f64);
    type Shape = f64;
    type Input = Option<f64>;

    fn parse(given: &Given, _: &[Column]) -> Result<Option<Self::Spec>, Error> {
        let Some(text) = given.one("above") else {
            return Ok(None);
        };
        let bad = || flag_error("--above", text, "X,Y=T");
        let (cols, t) = text.rsplit_once('=').ok_or_else(bad)?;
        let (x, y) = cols.split_once(',').ok_or_else(bad)?;
        let t = t
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite())
            .ok_or_else(bad)?;
        Ok(Some((Column(x.into()), Column(y.into()), t)))
    }

    fn columns((x, y, _): &Self::Spec) -> Vec<&Column> {
        vec![x, y]
    }

    fn shape(spec: &Self::Spec, _: usize) -> Option<f64> {
        Some(spec.2)
    }

    fn with_shape(t: f64) -> Self {
        Self(Some((t, 0)))
    }

    fn shape_of(&self) -> Option<f64> {
        self.0.map(|(t, _)| t)
    }

    fn read<'a>(cols: &[usize], line: &Line<'_, impl Fields<'a>>) -> Result<Option<f64>, String> {
        Ok(line.pair(cols, "--above")?.map(|(x, y)| x + y))
    }

    fn feed<'a>(&mut self, sum: Option<f64>, _: &[usize], _: &Line<'_, impl Fields<'a>>) {
        if let (Some((t, n)), Some(s)) = (&mut self.0, sum)
            && s > *t
        {
            *n += 1;
        }
    }

    fn rows_counted(&self) -> u128 {
        self.0.map_or(0, |(_, n)| u128::from(n))
    }

    fn check_state(&self, _: &Check) -> Result<(), String> {
        Ok(())
    }
}

/// The registry with the toy added: its one line is the only change.
mod registry {
    #![allow(dead_code)]
    use super::super::*;
    use super::Above;

    aggregates! { above: Above, }

    #[test]
    fn a_new_measure_is_one_file_and_one_registry_line() {
        // Its flag is the job's.
        assert!(Measures::flags().any(|f| f.name == "above"));
        let mut given = Given::default();
        given.0.push(("above", vec!["x,y=1.5".into()]));
        let m = Measures::parse(&given, &[]).expect("parses");
        let (x, y, t) = m.above.clone().expect("asked for");
        assert_eq!((x.0.as_str(), y.0.as_str(), t), ("x", "y", 1.5));
        // Its columns are bound by the plan; its state has its shape.
        let schema: Vec<Vec<u8>> = ["k", "x", "y"].map(|c| c.as_bytes().to_vec()).into();
        let fields = m.bind(Some(&schema)).expect("binds");
        assert_eq!(fields.above, [1, 2]);
        let shape = m.shape(0);
        assert_eq!(shape.above, Some(1.5));
        assert!(
            !shape.write_one(&mut Vec::new()),
            "no bare form for a group measure"
        );
        // Lines feed it; a field that is not a number is refused.
        let mut a = Aggregates::new(shape);
        let na = crate::spec::Na::parse("NA");
        let mut s = crate::record::Splitter::new(b',');
        for text in [&b"a,1,1"[..], b"a,0,1", b"a,NA,5", b"a,2,0.5"] {
            s.split(text);
            let line = Line {
                fields: crate::agg::Text(&s, text),
                na: &na,
                text_na: &na,
            };
            let inputs = Aggregates::read(&fields, &line).expect("numbers");
            a.feed(inputs, &fields, &line);
            a.rows.add();
        }
        s.split(b"a,x,1");
        let bad = Line {
            fields: crate::agg::Text(&s, b"a,x,1"),
            na: &na,
            text_na: &na,
        };
        let why = Aggregates::read(&fields, &bad).expect_err("not a number");
        assert!(why.contains("--above column 2"), "{why}");
        assert_eq!(a.above.rows_counted(), 2);
        // It travels the wire and merges; the checks see its rows.
        let mut wire = Vec::new();
        a.encode(&mut wire);
        let text = String::from_utf8(wire).expect("utf-8");
        assert!(text.contains(" toy=1.5;2"), "{text}");
        let mut b = Aggregates::default();
        for token in text.split_whitespace() {
            let (tag, payload) = token.split_once('=').expect("tag=payload");
            assert!(
                b.decode_token(tag.as_bytes(), payload.as_bytes())
                    .expect("decodes")
            );
        }
        assert_eq!(b, a);
        b.check_merge(&a).expect("same job");
        b.merge(&a);
        assert_eq!(b.above.rows_counted(), 4);
        b.check_group().expect("consistent");
        b.rows = Rows { n: 3 };
        assert!(b.check_group().is_err(), "4 rows above in a group of 3");
        // Its answer is in the group's JSON.
        let mut out = Vec::new();
        crate::json::Obj::write(&mut out, |o| b.finish_group(o, &What::default()));
        let json = String::from_utf8(out).expect("utf-8");
        assert!(json.contains("\"above\":4"), "{json}");
    }
}
