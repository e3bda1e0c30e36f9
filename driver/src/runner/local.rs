//! The local runner: Hadoop streaming on one machine, with the real binaries
//! as separate processes over pipes.
//!
//! Splits are cut and read as Hadoop cuts and reads them; up to `maps` map
//! tasks run at once, each with the environment Hadoop gives a task; each
//! map output is partitioned with Hadoop's hash partitioner, sorted by key
//! bytes, combined and spilled as run files ([`super::mapside`]); each
//! partition's runs are merged k ways and reduced into `part-NNNNN`. A
//! failed task is retried; a job that fails leaves nothing behind. Output
//! is staged ([`super::staging`]) and renamed into place with `_SUCCESS`
//! and `_mapfold.json`, so it appears whole or not at all.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mapfold_core::counters::Counters;

use super::input::{self, InputFile};
use super::mapside::{Side, Spill, chaos_merges};
use super::output::{self, counters_in_parts};
use super::ranges::{self, Span};
use super::shuffle::merge_spans;
use super::split::{self, Split};
use super::staging::{self, Staging};
use super::tasks::{self, TaskIds, file_uri};
use super::{Bins, Job, interrupt};
use crate::manifest::counters_json;
use crate::manifest::{self, Binary, Input, Manifest, ReduceRun, SplitRun, Timings};

/// Jobs run by this process, for Hadoop-style job ids.
static JOB_SEQ: AtomicUsize = AtomicUsize::new(0);

/// How the local runner runs a job.
#[derive(Debug, Clone)]
pub struct Options {
    pub maps: usize,
    /// Bytes of map output held in memory (shared by the map slots) before
    /// it is sorted and spilled to run files.
    pub sort_memory: usize,
    /// `None`: [`split::default_size`] for the inputs and map slots.
    pub split_size: Option<u64>,
    pub max_attempts: u32,
    pub chaos: Option<u64>,
    pub bins: Bins,
    pub overwrite: bool,
    pub quiet: bool,
    pub command: Vec<String>,
}

struct MapDone {
    /// Per reducer, the sorted (combined) run files of this task's output
    /// for it.
    runs: Vec<Vec<PathBuf>>,
    counters: Counters,
    /// What the task's log said of its first malformed line.
    first_malformed: Option<String>,
    attempts: u32,
    seconds: f64,
    records_out: u64,
}

struct ReduceDone {
    attempts: u32,
    ranges: usize,
    seconds: f64,
    records_in: u64,
    bytes_out: u64,
}

/// Everything a task needs to know about its job.
struct Ctx<'a> {
    job: &'a Job,
    o: &'a Options,
    inputs: &'a [InputFile],
    splits: &'a [Split],
    ids: TaskIds,
    words: Vec<String>,
    bar: ProgressBar,
    /// Where map outputs wait for the reducers, as sorted run files (inside
    /// the staging directory, removed before the commit).
    shuffle: PathBuf,
    /// The split size the job ran with.
    split_size: u64,
    /// How the inputs store their records.
    format: super::input::Format,
}

impl Ctx<'_> {
    /// What the map side needs of the job.
    fn side(&self) -> Side<'_> {
        Side {
            chaos: self.o.chaos,
            // The lines and their sort index share the task's budget; a
            // spill's offsets are 32-bit.
            budget: (self.o.sort_memory / self.o.maps.max(1)).clamp(1 << 20, 1 << 31),
            reducers: self.job.reducers,
            shuffle: &self.shuffle,
            combine: &self.o.bins.combine,
        }
    }
}

impl super::Runner for Options {
    fn run(&self, job: &Job) -> anyhow::Result<Option<PathBuf>> {
        run(job, self)?;
        Ok(Some(PathBuf::from(&job.output)))
    }
}

