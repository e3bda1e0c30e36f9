//! `mapfold`: the driver. Thin: one file per subcommand under `cmd/`.

mod cmd;
mod emr_args;
mod plot;
mod pyfloat;
mod runner;

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
    Run(Box<cmd::run::Args>),
    Plot(cmd::plot::Args),
    #[command(subcommand)]
    Emr(Box<cmd::emr::Cmd>),
    Upload(cmd::upload::Args),
    Demo(cmd::demo::Args),
}

fn run() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Gen(a) => cmd::generate::run(&a),
        Cmd::Run(a) => cmd::run::run(*a),
        Cmd::Plot(a) => cmd::plot::run(&a),
        Cmd::Emr(c) => cmd::emr::run(*c),
        Cmd::Upload(a) => cmd::upload::run(&a),
        Cmd::Demo(a) => cmd::demo::run(&a),
    }
}

fn main() -> ExitCode {
    mapfold_core::cli::exit("mapfold", run())
}
