//! `mapfold`: the driver. Thin: one file per subcommand under `cmd/`.

mod cmd;
mod pyfloat;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Summarise data sets too large for memory with Hadoop streaming: counts,
/// exact sums and means, spreads, histograms, per key; run locally, on a
/// Hadoop cluster or on Amazon EMR.
#[derive(Parser, Debug)]
#[command(name = "mapfold", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    Gen(cmd::generate::Args),
}

fn run() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Gen(a) => cmd::generate::run(&a),
    }
}

fn main() -> ExitCode {
    mapfold_core::cli::exit("mapfold", run())
}