/// Runs `job` locally; returns its manifest (also written beside the output).
pub fn run(job: &Job, o: &Options) -> anyhow::Result<Manifest> {
    let t0 = Instant::now();
    let inputs = input::resolve(&job.inputs, job.recursive)?;
    let out = PathBuf::from(&job.output);
    let paths: Vec<PathBuf> = inputs.iter().map(|f| f.path.clone()).collect();
    staging::check_apart(&out, &paths, &job.inputs)?;
    interrupt::install();
    let staging = Staging::new(&out, o.overwrite)?;
    // Never under the format's smallest split, as Hadoop cuts them.
    let format = job.format();
    let split_size = o
        .split_size
        .unwrap_or_else(|| split::default_size(&inputs, o.maps))
        .max(format.min_split());
    let splits = split::plan(&inputs, split_size, job.job.whole_files, format);
    let total: u64 = splits.iter().map(|s| s.length).sum();
    // A long schema reaches the tasks in a file, as on a cluster.
    let schema_file = staging.dir.join(".shuffle").join("schema");
    let ctx = Ctx {
        job,
        o,
        inputs: &inputs,
        splits: &splits,
        ids: TaskIds {
            job: format!(
                "job_local{}_{:04}",
                std::process::id(),
                JOB_SEQ.fetch_add(1, Ordering::Relaxed) + 1
            ),
            maps: splits.len(),
            reduces: job.reducers,
        },
        words: job.task_map_words(&schema_file.display().to_string()),
        bar: bar(o.quiet, total, "map"),
        shuffle: staging.dir.join(".shuffle"),
        split_size,
        format,
    };
    std::fs::create_dir(&ctx.shuffle).context("creating the shuffle directory")?;
    if let Some(schema) = job.long_schema() {
        std::fs::write(&schema_file, format!("{schema}\n"))
            .context("writing the job's schema for the tasks")?;
    }

    let maps = pool(splits.len(), o.maps, |i| map_task(&ctx, i))?;
    ctx.bar.finish_and_clear();
    input::check_unchanged(&inputs)?;
    let t_map = t0.elapsed().as_secs_f64();

    let reduce_bar = bar(o.quiet, u64::from(job.reducers), "reduce");
    let reduces = pool(job.reducers as usize, o.maps, |r| {
        let runs: Vec<PathBuf> = maps
            .iter()
            .flat_map(|m| m.runs[r].iter().cloned())
            .collect();
        let done = reduce_task(&ctx, r as u32, &runs, &staging.dir);
        reduce_bar.inc(1);
        done
    })?;
    reduce_bar.finish_and_clear();
    std::fs::remove_dir_all(&ctx.shuffle).context("removing the shuffle's run files")?;
    let t_reduce = t0.elapsed().as_secs_f64() - t_map;

    let mut counters = Counters::default();
    for m in &maps {
        counters.merge(&m.counters).map_err(anyhow::Error::msg)?;
    }
    let reduced = counters_in_parts(&staging.dir, job.reducers)?;
    if reduced != counters {
        bail!(
            "counters do not reconcile: map tasks reported {:?} but the reducers saw {:?}; output not committed",
            counters.named(),
            reduced.named()
        );
    }
    let first = maps.iter().find_map(|m| m.first_malformed.as_deref());
    job.check_malformed(&counters, first)
        .context("output not committed")?;

    commit_gate();
    input::check_unchanged(&inputs)?;

    let t_commit = Instant::now();
    std::fs::write(staging.dir.join("_SUCCESS"), b"").context("writing _SUCCESS")?;
    let mut m = manifest(&ctx, &maps, &reduces, &counters)?;
    m.timings = Timings::since(t0, t_map, t_reduce);
    output::commit(staging, &mut m, t0, Some(t_commit))?;
    if !o.quiet {
        summary(&m, &out);
    }
    Ok(m)
}

/// For tests of what happens between the job and its commit: with
/// `MAPFOLD_TEST_COMMIT_GATE=PATH`, writes `PATH.reached` and waits (up to
/// two minutes) until `PATH` exists.
fn commit_gate() {
    let Some(gate) = std::env::var_os("MAPFOLD_TEST_COMMIT_GATE").map(PathBuf::from) else {
        return;
    };
    let mut reached = gate.clone().into_os_string();
    reached.push(".reached");
    let _ = std::fs::write(&reached, b"");
    let t = Instant::now();
    while !gate.exists() && t.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    let template = if what == "map" {
        "{spinner} map    [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ({eta})"
    } else {
        "{spinner} reduce [{bar:30}] {pos}/{len} partitions"
    };
    if let Ok(s) = ProgressStyle::with_template(template) {
        b.set_style(s.progress_chars("=> "));
    }
    b
}

