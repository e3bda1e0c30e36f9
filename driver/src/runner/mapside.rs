//! The map side of the local runner's shuffle, as Hadoop's: a map task's
//! output is buffered up to its share of `--sort-memory`, then partitioned,
//! sorted, combined and spilled as run files; with `--combiner-chaos` the
//! combiner also runs zero to several times at random points, map side and
//! reduce side, to show that results do not change.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use mapfold_core::partition::partition;

use super::keysort::{Line, key, sort_lines};
use super::shuffle::{merge, merge_files, sort_join, write_run};
use super::tasks;

/// What the map side of a job needs to know: how it spills, where, and
/// with which combiner.
pub(super) struct Side<'a> {
    /// Seed of `--chaos` (random extra combines and merge orders).
    pub(super) chaos: Option<u64>,
    /// Bytes a task buffers before it spills.
    pub(super) budget: usize,
    pub(super) reducers: u32,
    /// Where the sorted run files wait for the reducers.
    pub(super) shuffle: &'a Path,
    pub(super) combine: &'a Path,
}

/// A map task's output on its way to the reducers, as Hadoop's map side
/// handles it: lines are buffered up to the task's share of
/// `--sort-memory`, then partitioned, sorted, combined and written as run
/// files (a spill), so memory stays bounded whatever the output's size.
pub(super) struct Spill<'c, 'a> {
    ctx: &'c Side<'a>,
    task: usize,
    attempt: u32,
    /// Whole lines not yet spilled, and a partial last line.
    pending: Vec<u8>,
    carry: Vec<u8>,
    /// Lines in `pending`, whose sort index shares the budget.
    lines: usize,
    budget: usize,
    runs: Vec<Vec<PathBuf>>,
    spills: usize,
    records: u64,
    rng: Option<ChaCha8Rng>,
}

