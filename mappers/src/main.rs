//! `mapfold-map`: the streaming mapper. Thin: flags in, [`Mapper`] does the work.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mapfold_core::binary::{Frames, Input, for_each_row};
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
    let stdin = io::stdin().lock();
    if job.input == Input::Npy {
        // The driver reads .npy headers (mapfold run); a task reads rows.
        anyhow::bail!(
            "mapfold run reads .npy headers; here give --input-format raw --dtype --columns --data-offset"
        );
    }
    let job_input = job.input;
    let out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut mapper = Mapper::new(job, location.clone(), out)?;
    mapper.set_report(&args.job.what.encode());
    if split_starts_mid_file() {
        mapper.starts_mid_file();
    }
    let in_task = std::env::var_os("mapreduce_map_input_file").is_some();
    if in_task {
        mapper.in_split();
    }
    let framing = mapper.framing();
    // The local runner hands a file's last split over as the file itself,
    // with the bytes it planned (see `mapfold_core::map::SPLIT_BYTES`): a
    // file that grows while the job runs is not read past them.
    let stdin = stdin.take(split_bytes_from_env().unwrap_or(u64::MAX));
    match job_input {
        Input::Raw(l) => {
            // Hadoop streaming hands FixedLengthInputFormat records over
            // framed (`-D stream.map.input=rawbytes`, which it exports as
            // $stream_map_input), each with its file offset, so the header
            // is skipped by offset; the local runner hands a task its rows
            // past the header; a plain pipe reads the file from its start.
            let rawbytes = std::env::var("stream_map_input").as_deref() == Ok("rawbytes");
            let frames = match (rawbytes, in_task) {
                (true, _) => Frames::RawBytes {
                    skip: l.data_offset,
                },
                (false, true) => Frames::Raw { skip: 0 },
                (false, false) => Frames::Raw {
                    skip: l.data_offset,
                },
            };
            let delim = mapper.delimiter();
            let rows = for_each_row(stdin, l.dtype, l.columns, frames, delim, &mut mapper)
                .with_context(|| format!("reading {location}"))?;
            let local_start = !rawbytes && in_task && !split_starts_mid_file() && l.data_offset > 0;
            if rows.header || local_start {
                mapper.count_header();
            }
        }
        Input::Text | Input::Npy => for_each_record(stdin, framing, MAX_LINE, &mut mapper)
            .with_context(|| format!("reading {location}"))?,
    }
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