/// Runs `task(0..n)` on up to `width` threads; stops handing out work after
/// the first failure and returns it.
fn pool<T: Send>(
    n: usize,
    width: usize,
    task: impl Fn(usize) -> anyhow::Result<T> + Sync,
) -> anyhow::Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<anyhow::Result<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..width.clamp(1, n.max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || failed.load(Ordering::Relaxed) {
                        return;
                    }
                    let r = task(i);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    let mut out = Vec::with_capacity(n);
    for slot in slots {
        if let Some(r) = slot
            .into_inner()
            .map_err(|_| anyhow!("a task thread panicked"))?
        {
            out.push(r?);
        }
    }
    if out.len() != n {
        bail!("the job stopped before all its tasks ran");
    }
    Ok(out)
}

fn map_task(ctx: &Ctx<'_>, i: usize) -> anyhow::Result<MapDone> {
    let t0 = Instant::now();
    let split = ctx.splits[i];
    let input = &ctx.inputs[split.file];
    let uri = file_uri(&input.path);
    let mut last_error = String::new();
    for attempt in 0..ctx.o.max_attempts {
        let mut env = ctx.ids.map_env(i, attempt, &uri, split.start, split.length);
        let format = ctx.format;
        let stdin = match split::direct(input, &split, format) {
            Ok(Some((file, bytes))) => {
                env.push((mapfold_core::map::SPLIT_BYTES.to_owned(), bytes.to_string()));
                tasks::Stdin::File(file)
            }
            Ok(None) => tasks::Stdin::Feed(|w: &mut dyn std::io::Write| {
                split::feed(input, &split, format, w, |_| {})
            }),
            Err(e) => {
                last_error = format!("opening {}: {e}", input.path.display());
                continue;
            }
        };
        let side = ctx.side();
        let mut spill = Spill::new(&side, i, attempt);
        let mut sink = |chunk: &[u8]| spill.push(chunk);
        let run = tasks::run_to(
            &ctx.o.bins.map,
            &ctx.words,
            &env,
            stdin,
            tasks::Out::Sink(&mut sink),
        );
        let fin = match run {
            Ok(f) if f.status.success() => f,
            Ok(f) if let Some(why) = deterministic(f.status.code()) => {
                return Err(anyhow!(
                    "map task {i} ({}) {why}:\n{}",
                    input.path.display(),
                    f.stderr_tail().trim_end()
                ));
            }
            Ok(f) => {
                last_error = format!("{}\n{}", f.status, f.stderr_tail());
                continue;
            }
            Err(e) => {
                last_error = format!("{e:#}");
                continue;
            }
        };
        let mut counters = Counters::default();
        let mut first_malformed = None;
        for l in String::from_utf8_lossy(&fin.stderr).lines() {
            if !counters.absorb_report_line(l) && first_malformed.is_none() {
                first_malformed = l
                    .strip_prefix(mapfold_core::map::FIRST_MALFORMED)
                    .map(str::to_owned);
            }
        }
        match spill.finish() {
            Ok((runs, records_out)) => {
                ctx.bar.inc(split.length);
                return Ok(MapDone {
                    runs,
                    counters,
                    first_malformed,
                    attempts: attempt + 1,
                    seconds: t0.elapsed().as_secs_f64(),
                    records_out,
                });
            }
            Err(e) if mapfold_core::cli::is_no_space(&e) => {
                return Err(e.context(format!(
                    "map task {i}: the disk of the job's staging ({}) is full: free space \
                     there and run again",
                    ctx.shuffle.display()
                )));
            }
            Err(e) => last_error = format!("map side: {e:#}"),
        }
    }
    Err(anyhow!(
        "map task {i} failed {} times reading {} bytes {}..{} (split {} of {}); last attempt:\n{}",
        ctx.o.max_attempts,
        input.path.display(),
        split.start,
        split.start + split.length,
        i + 1,
        ctx.splits.len(),
        last_error.trim_end()
    ))
}

