//! The combine and reduce tasks: merge runs of equal keys.
//!
//! Input is sorted by key bytes (Hadoop guarantees it; locally, `LC_ALL=C
//! sort` does). The combiner writes merged partials (valid input for itself
//! and the reducer, so Hadoop may run it any number of times); the reducer
//! finishes them into `KEY<TAB>JSON`. A line that does not decode, or a key
//! out of order, stops the task with an error naming the line.

use std::io::{Read, Write};

use crate::agg::What;
use crate::error::{Error, snippet};
use crate::key;
use crate::lines::{MAX_LINE, for_each_line};
use crate::one::OneTemplate;
use crate::wire::{Partials, plain_one, split_line};

/// What to write for each key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `KEY<TAB>mf2 ...`: merged partials.
    Combine,
    /// `KEY<TAB>{...}`: finished JSON, numbers in keys unpadded.
    Reduce,
}

/// Records read and written by a fold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FoldStats {
    pub records_in: u64,
    pub keys_out: u64,
}

struct Run {
    key: Vec<u8>,
    partials: Partials,
    open: bool,
    /// The run's only record so far, a bare value of the default shape,
    /// not yet made a state: most keys of many have just one, and their
    /// JSON comes from a template (see [`OneTemplate`]).
    one: Option<f64>,
}

impl Run {
    /// The run's state, made from its bare value if it has none yet.
    fn partials(&mut self) -> &Partials {
        if let Some(x) = self.one.take() {
            self.partials.set_one(x);
        }
        &self.partials
    }
}

/// What the reducer reports, and how it learns what the job computes from
/// its input: the mappers write it into the counters record, the first key
/// of a sorted input (see `cli::WhatArgs`).
#[allow(missing_debug_implementations)]
pub struct Reporting<'a> {
    /// What the job computes, until the input says otherwise.
    pub what: What,
    /// True when `what` was given (the reducer's flags, or the task's job
    /// configuration): the input's must then be the same.
    pub given: bool,
    /// Reads the counters record's report token.
    pub learn: &'a dyn Fn(&[u8]) -> Result<What, String>,
}

impl Reporting<'_> {
    /// A fixed report that nothing in the input changes (the combiner's,
    /// which reports nothing, and tests').
    pub fn fixed(what: What) -> Reporting<'static> {
        Reporting {
            what,
            given: false,
            learn: &|_| Err("not read".into()),
        }
    }
}

/// Folds sorted wire records from `input` into `out`.
pub fn fold(
    input: impl Read,
    out: &mut impl Write,
    mode: Mode,
    reporting: Reporting<'_>,
) -> Result<FoldStats, Error> {
    let Reporting {
        what: mut report,
        given,
        learn,
    } = reporting;
    let mut run = Run {
        key: Vec::new(),
        partials: Partials::default(),
        open: false,
        one: None,
    };
    let mut template = match mode {
        Mode::Reduce => OneTemplate::new(&report),
        Mode::Combine => None,
    };
    let mut stats = FoldStats::default();
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    // A further record of the run's key is decoded here, a new key's first
    // into the run itself: in place, no partial moved.
    let mut scratch = Partials::default();
    let long = |bytes| {
        Err(Error::LongRecord {
            bytes,
            max: MAX_LINE,
        })
    };
    for_each_line(
        input,
        MAX_LINE,
        |line| -> Result<(), Error> {
            line_no += 1;
            let (k, v) = split_line(line);
            let bad = |why| Error::BadRecord { line: line_no, why };
            if run.open && k == run.key.as_slice() {
                let one = scratch.decode_into(v).map_err(bad)?;
                stats.records_in += 1;
                run.partials();
                return run
                    .partials
                    .merge_decoded(&scratch, one)
                    .map_err(|why| Error::Merge {
                        line: line_no,
                        key: snippet(k),
                        why,
                    });
            }
            if run.open {
                if k < run.key.as_slice() {
                    return Err(Error::Unsorted {
                        line: line_no,
                        key: snippet(k),
                        prev: snippet(&run.key),
                    });
                }
                emit(&mut run, mode, out, &mut buf, &report, template.as_ref())?;
                stats.keys_out += 1;
                if mode == Mode::Reduce
                    && run.key == key::COUNTERS_KEY
                    && !run.partials.job.is_empty()
                {
                    // The counters record said what the job reports.
                    let job = learn(&run.partials.job).map_err(|why| Error::Merge {
                        line: line_no,
                        key: String::new(),
                        why,
                    })?;
                    if given && job != report {
                        return Err(Error::Merge {
                            line: line_no,
                            key: String::new(),
                            why: "the reducer was told another report (its flags, or \
                                  $mapfold_report) than the job's, which its mappers wrote: \
                                  run mapfold-reduce without flags, it reads the job's"
                                .into(),
                        });
                    }
                    template = OneTemplate::new(&job);
                    report = job;
                }
            }
            run.key.clear();
            run.key.extend_from_slice(k);
            match plain_one(v) {
                Some(x) => run.one = Some(x.map_err(bad)?),
                None => {
                    run.one = None;
                    run.partials.decode_into(v).map_err(bad)?;
                }
            }
            stats.records_in += 1;
            run.open = true;
            Ok(())
        },
        long,
    )?;
    if run.open {
        emit(&mut run, mode, out, &mut buf, &report, template.as_ref())?;
        stats.keys_out += 1;
    }
    out.flush()?;
    Ok(stats)
}

