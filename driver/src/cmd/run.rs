//! `mapfold run`: one job on the local runner (default), a Hadoop cluster,
//! or Amazon EMR.

use std::path::PathBuf;

use anyhow::{Context, bail};
use mapfold_core::cli::JobArgs;

use crate::emr_args::{AwsArgs, ClusterArgs, EmrRunArgs};
use crate::runner::hadoop::{self, Shipped};
use crate::runner::{self, Bins, Job, input, local};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// Hadoop streaming emulated on this machine, with the real binaries.
    Local,
    /// `hadoop jar hadoop-streaming.jar` on an existing cluster.
    Hadoop,
    /// Amazon EMR: upload, (create a cluster,) run a step, wait, download.
    Emr,
}

/// Run a job: mapfold-map's flags plus where to read and write.
///
/// Example:
///   mapfold run --input weather/ --output out/by-year --value temp --key year --hist=-5:5:100
#[derive(clap::Args, Debug, Clone)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Input files, directories or globs, as Hadoop reads `-input`: a
    /// value is split at commas outside `{}`, each part a glob (`*`, `?`,
    /// `[...]`, `{a,b}`); names starting with `_` or `.` are hidden. `.gz`,
    /// `.bz2`, `.zst` and `.deflate` files are decompressed, as Hadoop
    /// picks codecs by suffix; SequenceFiles are read record by record
    /// (see --input-format).
    #[arg(long, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Read the files of directories inside input directories too (else
    /// such a directory fails the job, as on Hadoop).
    #[arg(long)]
    pub recursive: bool,
    /// Output directory (must not exist, unless --overwrite).
    #[arg(long)]
    pub output: String,
    #[command(flatten)]
    pub job: JobArgs,
    /// Where the job runs.
    #[arg(long, value_enum, default_value = "local")]
    pub runner: Runner,
    /// Reduce tasks (part files).
    #[arg(long, default_value_t = 1)]
    pub reducers: u32,
    /// Concurrent map tasks (default: the number of cores).
    #[arg(long)]
    pub maps: Option<usize>,
    /// Split size in bytes (like Hadoop's block size). Default: 128 MiB, or
    /// less so that every map slot gets a split (one 100 MB file on 2
    /// cores is cut in two); results never depend on it.
    #[arg(long)]
    pub split_size: Option<u64>,
    /// MiB of map output held in memory, shared by the map slots, before it
    /// is sorted, combined and spilled to run files in the staging
    /// directory (results never depend on it).
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    pub sort_memory: usize,
    /// Attempts per task before the job fails (Hadoop's default is 4).
    #[arg(long, default_value_t = 4)]
    pub max_attempts: u32,
    /// Replace an existing output directory (only once the job succeeded).
    #[arg(long)]
    pub overwrite: bool,
    /// Test mode: run the combiner zero, one or several times at random
    /// points (map and reduce side), seeded; results must not change.
    #[arg(long, value_name = "SEED")]
    pub combiner_chaos: Option<u64>,
    /// Directory holding mapfold-map, mapfold-combine and mapfold-reduce
    /// (default: beside this program, then PATH).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// hadoop-streaming.jar (default: $HADOOP_STREAMING_JAR or under $HADOOP_HOME).
    #[arg(long)]
    pub streaming_jar: Option<String>,
    /// Print the `hadoop jar ...` command for this job and exit.
    #[arg(long)]
    pub print_command: bool,
    /// Plot the result right after the job (.png or .svg; the natural kind).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// No progress bars, summary or first rows of the answer.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten, next_help_heading = "AWS (--runner emr)")]
    pub aws: AwsArgs,
    #[command(
        flatten,
        next_help_heading = "EMR cluster (--runner emr without --cluster)"
    )]
    pub cluster: ClusterArgs,
    #[command(flatten, next_help_heading = "EMR run (--runner emr)")]
    pub emr: EmrRunArgs,
}