impl<'c, 'a> Spill<'c, 'a> {
    pub(super) fn new(ctx: &'c Side<'a>, task: usize, attempt: u32) -> Self {
        let rng = ctx.chaos.map(|seed| {
            ChaCha8Rng::seed_from_u64(seed ^ (task as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        });
        Self {
            ctx,
            task,
            attempt,
            pending: Vec::new(),
            carry: Vec::new(),
            lines: 0,
            budget: ctx.budget,
            runs: vec![Vec::new(); ctx.reducers as usize],
            spills: 0,
            records: 0,
            rng,
        }
    }

    pub(super) fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let Some(last_nl) = chunk.iter().rposition(|&b| b == b'\n') else {
            self.carry.extend_from_slice(chunk);
            return Ok(());
        };
        self.lines += memchr::memchr_iter(b'\n', &chunk[..=last_nl]).count();
        self.pending.append(&mut self.carry);
        self.pending.extend_from_slice(&chunk[..=last_nl]);
        self.carry.extend_from_slice(&chunk[last_nl + 1..]);
        if self.pending.len() + self.lines * std::mem::size_of::<Line>() >= self.budget {
            self.spill().map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// Sorts, combines and writes what is pending as one run per partition.
    fn spill(&mut self) -> anyhow::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let name = |r: usize| {
            self.ctx.shuffle.join(format!(
                "m{:05}-a{}-s{:05}-r{r:05}",
                self.task, self.attempt, self.spills
            ))
        };
        let buf = &self.pending;
        if u32::try_from(buf.len()).is_err() {
            bail!("a map output line of over 4 GiB");
        }
        let mut parts = vec![Vec::new(); self.ctx.reducers as usize];
        let mut at = 0;
        for nl in memchr::memchr_iter(b'\n', buf) {
            let k = key(&buf[at..nl]);
            // In range: the buffer is under 4 GiB.
            parts[partition(k, self.ctx.reducers) as usize].push(Line::new(
                at as u32,
                k.len() as u32,
                (nl - at) as u32,
            ));
            at = nl + 1;
        }
        self.records += parts.iter().map(|p| p.len() as u64).sum::<u64>();
        if let Some(rng) = self.rng.as_mut() {
            let parts = parts
                .iter()
                .map(|ls| ls.iter().map(|l| l.text(buf)).collect())
                .collect();
            let parts = chaos_map_side(self.ctx, parts, rng)?;
            for (r, data) in parts.iter().enumerate().filter(|(_, d)| !d.is_empty()) {
                let p = name(r);
                write_run(&p, data).with_context(|| format!("writing {}", p.display()))?;
                self.runs[r].push(p);
            }
        } else {
            for (r, mut ls) in parts.into_iter().enumerate().filter(|(_, l)| !l.is_empty()) {
                let p = name(r);
                sort_combine_write(self.ctx, buf, &mut ls, &p)
                    .with_context(|| format!("writing {}", p.display()))?;
                self.runs[r].push(p);
            }
        }
        self.spills += 1;
        self.pending.clear();
        self.lines = 0;
        Ok(())
    }

    /// Spills the rest; returns the run files per reducer and the records
    /// the task wrote.
    pub(super) fn finish(mut self) -> anyhow::Result<(Vec<Vec<PathBuf>>, u64)> {
        if !self.carry.is_empty() {
            let mut last = std::mem::take(&mut self.carry);
            last.push(b'\n');
            self.pending.extend_from_slice(&last);
        }
        self.spill()?;
        Ok((self.runs, self.records))
    }
}

/// Sorts one partition of a spill and writes it as a run file, through the
/// combiner when at least two thirds of its lines repeat a key (streamed
/// in and out: no sorted copy in memory). Hadoop may run the combiner zero
/// times; with fewer repeats it costs more than it saves, as it decodes and
/// re-encodes every record to spare the reducer the decoding of the
/// repeats: on all-distinct keys it was a third of the job's time, on page
/// views (35% repeats) skipping it took the job from 0.72-0.75 to
/// 0.65-0.68 s (four runs each).
fn sort_combine_write(
    ctx: &Side<'_>,
    buf: &[u8],
    ls: &mut [Line],
    path: &Path,
) -> anyhow::Result<()> {
    sort_lines(ls, buf);
    let write_lines = |w: &mut dyn Write| -> std::io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 16, w);
        for l in ls.iter() {
            // The line and its newline.
            w.write_all(l.with_newline(buf))?;
        }
        w.flush()
    };
    let file = File::create(path)?;
    // Evenly spaced neighbours, at most 4,096 pairs, not every line's key
    // compared with the next.
    let step = (ls.len() / 4096).max(1);
    let (pairs, repeats) = ls.windows(2).step_by(step).fold((0, 0), |(n, r), w| {
        (n + 1, r + usize::from(w[0].key(buf) == w[1].key(buf)))
    });
    if pairs == 0 || repeats * 3 < pairs * 2 {
        let mut f = file;
        return Ok(write_lines(&mut f)?);
    }
    let f = tasks::run_to(
        ctx.combine,
        &[],
        &[],
        tasks::Stdin::Feed(write_lines),
        tasks::Out::File(file),
    )?;
    if !f.status.success() {
        bail!("{}\n{}", f.status, f.stderr_tail());
    }
    Ok(())
}

/// Sorts each partition of a spill, cut into random pieces, each combined
/// zero to several times, then merged and maybe combined again: the
/// schedules Hadoop may choose, to show that results do not change.
fn chaos_map_side(
    ctx: &Side<'_>,
    parts: Vec<Vec<&[u8]>>,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(parts.len());
    for ls in parts {
        if ls.is_empty() {
            out.push(Vec::new());
            continue;
        }
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

pub(super) fn combine(ctx: &Side<'_>, sorted: &[u8]) -> anyhow::Result<Vec<u8>> {
    if sorted.is_empty() {
        return Ok(Vec::new());
    }
    let f = tasks::run(ctx.combine, &[], &[], |w| w.write_all(sorted))?;
    if !f.status.success() {
        bail!("{}\n{}", f.status, f.stderr_tail());
    }
    Ok(f.stdout)
}

/// Reduce-side merges as Hadoop may do them: random groups of the map
/// outputs, each merged and combined zero to two times, as new runs.
pub(super) fn chaos_merges(
    ctx: &Side<'_>,
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
