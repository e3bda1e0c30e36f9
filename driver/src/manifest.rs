//! `_mapfold.json`: what a run did, next to its output, so runs can be
//! compared (same binaries? same inputs? same counters?) and plotted.

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// File name of the manifest inside an output directory.
pub const NAME: &str = "_mapfold.json";

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Manifest {
    pub mapfold_version: String,
    pub runner: String,
    pub job_id: String,
    pub command: Vec<String>,
    /// The mapper's words, as every task ran them.
    pub mapper_args: Vec<String>,
    pub reducers: u32,
    pub split_size: u64,
    pub maps: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combiner_chaos: Option<u64>,
    pub binaries: Vec<Binary>,
    pub inputs: Vec<Input>,
    pub splits: Vec<SplitRun>,
    pub reduces: Vec<ReduceRun>,
    pub counters: serde_json::Map<String, serde_json::Value>,
    pub timings: Timings,
    pub outputs: Vec<Input>,
    /// Runner-specific facts (cluster id, step id, ...).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Counters as the manifest records them.
pub fn counters_json(
    c: &mapfold_core::counters::Counters,
) -> serde_json::Map<String, serde_json::Value> {
    match c.to_json() {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

impl Manifest {
    /// The facts every runner records: which runner ran which job, how it
    /// was asked, and the counters it reconciled; the rest are filled in
    /// by the runner.
    pub fn new(
        runner: &str,
        job_id: &str,
        command: &[String],
        mapper_args: Vec<String>,
        reducers: u32,
        counters: &mapfold_core::counters::Counters,
    ) -> Self {
        Self {
            mapfold_version: env!("CARGO_PKG_VERSION").to_owned(),
            runner: runner.to_owned(),
            job_id: job_id.to_owned(),
            command: command.to_vec(),
            mapper_args,
            reducers,
            counters: counters_json(counters),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Binary {
    pub name: String,
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Input {
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SplitRun {
    pub task: String,
    pub file: String,
    pub start: u64,
    pub length: u64,
    pub attempts: u32,
    pub seconds: f64,
    pub records_out: u64,
    pub counters: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ReduceRun {
    pub task: String,
    pub partition: u32,
    pub attempts: u32,
    pub seconds: f64,
    pub records_in: u64,
    pub bytes_out: u64,
    /// Reducer processes that folded the partition's key ranges at once
    /// (local runner; their outputs joined are the part file).
    #[serde(default = "one")]
    pub ranges: usize,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Timings {
    pub started_unix: u64,
    pub map_seconds: f64,
    pub reduce_seconds: f64,
    pub commit_seconds: f64,
    pub total_seconds: f64,
}

impl Timings {
    /// A job's timings so far: when it started (Unix seconds, from the
    /// `Instant` taken at its start, not the time of writing), its map and
    /// reduce phases, and its total until now.
    pub fn since(started: Instant, map_seconds: f64, reduce_seconds: f64) -> Self {
        let elapsed = started.elapsed();
        Self {
            started_unix: SystemTime::now()
                .checked_sub(elapsed)
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs()),
            map_seconds,
            reduce_seconds,
            commit_seconds: 0.0,
            total_seconds: elapsed.as_secs_f64(),
        }
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(p: &Path) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    let mut f = std::fs::File::open(p).with_context(|| format!("hashing {}", p.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

impl Manifest {
    /// The manifest of an output directory, if it has one.
    pub fn read(dir: &Path) -> anyhow::Result<Option<Self>> {
        let p = dir.join(NAME);
        if !p.exists() {
            return Ok(None);
        }
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        Ok(Some(
            serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?,
        ))
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let p = dir.join(NAME);
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(&p, text + "\n").with_context(|| format!("writing {}", p.display()))
    }
}
