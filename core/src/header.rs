//! The header rule, one for the mapper and the driver: only the first
//! record of a file can be its header, and whether it is one is decided
//! from that record (and, when the job names no column and reads no value,
//! from the records after it), never from its text alone wherever it is.
//!
//! A header is the first non-blank record of a file when (`--header auto`):
//! - `--schema` is given and the record's names (trimmed) are the schema's;
//! - or the job names a column (the names are read from it);
//! - or the value column's field in it is neither a number nor missing;
//! - or, for jobs that name no column and read no value (row counts,
//!   `--key 3`): some column whose field in it is text holds numbers in
//!   every one of the next [`SNIFF_RECORDS`] records that has one (the
//!   test Python's `csv.Sniffer.has_header` and DuckDB's sniffer make).
//!
//! `--header yes` and `--header no` say it outright; `--header every`
//! also takes any later record equal to the first header as a header
//! (files joined with `cat`, each with its header).

use crate::error::Error;
use crate::job::{Job, Plan};
use crate::record::parse_number;
use crate::spec::Na;

/// What a file's first record is, by the rule above.
#[derive(Debug)]
pub enum Decision {
    Header,
    Data,
    /// The records after it tell.
    Sniff(Sniff),
}

/// Applies the rule to a file's first record (`fields`, trimmed).
pub fn decide(job: &Job, fields: &[Vec<u8>]) -> Result<Decision, Error> {
    let header = match job.header {
        HeaderMode::No => false,
        HeaderMode::Yes | HeaderMode::Every => true,
        HeaderMode::Auto => match &job.schema {
            Some(schema) => schema == fields,
            None if job.needs_names() => true,
            None => match Plan::bind(job, None)?.values.first() {
                // The value column's field: a header names it.
                Some(&v) => fields
                    .get(v)
                    .is_some_and(|f| !f.is_empty() && parse_number(f).is_none() && !job.na.is(f)),
                None => {
                    return Ok(Decision::Sniff(Sniff::new(
                        fields.iter().map(Vec::as_slice),
                        &job.na,
                    )));
                }
            },
        },
    };
    Ok(if header {
        Decision::Header
    } else {
        Decision::Data
    })
}

/// How a file's first record is taken (`--header`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum HeaderMode {
    /// Decided by the rule in this module's docs.
    #[default]
    Auto,
    /// Every file starts with a header.
    Yes,
    /// No file has a header: every record is data.
    No,
    /// Every file starts with a header, and a later record equal to it is
    /// one too (files joined with `cat`).
    Every,
}

impl HeaderMode {
    /// The flag's value, as `--header` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Yes => "yes",
            Self::No => "no",
            Self::Every => "every",
        }
    }
}

/// The records after the first that [`Sniff`] looks at.
pub const SNIFF_RECORDS: u32 = 50;

/// Whether a first record is a header, from the records after it: for
/// jobs whose columns give no other way to tell.
#[derive(Clone, Debug)]
pub struct Sniff {
    width: usize,
    /// Columns whose first field is text, with the count of later records
    /// in which they held a number.
    text: Vec<(usize, u32)>,
    seen: u32,
    /// The first record's fields, joined: a later record equal to it (a
    /// file joined to another with `cat`) is no evidence.
    first: Vec<Vec<u8>>,
}

impl Sniff {
    /// Starts from the first record's fields (trimmed).
    pub fn new<'a>(first: impl IntoIterator<Item = &'a [u8]>, na: &Na) -> Self {
        let mut width = 0;
        let mut text = Vec::new();
        let mut names = Vec::new();
        for (i, f) in first.into_iter().enumerate() {
            width = i + 1;
            names.push(f.to_vec());
            if !f.is_empty() && parse_number(f).is_none() && !na.is(f) {
                text.push((i, 0));
            }
        }
        Self {
            width,
            text,
            seen: 0,
            first: names,
        }
    }

    /// Takes a later record of `n` fields (`field(i)` its i-th, trimmed);
    /// the verdict once there is one.
    pub fn record<'a>(
        &mut self,
        n: usize,
        field: impl Fn(usize) -> Option<&'a [u8]>,
        na: &Na,
    ) -> Option<bool> {
        if self.text.is_empty() {
            return Some(false);
        }
        let repeat = n == self.width
            && self
                .first
                .iter()
                .enumerate()
                .all(|(i, f)| field(i) == Some(f.as_slice()));
        if n == self.width && !repeat {
            self.seen += 1;
            self.text.retain_mut(|(i, numbers)| {
                let f = field(*i).unwrap_or_default();
                if parse_number(f).is_some() {
                    *numbers += 1;
                    true
                } else {
                    // A missing value says nothing either way.
                    na.is(f)
                }
            });
        }
        (self.seen >= SNIFF_RECORDS || self.text.is_empty()).then(|| self.verdict())
    }

    /// The first record's fields: the names, when it is a header.
    pub fn into_names(self) -> Vec<Vec<u8>> {
        self.first
    }

    /// The verdict from the records seen (all there were).
    pub fn verdict(&self) -> bool {
        self.text.iter().any(|&(_, numbers)| numbers > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(lines: &[&str]) -> bool {
        let na = Na::parse(crate::spec::DEFAULT_NA);
        let mut s = Sniff::new(fields_of(lines[0]), &na);
        for l in &lines[1..] {
            let f = fields_of(l);
            if let Some(v) = s.record(f.len(), |i| f.get(i).copied(), &na) {
                return v;
            }
        }
        s.verdict()
    }

    fn fields_of(l: &str) -> Vec<&[u8]> {
        l.split(',').map(str::as_bytes).collect()
    }

    #[test]
    fn a_text_name_over_numbers_is_a_header() {
        assert!(sniff(&["country,year", "fr,1990", "de,NA", "it,2001"]));
    }

    #[test]
    fn text_over_text_is_data() {
        // A word list: the first word is a word like the others.
        assert!(!sniff(&["word", "the", "of", "word"]));
        assert!(!sniff(&["a,b", "c,d"]));
    }

    #[test]
    fn numbers_first_are_data() {
        assert!(!sniff(&["1990,5", "1991,6"]));
    }

    #[test]
    fn a_column_that_turns_to_text_is_no_evidence() {
        assert!(!sniff(&["code,n", "x,1", "y,z"]));
        assert!(sniff(&["code,n", "7,x", "8,y"]));
    }

    #[test]
    fn a_lone_record_is_data() {
        assert!(!sniff(&["country,year"]));
    }
}