fn reduce_task(ctx: &Ctx<'_>, r: u32, runs: &[PathBuf], dir: &Path) -> anyhow::Result<ReduceDone> {
    let t0 = Instant::now();
    let runs = match ctx.o.chaos {
        None => runs.to_vec(),
        Some(seed) => chaos_merges(&ctx.side(), r, runs, seed)?,
    };
    let name = format!("part-{r:05}");
    let path = dir.join(&name);
    // With more cores than reducers, the partition's key ranges are reduced
    // at once and joined in key order: the bytes one reducer would write.
    let ways = ctx.o.maps.div_ceil((ctx.job.reducers as usize).max(1));
    let mut ranges = ranges::cut(&runs, ways, ranges::MIN_BYTES)
        .with_context(|| format!("cutting the input of {name} into key ranges"))?;
    let ranges_run = ranges.len().max(1);
    let (attempts, records_in) = if ranges.len() <= 1 {
        reduce_range(ctx, r, &ranges.pop().unwrap_or_default(), &path)?
    } else {
        // The first range is written in place, the others beside it and
        // appended: not every byte copied once more.
        let pieces: Vec<PathBuf> = (0..ranges.len())
            .map(|k| match k {
                0 => path.clone(),
                _ => ctx.shuffle.join(format!("{name}-range{k:03}")),
            })
            .collect();
        let done = pool(ranges.len(), ranges.len(), |k| {
            reduce_range(ctx, r, &ranges[k], &pieces[k])
        })?;
        // Written at its end, not opened to append: the kernel copies
        // between files (copy_file_range) only into a file not in append
        // mode.
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .with_context(|| format!("appending to {name}"))?;
        std::io::Seek::seek(&mut out, std::io::SeekFrom::End(0))
            .with_context(|| format!("appending to {name}"))?;
        for p in &pieces[1..] {
            let mut piece =
                std::fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
            std::io::copy(&mut piece, &mut out).with_context(|| format!("writing {name}"))?;
            std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
        }
        let attempts = done.iter().map(|d| d.0).max().unwrap_or(1);
        (attempts, done.iter().map(|d| d.1).sum())
    };
    Ok(ReduceDone {
        attempts,
        ranges: ranges_run,
        seconds: t0.elapsed().as_secs_f64(),
        records_in,
        bytes_out: std::fs::metadata(&path)
            .with_context(|| format!("reading {name}"))?
            .len(),
    })
}

/// Why a task that exited with `code` would fail the same way again (so it
/// is not retried): a usage error, or a full disk, which is this machine's.
fn deterministic(code: Option<i32>) -> Option<&'static str> {
    use mapfold_core::error::{NO_SPACE_EXIT, USAGE_EXIT};
    match code? {
        c if c == i32::from(USAGE_EXIT) => Some("refused the job"),
        c if c == i32::from(NO_SPACE_EXIT) => Some("ran out of disk space"),
        _ => None,
    }
}

