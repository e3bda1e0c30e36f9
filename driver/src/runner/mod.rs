//! Running a job: what it reads, what it computes, where it writes, and the
//! binaries that do the work. The local runner ([`local`]) emulates Hadoop
//! streaming on this machine; [`hadoop`] builds the `hadoop jar` command that
//! a cluster (and the EMR runner) runs.

mod bzsplit;
#[cfg(feature = "emr")]
pub mod emr;
pub mod hadoop;
pub mod input;
pub mod interrupt;
mod keysort;
pub mod local;
mod lzo;
pub mod mapside;
mod output;
mod ranges;
pub mod seqfile;
pub mod shuffle;
pub mod split;
pub mod staging;
pub mod tasks;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use mapfold_core::cli::JobArgs;

/// The three streaming binaries a job runs.
#[derive(Debug, Clone)]
pub struct Bins {
    pub map: PathBuf,
    pub combine: PathBuf,
    pub reduce: PathBuf,
}

impl Bins {
    /// From `dir`, else beside this executable (how cargo and the static
    /// builds lay them out), else on PATH.
    pub fn find(dir: Option<&Path>) -> anyhow::Result<Self> {
        let here = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf));
        let find = |name: &str| -> anyhow::Result<PathBuf> {
            if let Some(d) = dir {
                let p = d.join(name);
                return if p.is_file() {
                    Ok(p)
                } else {
                    bail!("{} does not exist (from --bin-dir)", p.display())
                };
            }
            if let Some(p) = here.as_ref().map(|h| h.join(name)).filter(|p| p.is_file()) {
                return Ok(p);
            }
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
                .with_context(|| {
                    format!(
                        "cannot find {name}: build it with `cargo build --release --workspace`, \
                         or pass --bin-dir DIR"
                    )
                })
        };
        Ok(Self {
            map: find("mapfold-map")?,
            combine: find("mapfold-combine")?,
            reduce: find("mapfold-reduce")?,
        })
    }
}

/// The directory of the static builds: `flag`, else `./dist`, else the
/// `dist/` of the checkout this program was built in (it lives in
/// `target/<profile>/`), so the default works from any directory.
pub fn dist_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(d) = flag {
        return d.to_path_buf();
    }
    let here = PathBuf::from("dist");
    if here.is_dir() {
        return here;
    }
    std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.parent()?.join("dist")))
        .filter(|d| d.is_dir())
        .unwrap_or(here)
}

/// One way to run a job: on this machine ([`local`]), on a Hadoop cluster
/// ([`hadoop`]), or on Amazon EMR (`emr`). Each commits the job's output
/// whole, or leaves nothing; what becomes of the output (a plot) is the
/// command's business.
pub trait Runner {
    /// Runs `job`; returns where its output is on this machine, when it
    /// is (the local runner's, the EMR runner's download).
    fn run(&self, job: &Job) -> anyhow::Result<Option<PathBuf>>;
}

/// A job as the runners see it.
#[derive(Debug, Clone)]
pub struct Job {
    pub job: JobArgs,
    pub inputs: Vec<String>,
    /// Read the files of directories inside input directories too.
    pub recursive: bool,
    pub output: String,
    pub reducers: u32,
}

/// The name a shipped schema file has in a task's working directory.
pub const SCHEMA_FILE: &str = "mapfold-schema";

/// Schemas longer than this reach the tasks in a file (`--schema-file`), not
/// on their command line: Linux refuses an argument past 128 KiB
/// (MAX_ARG_STRLEN), EMR a step whose strings total over 10,240
/// characters ([`super::emr`] checks the total), and a
/// header of thousands of columns is longer.
pub const SCHEMA_INLINE_MAX: usize = 4096;

/// Writes a long schema to a file named by its SHA-256 under the temporary
/// directory (the same schema, the same file: a printed command stays
/// runnable, and reruns write nothing) and returns the file and the hash.
pub fn schema_file(schema: &str) -> anyhow::Result<(PathBuf, String)> {
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(schema.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = std::env::temp_dir().join(format!("mapfold-schema-{sha}"));
    let text = format!("{schema}\n");
    if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("writing the job's schema to {}", path.display()))?;
    }
    Ok((path, sha))
}

impl Job {
    /// How the inputs store their records (the job's flags say it).
    pub fn format(&self) -> input::Format {
        input::Format::of(&self.job)
    }

    /// The mapper's words (job flags, with the schema the driver found),
    /// the schema inline whatever its length: the job as written down (the
    /// manifest). The malformed limit is left out: the runners judge it for
    /// the whole job from every task's counters ([`Job::check_malformed`]),
    /// so that whether a job succeeds does not depend on how its input was
    /// split.
    pub fn map_words(&self) -> Vec<String> {
        let mut job = self.job.clone();
        job.max_malformed = 1.0;
        job.to_words()
    }

    /// The schema, when it is too long for a command line
    /// ([`SCHEMA_INLINE_MAX`]): the runner ships it as a file.
    pub fn long_schema(&self) -> Option<&str> {
        self.job
            .schema
            .as_deref()
            .filter(|s| s.len() > SCHEMA_INLINE_MAX)
    }

    /// The mapper's words as a task runs them: [`Job::map_words`], with a
    /// long schema read from `schema_file` (where the runner put it).
    pub fn task_map_words(&self, schema_file: &str) -> Vec<String> {
        if self.long_schema().is_none() {
            return self.map_words();
        }
        let mut job = self.clone();
        job.job.schema = None;
        job.job.schema_file = Some(schema_file.into());
        job.map_words()
    }

    /// The mapper's words in a `-mapper` string: without the schema, which
    /// goes by the job configuration ([`Job::conf_schema`]), or in a
    /// shipped file when long. Streaming's splitter cannot carry a word
    /// with both quote characters, and a header may well have one column
    /// named `driver's age` and another `trip "km"`.
    pub fn streaming_map_words(&self) -> Vec<String> {
        let mut job = self.clone();
        job.job.schema = None;
        if self.long_schema().is_some() {
            job.job.schema_file = Some(SCHEMA_FILE.into());
        }
        job.map_words()
    }

    /// The schema for `-D mapfold.schema=...`: streaming exports every
    /// job configuration entry to the tasks' environment (`$mapfold_schema`,
    /// which `mapfold-map --schema` reads), with no quoting to survive.
    pub fn conf_schema(&self) -> Option<&str> {
        self.job
            .schema
            .as_deref()
            .filter(|_| self.long_schema().is_none())
    }

    /// The job in a line, for a Hadoop job's or an EMR step's name: its
    /// flags without the schema (of no use in a name, and maybe 100 KB).
    pub fn title(&self) -> String {
        let mut job = self.job.clone();
        job.schema = None;
        format!("mapfold {}", job.to_words().join(" "))
    }

    /// The job's report for its reduce tasks (see
    /// [`mapfold_core::cli::WhatArgs`]), as `$mapfold_report` holds it.
    pub fn report_token(&self) -> String {
        self.job.what.encode()
    }

    /// Fails when more than `--max-malformed` of the job's lines were
    /// malformed; `first` names the first one a task reported.
    pub fn check_malformed(
        &self,
        counters: &mapfold_core::counters::Counters,
        first: Option<&str>,
    ) -> anyhow::Result<()> {
        let first = first.unwrap_or("(a line the task logs name)");
        mapfold_core::map::check_malformed(counters, self.job.max_malformed, first).map_err(|e| {
            anyhow::anyhow!("{e}; pass --max-malformed to allow more, or fix the input")
        })
    }
}
