//! `mapfold-reduce`: the streaming reducer. Thin: flags in, [`fold`] does the work.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use mapfold_core::agg::Report;
use mapfold_core::cli::{exit, parse_corr, parse_hist2d, parse_quantiles};
use mapfold_core::fold::{Mode, fold};

/// Reads mapfold partials (KEY<TAB>mf2 ... or KEY<TAB>VALUE), sorted by key bytes, on stdin;
/// merges the partial aggregates of each run of equal keys and finishes them into KEY<TAB>JSON (count, sum, mean, stddev, min, max, nonfinite, missing, hist, quantiles); the empty key carries the job's line counters.
///
/// Example:
///   cat weather/*.csv | mapfold-map --value temp --key year | LC_ALL=C sort \
///     | mapfold-combine | mapfold-reduce
#[derive(Parser, Debug)]
#[command(name = "mapfold-reduce", version, verbatim_doc_comment)]
struct Args {
    /// Quantiles to report from the partials' sketches (the mapper's
    /// --quantiles list): alone or absent for p1 p5 p10 p25 p50 p75 p90
    /// p95 p99.
    #[arg(long, value_name = "Q[,Q...]", num_args = 0..=1, default_missing_value = "default")]
    quantiles: Option<String>,

    /// Names of the mapper's --distinct columns, in its order, for the
    /// JSON (without them: d0, d1, ...).
    #[arg(long, value_name = "COL")]
    distinct: Vec<String>,

    /// Names of the mapper's --corr columns, for the JSON.
    #[arg(long, value_name = "X,Y")]
    corr: Option<String>,

    /// The mapper's --value columns, when there are several: the JSON's
    /// names of their objects (without them: v1, v2, ...).
    #[arg(long, value_name = "COL[,COL...]", value_delimiter = ',')]
    value: Vec<String>,

    /// The mapper's --hist2d, for the column names in the JSON.
    #[arg(long, value_name = "X=LO:HI:N,Y=LO:HI:M", allow_hyphen_values = true)]
    hist2d: Option<String>,
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let report = Report {
        quantiles: parse_quantiles(args.quantiles.as_deref().unwrap_or("default"))?,
        distinct: args.distinct,
        corr: args
            .corr
            .as_deref()
            .map(parse_corr)
            .transpose()?
            .map(|(x, y)| (x.0, y.0)),
        hist2d: args
            .hist2d
            .as_deref()
            .map(parse_hist2d)
            .transpose()?
            .map(|(x, y, _)| (x.0, y.0)),
        values: args.value,
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    fold(io::stdin().lock(), &mut out, Mode::Reduce, &report)?;
    Ok(())
}

fn main() -> ExitCode {
    exit("mapfold-reduce", run())
}
