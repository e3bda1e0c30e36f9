//! `mapfold gen pageviews` and `mapfold gen distinct`: many-keys data sets,
//! generated deterministically (the bytes depend on the flags alone).
//!
//! `pageviews` is laid out like the public Wikimedia page-view dumps: one
//! file per hour, lines `project page_title views bytes`, space-separated.
//! Pages are drawn from a Zipf distribution over `--pages` titles (a few
//! pages get most views, most pages a handful), titles mix ASCII and UTF-8
//! words, and view counts are heavy-tailed (Pareto). `distinct` is the
//! worst case for a group-by: `id,value` with every id different.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, Zipf};

use mapfold_core::pyfloat::push_repr;

#[derive(clap::Args, Debug, Clone)]
pub struct PageViews {
    /// Directory to write `pageviews-YYYYMMDD-HH0000` files into.
    #[arg(long)]
    pub out: PathBuf,
    /// Hourly files.
    #[arg(long, default_value_t = 4)]
    pub files: u32,
    /// Lines per file.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: u64,
    /// Distinct page titles the lines are drawn from (Zipf, exponent 1).
    #[arg(long, default_value_t = 1_000_000)]
    pub pages: u64,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Distinct {
    /// File to write (`id,value` with a header).
    #[arg(long)]
    pub out: PathBuf,
    /// Rows, each with its own id.
    #[arg(long, default_value_t = 5_000_000)]
    pub rows: u64,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

const PROJECTS: [(&str, u32); 6] = [
    ("en", 50),
    ("de", 12),
    ("ja", 10),
    ("fr", 10),
    ("ru", 10),
    ("es", 8),
];

const WORDS: [&str; 16] = [
    "Main",
    "History",
    "List_of",
    "Café",
    "München",
    "東京",
    "Москва",
    "São_Paulo",
    "Zürich",
    "Ελλάδα",
    "Kraków",
    "New_York",
    "北京",
    "Łódź",
    "Rivière",
    "Data",
];

/// The title of page `rank`: stable, readable, unique per rank.
fn title(rank: u64, out: &mut Vec<u8>) {
    let mut r = rank;
    let mut parts = 0;
    loop {
        if parts > 0 {
            out.push(b'_');
        }
        out.extend_from_slice(WORDS[(r % 16) as usize].as_bytes());
        r /= 16;
        parts += 1;
        if r == 0 || parts == 3 {
            break;
        }
    }
    out.push(b'_');
    out.extend_from_slice(itoa::Buffer::new().format(rank).as_bytes());
}

/// Writes `path` through a hidden temporary, renamed when complete.
fn write_atomic(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let name = path
        .file_name()
        .context("a file name")?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let file = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    body(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let len = file.metadata()?.len();
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(len)
}

pub fn pageviews(a: &PageViews) -> anyhow::Result<(u64, u64)> {
    if a.pages == 0 || a.files == 0 || a.files > 31 * 24 {
        bail!("--pages must be at least 1, --files 1 to 744 (the hours of January)");
    }
    fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let zipf = Zipf::new(a.pages as f64, 1.0).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let weight: u32 = PROJECTS.iter().map(|p| p.1).sum();
    let (mut rows, mut bytes) = (0, 0);
    for f in 0..a.files {
        // One file per hour from 2026-01-01 00:00, as the dumps name them.
        let path = a.out.join(format!(
            "pageviews-202601{:02}-{:02}0000",
            1 + f / 24,
            f % 24
        ));
        let mut rng =
            ChaCha8Rng::seed_from_u64(a.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(f));
        bytes += write_atomic(&path, |out| {
            let mut line = Vec::with_capacity(96);
            for _ in 0..a.lines {
                line.clear();
                let mut p = rng.random_range(0..weight);
                let project = PROJECTS
                    .iter()
                    .find(|(_, w)| {
                        let hit = p < *w;
                        p = p.saturating_sub(*w);
                        hit
                    })
                    .map_or("en", |(name, _)| name);
                line.extend_from_slice(project.as_bytes());
                line.push(b' ');
                title(zipf.sample(&mut rng) as u64, &mut line);
                // Pareto views (alpha 1.2): mostly 1, a few in the millions.
                let u: f64 = rng.random_range(f64::EPSILON..1.0);
                let views = (u.powf(-1.0 / 1.2) as u64).clamp(1, 10_000_000);
                line.push(b' ');
                line.extend_from_slice(itoa::Buffer::new().format(views).as_bytes());
                line.push(b' ');
                let per_view = rng.random_range(2_000..60_000u64);
                line.extend_from_slice(itoa::Buffer::new().format(views * per_view).as_bytes());
                line.push(b'\n');
                out.write_all(&line)?;
            }
            Ok(())
        })?;
        rows += a.lines;
    }
    Ok((rows, bytes))
}

pub fn distinct(a: &Distinct) -> anyhow::Result<(u64, u64)> {
    if let Some(d) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    // i -> i * 3^18 + seed (mod 10^12) is a bijection (3^18 is coprime to
    // 10^12): every id distinct, and not in sorted order.
    let bytes = write_atomic(&a.out, |out| {
        out.write_all(b"id,value\n")?;
        let mut line = Vec::with_capacity(48);
        for i in 0..a.rows {
            line.clear();
            let id = (u128::from(i) * 387_420_489 + u128::from(a.seed)) % 1_000_000_000_000;
            line.extend_from_slice(format!("u{id:012}").as_bytes());
            line.push(b',');
            let v: f64 = StandardNormal.sample(&mut rng);
            push_repr(&mut line, v);
            line.push(b'\n');
            out.write_all(&line)?;
        }
        Ok(())
    })?;
    Ok((a.rows, bytes))
}