pub fn run(mut a: Args) -> anyhow::Result<()> {
    if a.reducers == 0 {
        bail!("--reducers must be at least 1");
    }
    if a.split_size == Some(0) {
        bail!("--split-size must be at least 1");
    }
    if a.max_attempts == 0 {
        bail!("--max-attempts must be at least 1");
    }
    let spec = a.job.job()?;
    if let Some(p) = &a.plot {
        crate::plot::check_target(p)?;
    }
    // A schema file is read here, once: the runners ship the schema as
    // its length requires.
    if let Some(path) = a.job.schema_file.take() {
        a.job.schema = spec.schema.as_ref().map(|names| {
            names
                .iter()
                .map(|n| String::from_utf8_lossy(n))
                .collect::<Vec<_>>()
                .join(",")
        });
        anyhow::ensure!(
            a.job.schema.is_some(),
            "--schema-file {}: no names",
            path.display()
        );
    }
    if a.inputs_are_local() {
        check_local_inputs(&mut a.job, &a.input, a.recursive)?;
    } else {
        // What the runner cannot look at is as --input-format says.
        input::resolve_format(&mut a.job, &[])?;
    }
    if a.job.schema.is_none()
        && !a.inputs_are_local()
        && spec.needs_names()
        && a.runner != Runner::Emr
    {
        bail!(
            "columns are named but the input is not on this machine, so its header cannot be read: \
             pass --schema NAME,NAME,... (every split but the first lacks the header)"
        );
    }
    let job = Job {
        job: a.job.clone(),
        inputs: a.input.clone(),
        recursive: a.recursive,
        output: a.output.clone(),
        reducers: a.reducers,
    };
    // A word Hadoop streaming's -mapper string cannot carry is refused now,
    // before anything is uploaded or started.
    if a.runner != Runner::Local || a.print_command {
        for w in job.streaming_map_words() {
            hadoop::quote(&w)?;
        }
    }
    if a.plot.is_some() && a.runner == Runner::Hadoop && !a.print_command {
        bail!("--plot needs the output on this machine: run `mapfold plot` on a local copy of it");
    }
    if a.print_command {
        let jar = hadoop::streaming_jar(a.streaming_jar.as_deref())
            .unwrap_or_else(|_| "$HADOOP_STREAMING_JAR".to_owned());
        let args = hadoop::streaming_args(&job, &shipped(&job, &a)?, a.split_size)?;
        println!("{}", hadoop::shell_line(&jar, &args));
        return Ok(());
    }
    let runner: Box<dyn runner::Runner> = match a.runner {
        Runner::Local => Box::new(local_options(&a)?),
        Runner::Hadoop => Box::new(hadoop::Cluster {
            jar: hadoop::streaming_jar(a.streaming_jar.as_deref())?,
            shipped: shipped(&job, &a)?,
            split_size: a.split_size,
        }),
        Runner::Emr => emr_runner(&a)?,
    };
    let here = runner.run(&job)?;
    if let (Some(p), Some(dir)) = (&a.plot, &here) {
        let kind =
            crate::plot::render(dir, p, &crate::plot::Options::default()).with_context(|| {
                format!(
                    "the job's output is in {}, but plotting it to {} failed",
                    dir.display(),
                    p.display()
                )
            })?;
        if !a.quiet {
            eprintln!("mapfold: plotted {} ({kind:?})", p.display());
        }
    }
    // The answer itself, where it is on this machine: its first keys.
    if let (false, Some(dir)) = (a.quiet, &here) {
        crate::cmd::show::print_head(dir, HEAD_ROWS)?;
    }
    Ok(())
}

/// Keys of the answer `mapfold run` shows when it ends.
const HEAD_ROWS: usize = 10;

/// How the local runner runs this job.
fn local_options(a: &Args) -> anyhow::Result<local::Options> {
    if a.sort_memory == 0 {
        bail!("--sort-memory must be at least 1 (MiB)");
    }
    Ok(local::Options {
        sort_memory: a.sort_memory.saturating_mul(1 << 20),
        maps: a
            .maps
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
        split_size: a.split_size,
        max_attempts: a.max_attempts,
        chaos: a.combiner_chaos,
        bins: Bins::find(a.bin_dir.as_deref())?,
        overwrite: a.overwrite,
        quiet: a.quiet,
        command: std::env::args().collect(),
    })
}

/// The binaries (and a long schema) a Hadoop cluster's tasks get.
fn shipped(job: &Job, a: &Args) -> anyhow::Result<Shipped> {
    let mut shipped = shipped_locally(a.bin_dir.as_deref())?;
    if let Some(schema) = job.long_schema() {
        let (path, _) = crate::runner::schema_file(schema)?;
        shipped.schema = Some(path.display().to_string());
    }
    Ok(shipped)
}

/// The checks a job over local inputs gets before any task starts, on
/// every command that runs one (`mapfold run`, `mapfold demo`): the inputs
/// are of one format (see [`input::resolve_format`]), text inputs are
/// text, their headers agree, and the columns exist; inputs whose records
/// span lines are read whole. The schema is taken from the header when
/// none is given: every split gets it, so splits that never see the header
/// still resolve column names.
pub fn check_local_inputs(
    job: &mut JobArgs,
    inputs: &[String],
    recursive: bool,
) -> anyhow::Result<input::Format> {
    let files = input::resolve(inputs, recursive)?;
    let format = input::resolve_format(job, &input::starts(&files)?)?;
    if let input::Format::Array(_) = format {
        return Ok(format);
    }
    let heads = input::heads(&files)?;
    input::check_text(&heads)?;
    input::decide_from_heads(job, &heads)?;
    Ok(format)
}

#[cfg(feature = "emr")]
fn emr_runner(a: &Args) -> anyhow::Result<Box<dyn runner::Runner>> {
    Ok(Box::new(crate::runner::emr::EmrRun {
        aws: a.aws.clone(),
        cluster: a.cluster.clone(),
        emr: a.emr.clone(),
        overwrite: a.overwrite,
        quiet: a.quiet,
        command: std::env::args().collect(),
        split_size: a.split_size,
    }))
}

#[cfg(not(feature = "emr"))]
fn emr_runner(_: &Args) -> anyhow::Result<Box<dyn runner::Runner>> {
    bail!(crate::emr_args::NO_EMR)
}

impl Args {
    fn inputs_are_local(&self) -> bool {
        self.input.iter().all(|i| !i.contains("://"))
    }
}

/// The binaries a cluster gets with `-files`: the static builds when present.
fn shipped_locally(bin_dir: Option<&std::path::Path>) -> anyhow::Result<Shipped> {
    let dist = crate::runner::dist_dir(None).join("x86_64-unknown-linux-musl");
    let bins = match bin_dir {
        Some(d) => Bins::find(Some(d))?,
        None if dist.join("mapfold-map").is_file() => Bins::find(Some(&dist))?,
        None => Bins::find(None)?,
    };
    let s = |p: &std::path::Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    Ok(Shipped {
        map: s(&bins.map),
        combine: s(&bins.combine),
        reduce: s(&bins.reduce),
        schema: None,
    })
}