/// Reduces the merged `spans` of partition `r` into `path`, retrying a
/// failed attempt; returns the attempts made and the records read.
fn reduce_range(ctx: &Ctx<'_>, r: u32, spans: &[Span], path: &Path) -> anyhow::Result<(u32, u64)> {
    let mut last_error = String::new();
    for attempt in 0..ctx.o.max_attempts {
        let mut env = ctx.ids.reduce_env(r, attempt);
        // Every reducer learns the job's report here, as on a cluster: the
        // counters record that also carries it reaches one of them only.
        let report = ctx.job.report_token();
        if !report.is_empty() {
            env.push(("mapfold_report".to_owned(), report));
        }
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let records = AtomicU64::new(0);
        let feed = tasks::Stdin::Feed(|w: &mut dyn std::io::Write| {
            let n = merge_spans(spans, w)?;
            records.store(n, Ordering::Relaxed);
            Ok(())
        });
        match tasks::run_to(&ctx.o.bins.reduce, &[], &env, feed, tasks::Out::File(file)) {
            Ok(f) if f.status.success() => {
                return Ok((attempt + 1, records.load(Ordering::Relaxed)));
            }
            Ok(f) if let Some(why) = deterministic(f.status.code()) => {
                return Err(anyhow!(
                    "reduce task {r} {why}:\n{}",
                    f.stderr_tail().trim_end()
                ));
            }
            Ok(f) => last_error = format!("{}\n{}", f.status, f.stderr_tail()),
            Err(e) => last_error = format!("{e:#}"),
        }
    }
    Err(anyhow!(
        "reduce task {r} failed {} times; last attempt:\n{}",
        ctx.o.max_attempts,
        last_error.trim_end()
    ))
}

fn manifest(
    ctx: &Ctx<'_>,
    maps: &[MapDone],
    reduces: &[ReduceDone],
    counters: &Counters,
) -> anyhow::Result<Manifest> {
    let bins = &ctx.o.bins;
    let binaries = [
        ("mapfold-map", &bins.map),
        ("mapfold-combine", &bins.combine),
        ("mapfold-reduce", &bins.reduce),
    ]
    .iter()
    .map(|(name, p)| {
        Ok(Binary {
            name: (*name).to_owned(),
            path: p.display().to_string(),
            sha256: manifest::sha256_file(p)?,
        })
    })
    .collect::<anyhow::Result<Vec<_>>>()?;
    let job = ctx.ids.job.trim_start_matches("job_");
    Ok(Manifest {
        split_size: ctx.split_size,
        maps: ctx.o.maps,
        combiner_chaos: ctx.o.chaos,
        binaries,
        inputs: ctx
            .inputs
            .iter()
            .map(|f| Input {
                path: f.path.display().to_string(),
                size: f.size,
            })
            .collect(),
        splits: ctx
            .splits
            .iter()
            .zip(maps)
            .enumerate()
            .map(|(i, (s, m))| SplitRun {
                task: format!("task_{job}_m_{i:06}"),
                file: ctx.inputs[s.file].path.display().to_string(),
                start: s.start,
                length: s.length,
                attempts: m.attempts,
                seconds: m.seconds,
                records_out: m.records_out,
                counters: counters_json(&m.counters),
            })
            .collect(),
        reduces: reduces
            .iter()
            .enumerate()
            .map(|(r, d)| ReduceRun {
                task: format!("task_{job}_r_{r:06}"),
                partition: r as u32,
                attempts: d.attempts,
                seconds: d.seconds,
                records_in: d.records_in,
                bytes_out: d.bytes_out,
                ranges: d.ranges,
            })
            .collect(),
        ..Manifest::new(
            "local",
            &ctx.ids.job,
            &ctx.o.command,
            ctx.job.map_words(),
            ctx.job.reducers,
            counters,
        )
    })
}

fn summary(m: &Manifest, out: &Path) {
    let retried = m.splits.iter().filter(|s| s.attempts > 1).count()
        + m.reduces.iter().filter(|r| r.attempts > 1).count();
    let t = &m.timings;
    eprintln!(
        "mapfold: {} succeeded in {:.2} s: {} map tasks, {} reduce tasks{} (map {:.2} s, reduce {:.2} s, commit {:.2} s)",
        m.job_id,
        t.total_seconds,
        m.splits.len(),
        m.reduces.len(),
        if retried > 0 {
            format!(", {retried} retried")
        } else {
            String::new()
        },
        t.map_seconds,
        t.reduce_seconds,
        t.commit_seconds
    );
    eprintln!("\tCounters: {}", m.counters.len());
    eprintln!("\t\tmapfold");
    for (k, v) in &m.counters {
        eprintln!("\t\t\t{k}={v}");
    }
    eprintln!("mapfold: output in {}", out.display());
}
