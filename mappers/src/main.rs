//! `mapfold-map`: the streaming mapper. Thin: flags in, [`Mapper`] does the work.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mapfold_core::cli::{JobArgs, exit};
use mapfold_core::lines::{MAX_LINE, for_each_record};
use mapfold_core::map::{
    Mapper, input_location_from_env, split_bytes_from_env, split_starts_mid_file,
};

/// Reads CSV/TSV lines on stdin and writes one exact partial aggregate per
/// key (KEY<TAB>mf2 ...) on stdout; line counters go to stderr as Hadoop
/// `reporter:counter:` lines.
///
/// Example:
///   head -n 1000 weather/0.csv | mapfold-map --value temp --key year --hist -5:5:100 \
///     | LC_ALL=C sort | mapfold-combine | mapfold-reduce
#[derive(Parser, Debug)]
#[command(name = "mapfold-map", version, verbatim_doc_comment)]
struct Args {
    #[command(flatten)]
    job: JobArgs,
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let job = args.job.job()?;
    let location = input_location_from_env();
    let out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut mapper = Mapper::new(job, location.clone(), out)?;
    mapper.set_report(&args.job.what.encode());
    if split_starts_mid_file() {
        mapper.starts_mid_file();
    }
    if std::env::var_os("mapreduce_map_input_file").is_some() {
        mapper.in_split();
    }
    let framing = mapper.framing();
    // The local runner hands a file's last split over as the file itself,
    // with the bytes it planned (see `mapfold_core::map::SPLIT_BYTES`): a
    // file that grows while the job runs is not read past them.
    let stdin = io::stdin()
        .lock()
        .take(split_bytes_from_env().unwrap_or(u64::MAX));
    for_each_record(stdin, framing, MAX_LINE, &mut mapper)
        .with_context(|| format!("reading {location}"))?;
    let counters = mapper.counters();
    let mut err = io::stderr().lock();
    counters.report(&mut err)?;
    if let Some(first) = mapper.first_malformed() {
        writeln!(err, "{}{first}", mapfold_core::map::FIRST_MALFORMED)?;
    }
    err.flush()?;
    mapper.finish()?;
    Ok(())
}

fn main() -> ExitCode {
    exit("mapfold-map", run())
}
