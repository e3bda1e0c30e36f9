//! `mapfold gen weather`: the reference data set, generated deterministically.
//!
//! One `<country>.csv` per country, header first, rows ordered by town, year,
//! month; precip and temp are standard-normal draws written like Python's
//! `repr`. Each country has its own random stream (ChaCha8, seeded from
//! `--seed` and the country), so the bytes depend on the flags alone, never
//! on the machine or the thread count. Countries are generated in parallel
//! on all cores; each file appears atomically (written aside, then renamed).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use mapfold_core::pyfloat::push_repr;

/// Generate a data set: weather (few keys), page views or distinct ids
/// (many keys).
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(subcommand)]
    pub kind: Kind,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum Kind {
    /// country,town,year,month,precip,temp: one file per country. The
    /// defaults give the full 288,000,000-row (about 14 GB) set.
    Weather(Weather),
    /// `project page_title views bytes` in hourly files, as the Wikimedia
    /// page-view dumps: Zipf pages, UTF-8 titles, heavy-tailed views.
    Pageviews(super::gen_keys::PageViews),
    /// `id,value` with every id different: the worst case for a group-by.
    Distinct(super::gen_keys::Distinct),
    /// Random points as a binary array, raw (for `np.memmap`) and `.npy`:
    /// 100 million by default.
    Points(super::gen_points::Points),
    /// `time,path,status,latency_ms`: a web server's requests over 2025,
    /// in time order, for time-bucket keys (`--key 'day(time)'`).
    Requests(super::gen_requests::Requests),
}

#[derive(clap::Args, Debug, Clone)]
pub struct Weather {
    /// Directory to write `<country>.csv` files into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Countries: one file each.
    #[arg(long, default_value_t = 200)]
    pub countries: u32,
    /// Towns per country (12 rows per town and year).
    #[arg(long, default_value_t = 1000)]
    pub towns: u32,
    /// Inclusive year range FIRST:LAST.
    #[arg(long, default_value = "1894:2013")]
    pub years: String,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub const HEADER: &str = "country,town,year,month,precip,temp";

pub fn run(a: &Args) -> anyhow::Result<()> {
    let (rows, bytes, to) = match &a.kind {
        Kind::Weather(w) => return run_weather(w),
        Kind::Pageviews(p) => {
            let (r, b) = super::gen_keys::pageviews(p)?;
            (r, b, p.out.clone())
        }
        Kind::Distinct(d) => {
            let (r, b) = super::gen_keys::distinct(d)?;
            (r, b, d.out.clone())
        }
        Kind::Points(p) => (p.n, 2 * super::gen_points::points(p)?, p.out.clone()),
        Kind::Requests(q) => {
            let (r, b) = super::gen_requests::requests(q)?;
            (r, b, q.out.clone())
        }
    };
    eprintln!(
        "wrote {rows} rows, {:.1} MB, to {}",
        bytes as f64 / 1e6,
        to.display()
    );
    Ok(())
}

fn run_weather(w: &Weather) -> anyhow::Result<()> {
    let stats = weather(w)?;
    if !w.quiet {
        eprintln!(
            "wrote {} rows, {:.1} MB, in {} files to {} ({:.0} MB/s)",
            stats.rows,
            stats.bytes as f64 / 1e6,
            w.countries,
            w.out.display(),
            stats.bytes as f64 / 1e6 / stats.seconds.max(1e-9)
        );
    }
    Ok(())
}

/// What [`weather`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct GenStats {
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
}

fn parse_years(s: &str) -> anyhow::Result<(u32, u32)> {
    let (a, b) = s
        .split_once(':')
        .with_context(|| format!("--years {s:?}: expected FIRST:LAST, e.g. 1894:2013"))?;
    let (a, b): (u32, u32) = (a.trim().parse()?, b.trim().parse()?);
    if a > b {
        bail!("--years {s:?}: FIRST must not be after LAST");
    }
    Ok((a, b))
}

/// Generates the weather data set described by `w`.
pub fn weather(w: &Weather) -> anyhow::Result<GenStats> {
    let (y0, y1) = parse_years(&w.years)?;
    fs::create_dir_all(&w.out).with_context(|| format!("creating {}", w.out.display()))?;
    let rows_per_country = u64::from(w.towns) * u64::from(y1 - y0 + 1) * 12;
    let total = rows_per_country * u64::from(w.countries);
    let bar = if w.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} gen weather [{bar:30}] {human_pos}/{human_len} rows, {msg} ({eta})",
        )
        .map_err(anyhow::Error::msg)?
        .progress_chars("=> "),
    );
    let threads = w
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let next = AtomicUsize::new(0);
    let bytes = AtomicU64::new(0);
    let start = Instant::now();
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let c = next.fetch_add(1, Ordering::Relaxed);
                        if c >= w.countries as usize {
                            return Ok(());
                        }
                        let n = country(&w.out, c as u32, w, (y0, y1), &bar)?;
                        let total = bytes.fetch_add(n, Ordering::Relaxed) + n;
                        bar.set_message(format!("{:.0} MB", total as f64 / 1e6));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a generator thread panicked")))
            })
            .collect()
    });
    bar.finish_and_clear();
    for r in results {
        r?;
    }
    Ok(GenStats {
        rows: total,
        bytes: bytes.load(Ordering::Relaxed),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Writes one country's file; returns its size.
fn country(
    dir: &Path,
    c: u32,
    w: &Weather,
    (y0, y1): (u32, u32),
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    let path = dir.join(format!("{c}.csv"));
    let tmp = dir.join(format!(".{c}.csv.tmp"));
    let file = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rng =
        ChaCha8Rng::seed_from_u64(w.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(c));
    let mut line = Vec::with_capacity(128);
    let mut written = 0u64;
    let mut itoa = itoa::Buffer::new();
    writeln!(out, "{HEADER}")?;
    written += HEADER.len() as u64 + 1;
    let cprefix = format!("{c},");
    for town in 0..w.towns {
        let mut prefix = cprefix.clone().into_bytes();
        prefix.extend_from_slice(itoa.format(town).as_bytes());
        prefix.push(b',');
        for year in y0..=y1 {
            for month in 1..=12u32 {
                line.clear();
                line.extend_from_slice(&prefix);
                line.extend_from_slice(itoa.format(year).as_bytes());
                line.push(b',');
                line.extend_from_slice(itoa.format(month).as_bytes());
                line.push(b',');
                let precip: f64 = StandardNormal.sample(&mut rng);
                let temp: f64 = StandardNormal.sample(&mut rng);
                push_repr(&mut line, precip);
                line.push(b',');
                push_repr(&mut line, temp);
                line.push(b'\n');
                out.write_all(&line)?;
                written += line.len() as u64;
            }
        }
        bar.inc(u64::from(y1 - y0 + 1) * 12);
    }
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(written)
}
