//! `mapfold-reduce`: the streaming reducer. Thin: flags in, [`fold`] does the work.

use std::io;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mapfold_core::agg::Report;
use mapfold_core::cli::{ReportArgs, exit};
use mapfold_core::fold::{Mode, Reporting, fold};

/// Reads mapfold partials (KEY<TAB>mf2 ... or KEY<TAB>VALUE), sorted by key bytes, on stdin;
/// merges the partial aggregates of each run of equal keys and finishes them into KEY<TAB>JSON (count, sum, mean, stddev, min, max, nonfinite, missing, hist, quantiles); the empty key carries the job's line counters.
///
/// Example:
///   cat weather/*.csv | mapfold-map --value temp --key year | LC_ALL=C sort \
///     | mapfold-combine | mapfold-reduce
#[derive(Parser, Debug)]
#[command(name = "mapfold-reduce", version, verbatim_doc_comment)]
struct Args {
    /// What to report; without these flags the reducer reads the job's
    /// report from its input (the mappers' counters record) or from
    /// `$mapfold_report` (the runners set it), and given, they must match
    /// the job's.
    #[command(flatten)]
    report: ReportArgs,
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let from_env = std::env::var("mapfold_report")
        .ok()
        .filter(|t| !t.is_empty())
        .map(|t| ReportArgs::decode(t.as_bytes()))
        .transpose()
        .context("reading $mapfold_report (the job's report, set by the runner)")?;
    let (given, report) = match (args.report.is_empty(), from_env) {
        (false, _) => (true, args.report.report()?),
        (true, Some(r)) => (true, r.report()?),
        (true, None) => (false, Report::default()),
    };
    let learn = |token: &[u8]| {
        ReportArgs::decode(token)
            .map_err(|e| e.to_string())
            .and_then(|r| r.report().map_err(|e| e.to_string()))
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    fold(
        io::stdin().lock(),
        &mut out,
        Mode::Reduce,
        Reporting {
            report,
            given,
            learn: &learn,
        },
    )?;
    Ok(())
}

fn main() -> ExitCode {
    exit("mapfold-reduce", run())
}
