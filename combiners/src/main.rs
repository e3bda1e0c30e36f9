//! `mapfold-combine`: the streaming combiner. Thin: flags in, [`fold`] does the work.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use mapfold_core::agg::What;
use mapfold_core::cli::exit;
use mapfold_core::fold::{Mode, Reporting, fold};

/// Reads mapfold partials (KEY<TAB>mf2 ... or KEY<TAB>VALUE), sorted by key bytes, on stdin;
/// merges the partial aggregates of each run of equal keys and writes them back in the same wire format, so Hadoop may run it any number of times.
///
/// Example:
///   cat weather/*.csv | mapfold-map --value temp --key year | LC_ALL=C sort \
///     | mapfold-combine | mapfold-reduce
#[derive(Parser, Debug)]
#[command(name = "mapfold-combine", version, verbatim_doc_comment)]
struct Args {}

fn run() -> anyhow::Result<()> {
    Args::parse();
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    fold(
        io::stdin().lock(),
        &mut out,
        Mode::Combine,
        Reporting::fixed(What::default()),
    )?;
    Ok(())
}

fn main() -> ExitCode {
    exit("mapfold-combine", run())
}