fn emit(
    run: &mut Run,
    mode: Mode,
    out: &mut impl Write,
    buf: &mut Vec<u8>,
    report: &What,
    template: Option<&OneTemplate>,
) -> Result<(), Error> {
    buf.clear();
    match mode {
        Mode::Combine => {
            buf.extend_from_slice(&run.key);
            buf.push(b'\t');
            run.partials().encode(buf);
        }
        Mode::Reduce => {
            key::push_display(&run.key, buf);
            buf.push(b'\t');
            // The counters' key is finished as counters, whatever it holds.
            let done = match (run.one, template) {
                (Some(x), Some(t)) if run.key != key::COUNTERS_KEY => t.write(x, buf),
                _ => false,
            };
            if !done {
                run.partials();
                run.partials.finish(&run.key, buf, report);
            }
        }
    }
    buf.push(b'\n');
    out.write_all(buf)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(input: &str) -> String {
        let mut out = Vec::new();
        fold(
            input.as_bytes(),
            &mut out,
            Mode::Reduce,
            Reporting::fixed(What::default()),
        )
        .expect("folds");
        String::from_utf8(out).expect("utf-8")
    }

    /// A key of one bare value is finished from the template, a key of two
    /// and the counters' key (whatever it holds) the general way; each
    /// line is what a state of those values finishes as.
    #[test]
    fn one_bare_value_and_the_rest() {
        let general = |key: &[u8], xs: &[f64]| {
            let mut p = Partials::default();
            for (i, &x) in xs.iter().enumerate() {
                if i == 0 {
                    p.set_one(x);
                } else {
                    p.group.aggs.update(x);
                }
            }
            let mut out = Vec::new();
            p.finish(key, &mut out, &What::default());
            String::from_utf8(out).expect("utf-8")
        };
        let out = reduce("\t1.5\na\t2.5\nb\t-0.0\nc\t1.0\nc\t2.0\n");
        let want = format!(
            "\t{}\na\t{}\nb\t{}\nc\t{}\n",
            general(b"", &[1.5]),
            general(b"a", &[2.5]),
            general(b"b", &[-0.0]),
            general(b"c", &[1.0, 2.0])
        );
        assert_eq!(out, want);
        assert!(out.starts_with("\t{\"counters\":"), "{out}");
        assert!(out.contains("\"sum\":2.5,\"mean\":2.5"), "{out}");
        assert!(
            out.contains("\"sum\":0.0,\"mean\":0.0,\"stddev\":null,\"min\":-0.0"),
            "{out}"
        );
    }
}
