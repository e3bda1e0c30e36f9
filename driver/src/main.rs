//! `mapfold`: the driver. Thin: one file per subcommand under `cmd/`.

mod answer;
mod cmd;
mod emr_args;
mod export;
mod manifest;
mod plot;
mod runner;
mod table;

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
    Show(cmd::show::Args),
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
        Cmd::Show(a) => cmd::show::run(&a),
        Cmd::Emr(c) => cmd::emr::run(*c),
        Cmd::Upload(a) => cmd::upload::run(&a),
        Cmd::Demo(a) => cmd::demo::run(&a),
    }
}

fn main() -> ExitCode {
    mapfold_core::cli::exit("mapfold", run())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand and every flag says what it is for.
    #[test]
    fn everything_has_help() {
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", c.get_name());
            if c.get_about().is_none() && c.get_name() != "help" {
                missing.push(format!("{path}: no about"));
            }
            for a in c.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !builtin && a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} --{}", a.get_id()));
                }
            }
            for s in c.get_subcommands() {
                walk(s, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "no help text:\n{}", missing.join("\n"));
    }
}
