//! The local runner: Hadoop streaming on one machine, with the real binaries
//! as separate processes over pipes.
//!
//! Splits are cut and read as Hadoop cuts and reads them; up to `maps` map
//! tasks run at once, each with the environment Hadoop gives a task; each
//! map output is partitioned with Hadoop's hash partitioner, sorted by key
//! bytes and combined; each partition's runs are merged and reduced into
//! `part-NNNNN`. A failed task is retried; a job that fails leaves nothing
//! behind. Output is staged in a hidden sibling directory and renamed into
//! place with `_SUCCESS` and `_mapfold.json`, so it appears whole or not at
//! all.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mapfold_core::counters::Counters;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::input::{self, InputFile};
use super::manifest::{self, Binary, Input, Manifest, ReduceRun, SplitRun, Timings};
use super::shuffle::{lines, merge, merge_files, partition_lines, sort_join, write_run};
use super::split::{self, Split};
use super::tasks::{self, TaskIds, file_uri};
use super::{Bins, Job, interrupt};

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
}

/// Runs `job` locally; returns its manifest (also written beside the output).
pub fn run(job: &Job, o: &Options) -> anyhow::Result<Manifest> {
    let t0 = Instant::now();
    let inputs = input::resolve(&job.inputs)?;
    let out = PathBuf::from(&job.output);
    if out.exists() && !o.overwrite {
        bail!(
            "output directory {} already exists; pass --overwrite to replace it, or choose another --output",
            out.display()
        );
    }
    interrupt::install();
    let staging = Staging::new(&out)?;
    let split_size = o
        .split_size
        .unwrap_or_else(|| split::default_size(&inputs, o.maps));
    let splits = split::plan(&inputs, split_size);
    let total: u64 = splits.iter().map(|s| s.length).sum();
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
        words: job.map_words(),
        bar: bar(o.quiet, total, "map"),
        shuffle: staging.dir.join(".shuffle"),
        split_size,
    };
    std::fs::create_dir(&ctx.shuffle).context("creating the shuffle directory")?;

    let maps = pool(splits.len(), o.maps, |i| map_task(&ctx, i))?;
    ctx.bar.finish_and_clear();
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

    let t_commit = Instant::now();
    std::fs::write(staging.dir.join("_SUCCESS"), b"").context("writing _SUCCESS")?;
    let mut m = manifest(&ctx, &maps, &reduces, &counters)?;
    m.timings = Timings::since(t0, t_map, t_reduce);
    m.outputs = list_outputs(&staging.dir)?;
    m.timings.commit_seconds = t_commit.elapsed().as_secs_f64();
    m.timings.total_seconds = t0.elapsed().as_secs_f64();
    m.write(&staging.dir)?;
    staging.commit()?;
    if !o.quiet {
        summary(&m, &out);
    }
    Ok(m)
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
        let env = ctx.ids.map_env(i, attempt, &uri, split.start, split.length);
        let stdin = match split::direct(input, &split) {
            Ok(Some(file)) => tasks::Stdin::File(file),
            Ok(None) => tasks::Stdin::Feed(|w: &mut dyn std::io::Write| {
                split::feed(input, &split, w, |_| {})
            }),
            Err(e) => {
                last_error = format!("opening {}: {e}", input.path.display());
                continue;
            }
        };
        let mut spill = Spill::new(ctx, i, attempt);
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
            // A usage error fails the same way every time: no retry.
            Ok(f) if f.status.code() == Some(i32::from(mapfold_core::error::USAGE_EXIT)) => {
                return Err(anyhow!(
                    "map task {i} ({}) refused the job:\n{}",
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

/// A map task's output on its way to the reducers, as Hadoop's map side
/// handles it: lines are buffered up to the task's share of
/// `--sort-memory`, then partitioned, sorted, combined and written as run
/// files (a spill), so memory stays bounded whatever the output's size.
struct Spill<'c, 'a> {
    ctx: &'c Ctx<'a>,
    task: usize,
    attempt: u32,
    /// Whole lines not yet spilled, and a partial last line.
    pending: Vec<u8>,
    carry: Vec<u8>,
    budget: usize,
    runs: Vec<Vec<PathBuf>>,
    spills: usize,
    records: u64,
    rng: Option<ChaCha8Rng>,
}

impl<'c, 'a> Spill<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>, task: usize, attempt: u32) -> Self {
        let rng = ctx.o.chaos.map(|seed| {
            ChaCha8Rng::seed_from_u64(seed ^ (task as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        });
        Self {
            ctx,
            task,
            attempt,
            pending: Vec::new(),
            carry: Vec::new(),
            budget: (ctx.o.sort_memory / ctx.o.maps.max(1)).max(1 << 20),
            runs: vec![Vec::new(); ctx.job.reducers as usize],
            spills: 0,
            records: 0,
            rng,
        }
    }

    fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let Some(last_nl) = chunk.iter().rposition(|&b| b == b'\n') else {
            self.carry.extend_from_slice(chunk);
            return Ok(());
        };
        self.pending.append(&mut self.carry);
        self.pending.extend_from_slice(&chunk[..=last_nl]);
        self.carry.extend_from_slice(&chunk[last_nl + 1..]);
        if self.pending.len() >= self.budget {
            self.spill().map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// Sorts, combines and writes what is pending as one run per partition.
    fn spill(&mut self) -> anyhow::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.records += lines(&self.pending).count() as u64;
        let parts = map_side(
            self.ctx,
            partition_lines(&self.pending, self.ctx.job.reducers),
            self.rng.as_mut(),
        )?;
        for (r, data) in parts.iter().enumerate() {
            if data.is_empty() {
                continue;
            }
            let p = self.ctx.shuffle.join(format!(
                "m{:05}-a{}-s{:05}-r{r:05}",
                self.task, self.attempt, self.spills
            ));
            write_run(&p, data).with_context(|| format!("writing {}", p.display()))?;
            self.runs[r].push(p);
        }
        self.spills += 1;
        self.pending.clear();
        Ok(())
    }

    /// Spills the rest; returns the run files per reducer and the records
    /// the task wrote.
    fn finish(mut self) -> anyhow::Result<(Vec<Vec<PathBuf>>, u64)> {
        if !self.carry.is_empty() {
            let mut last = std::mem::take(&mut self.carry);
            last.push(b'\n');
            self.pending.extend_from_slice(&last);
        }
        self.spill()?;
        Ok((self.runs, self.records))
    }
}

/// Sorts and combines each partition of one map output, the way Hadoop's
/// map side does; with chaos, cuts it into random spills and runs the
/// combiner zero to several times on each.
fn map_side(
    ctx: &Ctx<'_>,
    parts: Vec<Vec<&[u8]>>,
    mut rng: Option<&mut ChaCha8Rng>,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(parts.len());
    for ls in parts {
        if ls.is_empty() {
            out.push(Vec::new());
            continue;
        }
        let Some(rng) = rng.as_deref_mut() else {
            out.push(combine(ctx, &sort_join(ls))?);
            continue;
        };
        let spills = rng.random_range(1..=3usize).min(ls.len());
        let mut cuts: Vec<usize> = (0..spills - 1)
            .map(|_| rng.random_range(0..=ls.len()))
            .collect();
        cuts.extend([0, ls.len()]);
        cuts.sort_unstable();
        let mut runs = Vec::new();
        for w in cuts.windows(2) {
            let mut run = sort_join(ls[w[0]..w[1]].to_vec());
            for _ in 0..rng.random_range(0..=2) {
                run = combine(ctx, &run)?;
            }
            runs.push(run);
        }
        let mut merged = merge(&runs);
        if rng.random_bool(0.5) {
            merged = combine(ctx, &merged)?;
        }
        out.push(merged);
    }
    Ok(out)
}

fn combine(ctx: &Ctx<'_>, sorted: &[u8]) -> anyhow::Result<Vec<u8>> {
    if sorted.is_empty() {
        return Ok(Vec::new());
    }
    let f = tasks::run(&ctx.o.bins.combine, &[], &[], |w| w.write_all(sorted))?;
    if !f.status.success() {
        bail!("{}\n{}", f.status, f.stderr_tail());
    }
    Ok(f.stdout)
}

fn reduce_task(ctx: &Ctx<'_>, r: u32, runs: &[PathBuf], dir: &Path) -> anyhow::Result<ReduceDone> {
    let t0 = Instant::now();
    let runs = match ctx.o.chaos {
        None => runs.to_vec(),
        Some(seed) => chaos_merges(ctx, r, runs, seed)?,
    };
    let name = format!("part-{r:05}");
    let path = dir.join(&name);
    let mut last_error = String::new();
    for attempt in 0..ctx.o.max_attempts {
        let env = ctx.ids.reduce_env(r, attempt);
        let file = std::fs::File::create(&path).with_context(|| format!("creating {name}"))?;
        let records = AtomicU64::new(0);
        let feed = tasks::Stdin::Feed(|w: &mut dyn std::io::Write| {
            let n = merge_files(&runs, w)?;
            records.store(n, Ordering::Relaxed);
            Ok(())
        });
        match tasks::run_to(&ctx.o.bins.reduce, &[], &env, feed, tasks::Out::File(file)) {
            Ok(f) if f.status.success() => {
                return Ok(ReduceDone {
                    attempts: attempt + 1,
                    seconds: t0.elapsed().as_secs_f64(),
                    records_in: records.load(Ordering::Relaxed),
                    bytes_out: std::fs::metadata(&path)
                        .with_context(|| format!("reading {name}"))?
                        .len(),
                });
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

/// Reduce-side merges as Hadoop may do them: random groups of the map
/// outputs, each merged and combined zero to two times, as new runs.
fn chaos_merges(
    ctx: &Ctx<'_>,
    r: u32,
    runs: &[PathBuf],
    seed: u64,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ 0x5EED ^ u64::from(r).wrapping_mul(0xA24B_AED4_963E_E407));
    let mut order = runs.to_vec();
    order.shuffle(&mut rng);
    let mut merged = Vec::new();
    while !order.is_empty() {
        let take = rng.random_range(1..=3usize).min(order.len());
        let group: Vec<PathBuf> = order.drain(..take).collect();
        let mut run = Vec::new();
        merge_files(&group, &mut run)?;
        for _ in 0..rng.random_range(0..=2) {
            run = combine(ctx, &run)?;
        }
        let p = ctx.shuffle.join(format!("r{r:05}-g{:05}", merged.len()));
        write_run(&p, &run)?;
        merged.push(p);
    }
    Ok(merged)
}

/// The line counters carried under the empty key in the part files.
pub(crate) fn counters_in_parts(dir: &Path, reducers: u32) -> anyhow::Result<Counters> {
    let mut c = Counters::default();
    for r in 0..reducers {
        let p = dir.join(format!("part-{r:05}"));
        // A line at a time: part files can be far larger than memory.
        let mut reader = std::io::BufReader::new(
            std::fs::File::open(&p).with_context(|| format!("reading {}", p.display()))?,
        );
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = std::io::BufRead::read_until(&mut reader, b'\n', &mut line)
                .with_context(|| format!("reading {}", p.display()))?;
            if n == 0 {
                break;
            }
            if line.first() == Some(&b'\t') {
                c.merge(&counters_in_output(&line)?)
                    .map_err(anyhow::Error::msg)?;
            }
        }
    }
    Ok(c)
}

/// The line counters in reducer output (the records under the empty key).
pub(crate) fn counters_in_output(data: &[u8]) -> anyhow::Result<Counters> {
    let mut c = Counters::default();
    for l in lines(data) {
        let Some(json) = l.strip_prefix(b"\t") else {
            continue;
        };
        let v: serde_json::Value =
            serde_json::from_slice(json).context("parsing the counters record")?;
        let get = |k: &str| v["counters"][k].as_u64().unwrap_or(0);
        c.merge(&Counters {
            blank: get("blank"),
            header: get("header"),
            malformed: get("malformed"),
            filtered: get("filtered"),
            missing: get("missing"),
            nonfinite: get("nonfinite"),
            used: get("used"),
        })
        .map_err(anyhow::Error::msg)?;
    }
    Ok(c)
}

pub(crate) fn counters_json(c: &Counters) -> serde_json::Map<String, serde_json::Value> {
    match c.to_json() {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
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
        mapfold_version: env!("CARGO_PKG_VERSION").to_owned(),
        runner: "local".into(),
        job_id: ctx.ids.job.clone(),
        command: ctx.o.command.clone(),
        mapper_args: ctx.words.clone(),
        reducers: ctx.job.reducers,
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
            })
            .collect(),
        counters: counters_json(counters),
        ..Manifest::default()
    })
}

pub(crate) fn list_outputs(dir: &Path) -> anyhow::Result<Vec<Input>> {
    let mut v: Vec<Input> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let size = e.metadata().ok()?.len();
            Some(Input {
                path: e.file_name().to_string_lossy().into_owned(),
                size,
            })
        })
        .collect();
    v.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(v)
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

/// A hidden sibling of the output directory where tasks write; renamed into
/// place on commit, removed otherwise.
pub(crate) struct Staging {
    pub(crate) dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    pub(crate) fn new(out: &Path) -> anyhow::Result<Self> {
        let name = out
            .file_name()
            .context("--output needs a directory name")?
            .to_string_lossy()
            .into_owned();
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let dir = parent.join(format!(".{name}.mapfold-staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        interrupt::staging(dir.clone());
        Ok(Self {
            dir,
            out: out.to_path_buf(),
            committed: false,
        })
    }

    /// Makes the staged output durable (every file and the directory
    /// fsynced), then renames it into place. An existing output (with
    /// `--overwrite`) is first moved to a backup name no other run uses,
    /// restored if the new output cannot be renamed in, and removed only
    /// once the new one is in place.
    pub(crate) fn commit(mut self) -> anyhow::Result<()> {
        sync_tree(&self.dir)?;
        let dir = self.dir.clone();
        interrupt::committing(&dir, || self.swap())
    }

    fn swap(&mut self) -> anyhow::Result<()> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let old = self
            .dir
            .with_extension(format!("old-{}-{nanos}", std::process::id()));
        let had_old = self.out.exists();
        if had_old {
            std::fs::rename(&self.out, &old)
                .with_context(|| format!("moving the old {} aside", self.out.display()))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.out) {
            if had_old && let Err(back) = std::fs::rename(&old, &self.out) {
                return Err(anyhow!(
                    "committing to {} failed ({e}), and restoring the old output failed too \
                     ({back}): it is in {}",
                    self.out.display(),
                    old.display()
                ));
            }
            return Err(e).with_context(|| format!("committing to {}", self.out.display()));
        }
        self.committed = true;
        if let Some(parent) = self.out.parent() {
            sync_dir(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })?;
        }
        if had_old {
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("removing the old output {}", old.display()))?;
        }
        Ok(())
    }
}

/// fsyncs every file in `dir` and then `dir` itself.
fn sync_tree(dir: &Path) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let p = e?.path();
        if p.is_file() {
            std::fs::File::open(&p)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("syncing {}", p.display()))?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
            interrupt::forget(&self.dir);
        }
    }
}
