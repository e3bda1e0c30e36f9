//! `mapfold-reduce`: the streaming reducer. Thin: flags in, [`fold`] does the work.

use std::io;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mapfold_core::agg::What;
use mapfold_core::cli::{WhatArgs, exit};
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
    /// What the job computes: the mapper's own flags. Without them the
    /// reducer reads them from its input (the mappers' counters record) or
    /// from `$mapfold_report` (the runners set it); given, they must match
    /// the job's.
    #[command(flatten)]
    what: WhatArgs,
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let from_env = std::env::var("mapfold_report")
        .ok()
        .filter(|t| !t.is_empty())
        .map(|t| WhatArgs::decode(t.as_bytes()))
        .transpose()
        .context("reading $mapfold_report (the job's report, set by the runner)")?;
    let (given, what) = match (args.what.is_empty(), from_env) {
        (false, _) => (true, args.what.what()?),
        (true, Some(w)) => (true, w.what()?),
        (true, None) => (false, What::default()),
    };
    let learn = |token: &[u8]| {
        WhatArgs::decode(token)
            .map_err(|e| e.to_string())
            .and_then(|w| w.what().map_err(|e| e.to_string()))
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    fold(
        io::stdin().lock(),
        &mut out,
        Mode::Reduce,
        Reporting {
            what,
            given,
            learn: &learn,
        },
    )?;
    Ok(())
}

fn main() -> ExitCode {
    exit("mapfold-reduce", run())
}
