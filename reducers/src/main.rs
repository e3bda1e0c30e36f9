//! `mapfold-reduce`: the streaming reducer. Thin: flags in, [`fold`] does the work.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use mapfold_core::cli::exit;
use mapfold_core::fold::{Mode, fold};

/// Reads mapfold partials (KEY<TAB>mf1 ...), sorted by key bytes, on stdin;
/// merges the partial aggregates of each run of equal keys and finishes them into KEY<TAB>JSON (count, sum, mean, min, max, stddev, nonfinite, hist); the empty key carries the job's line counters.
///
/// Example:
///   cat weather/*.csv | mapfold-map --value temp --key year | LC_ALL=C sort \
///     | mapfold-combine | mapfold-reduce
#[derive(Parser, Debug)]
#[command(name = "mapfold-reduce", version, verbatim_doc_comment)]
struct Args {}

fn run() -> anyhow::Result<()> {
    Args::parse();
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    fold(io::stdin().lock(), &mut out, Mode::Reduce)?;
    Ok(())
}

fn main() -> ExitCode {
    exit("mapfold-reduce", run())
}
