//! Where every input line went.
//!
//! Each line the mapper reads lands in exactly one counter, so
//! `lines_in == blank + header + malformed + filtered + missing + nonfinite
//! + used`
//! holds for every task and, summed, for every job. The counters travel to
//! the reducer under the reserved empty key (see [`crate::wire`]) and to
//! Hadoop as `reporter:counter:` lines on stderr.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::agg::{read_u64, write_u64};
use crate::error::DecodeError;

/// The Hadoop counter group of mapfold's counters.
pub const GROUP: &str = "mapfold";

/// Line counters of one or more map tasks. Identity: all zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub blank: u64,
    pub header: u64,
    pub malformed: u64,
    pub filtered: u64,
    /// Rows whose value is missing (`NA`, an empty field, ...: `--na-values`).
    pub missing: u64,
    pub nonfinite: u64,
    pub used: u64,
}

impl Counters {
    /// Every line read: the sum of the counters. Every `Counters` that
    /// [`Counters::decode`] or [`Counters::merge`] made has a sum that fits;
    /// saturating keeps any other (hand-built) one from wrapping.
    pub fn lines_in(&self) -> u64 {
        self.total().unwrap_or(u64::MAX)
    }

    fn total(&self) -> Option<u64> {
        [
            self.header,
            self.malformed,
            self.filtered,
            self.missing,
            self.nonfinite,
            self.used,
        ]
        .iter()
        .try_fold(self.blank, |a, &b| a.checked_add(b))
    }

    /// `(name, value)` pairs, `lines_in` first.
    pub fn named(&self) -> [(&'static str, u64); 8] {
        [
            ("lines_in", self.lines_in()),
            ("blank", self.blank),
            ("header", self.header),
            ("malformed", self.malformed),
            ("filtered", self.filtered),
            ("missing", self.missing),
            ("nonfinite", self.nonfinite),
            ("used", self.used),
        ]
    }

    /// Adds another task's counters, refusing a total past 2^64 (only
    /// corrupted input can get there), which would wrap.
    pub fn merge(&mut self, o: &Self) -> Result<(), String> {
        let (Some(a), Some(b)) = (self.total(), o.total()) else {
            return Err("line counters overflow 2^64 (corrupted input?)".into());
        };
        if a.checked_add(b).is_none() {
            return Err("line counters overflow 2^64 (corrupted input?)".into());
        }
        // Each counter is at most its total, so none of these can wrap.
        self.blank += o.blank;
        self.header += o.header;
        self.malformed += o.malformed;
        self.filtered += o.filtered;
        self.missing += o.missing;
        self.nonfinite += o.nonfinite;
        self.used += o.used;
        Ok(())
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// Writes `reporter:counter:mapfold,NAME,AMOUNT` lines for Hadoop.
    pub fn report(&self, err: &mut impl Write) -> io::Result<()> {
        for (name, v) in self.named() {
            writeln!(err, "reporter:counter:{GROUP},{name},{v}")?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        let m: Map<String, Value> = self
            .named()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        Value::Object(m)
    }

    /// `LINES_IN,BLANK,HEADER,MALFORMED,FILTERED,MISSING,NONFINITE,USED`
    pub fn encode(&self, out: &mut Vec<u8>) {
        for (i, (_, v)) in self.named().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_u64(out, *v);
        }
    }

    /// Parses [`Counters::encode`]'s form; `lines_in` must add up.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut v = [0u64; 8];
        let mut n = 0;
        for (i, p) in payload.split(|&b| b == b',').enumerate() {
            if i >= 8 {
                return Err(DecodeError::new("counters (too many fields)", payload));
            }
            v[i] = read_u64(p, "counter")?;
            n += 1;
        }
        if n != 8 {
            return Err(DecodeError::new("counters (8 fields)", payload));
        }
        let c = Self {
            blank: v[1],
            header: v[2],
            malformed: v[3],
            filtered: v[4],
            missing: v[5],
            nonfinite: v[6],
            used: v[7],
        };
        if c.total() != Some(v[0]) {
            return Err(DecodeError::new(
                "counters (lines_in does not add up)",
                payload,
            ));
        }
        Ok(c)
    }

    /// Parses one `reporter:counter:mapfold,NAME,AMOUNT` stderr line into
    /// `self`; false for any other line.
    pub fn absorb_report_line(&mut self, line: &str) -> bool {
        let Some(rest) = line.strip_prefix("reporter:counter:") else {
            return false;
        };
        let mut f = rest.splitn(3, ',');
        let (Some(GROUP), Some(name), Some(amount)) = (f.next(), f.next(), f.next()) else {
            return false;
        };
        let Ok(v) = amount.trim().parse::<u64>() else {
            return false;
        };
        let slot = match name {
            "blank" => &mut self.blank,
            "header" => &mut self.header,
            "malformed" => &mut self.malformed,
            "filtered" => &mut self.filtered,
            "missing" => &mut self.missing,
            "nonfinite" => &mut self.nonfinite,
            "used" => &mut self.used,
            _ => return false,
        };
        *slot = slot.saturating_add(v);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_check() {
        let c = Counters {
            blank: 1,
            header: 2,
            malformed: 3,
            filtered: 4,
            missing: 7,
            nonfinite: 5,
            used: 6,
        };
        let mut v = Vec::new();
        c.encode(&mut v);
        assert_eq!(v, b"28,1,2,3,4,7,5,6");
        assert_eq!(Counters::decode(&v), Ok(c));
        assert!(Counters::decode(b"27,1,2,3,4,7,5,6").is_err());
        assert!(
            Counters::decode(b"21,1,2,3,4,5,6").is_err(),
            "the 7-field form"
        );
        assert!(Counters::decode(b"1,2").is_err());
        let max = u64::MAX;
        assert!(Counters::decode(format!("0,{max},1,0,0,0,0,0").as_bytes()).is_err());
        let mut big = Counters::decode(format!("{max},{max},0,0,0,0,0,0").as_bytes())
            .expect("a total of exactly 2^64 - 1 is valid");
        assert!(big.merge(&c).is_err());
        assert_eq!(big.blank, max, "a refused merge changes nothing");
        let mut err = Vec::new();
        c.report(&mut err).expect("vec");
        let mut back = Counters::default();
        for l in String::from_utf8(err).expect("utf8").lines() {
            back.absorb_report_line(l);
        }
        assert_eq!(back, c);
    }
}
