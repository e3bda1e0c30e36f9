//! `mapfold gen requests`: a web server's request log over a year, as a
//! CSV with a timestamp column (`time,path,status,latency_ms`), for jobs
//! that group by time buckets (`--key 'day(time)'`). Latency is
//! log-normal, slower in the busy hours of the day and on weekdays, with a
//! slow release in March and a regression in October that a daily median
//! shows; rows are in time order, drawn in blocks of a day from streams
//! seeded by `--seed` and the day, so the bytes depend on the flags alone.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use mapfold_core::derive::civil;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

#[derive(clap::Args, Debug, Clone)]
pub struct Requests {
    /// Directory to write `requests.csv` into.
    #[arg(long)]
    pub out: PathBuf,
    /// Rows (requests), spread over the 365 days of 2025.
    #[arg(long, default_value_t = 2_000_000)]
    pub n: u64,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

const PATHS: [&str; 8] = [
    "/",
    "/search",
    "/item",
    "/cart",
    "/checkout",
    "/login",
    "/api/v1/items",
    "/static/app.js",
];
/// Relative traffic of each path.
const WEIGHTS: [u32; 8] = [30, 20, 25, 8, 3, 5, 6, 3];
/// 2025-01-01 in days since 1970.
const FIRST_DAY: i64 = 20_089;

/// Writes `requests.csv`; returns (rows, bytes).
pub fn requests(r: &Requests) -> anyhow::Result<(u64, u64)> {
    std::fs::create_dir_all(&r.out).with_context(|| format!("creating {}", r.out.display()))?;
    let path = r.out.join("requests.csv");
    let tmp = r
        .out
        .join(format!(".requests.csv.tmp{}", std::process::id()));
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut bytes = 0u64;
    let head = "time,path,status,latency_ms\n";
    w.write_all(head.as_bytes())?;
    bytes += head.len() as u64;
    for day in 0..365u64 {
        // The day's share of the rows, as even as integers allow.
        let n = r.n * (day + 1) / 365 - r.n * day / 365;
        let text = one_day(r.seed, day as i64, n);
        w.write_all(text.as_bytes())?;
        bytes += text.len() as u64;
    }
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok((r.n, bytes))
}

/// The rows of day `day` of 2025, in time order.
fn one_day(seed: u64, day: i64, n: u64) -> String {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (day as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (y, m, d) = civil(FIRST_DAY + day);
    // Monday is 0.
    let weekday = (FIRST_DAY + day + 3).rem_euclid(7);
    let weekend = weekday >= 5;
    // A slow release from March 10th to 24th, a lasting regression from
    // October 6th.
    let shift = if (68..83).contains(&day) {
        0.35
    } else if day >= 278 {
        0.2
    } else {
        0.0
    };
    let total: u32 = WEIGHTS.iter().sum();
    let mut seconds: Vec<u32> = (0..n).map(|_| rng.random_range(0..86_400)).collect();
    seconds.sort_unstable();
    let mut out = String::with_capacity(n as usize * 48);
    for s in seconds {
        let hour = s / 3600;
        // Busy hours (9 to 17) are slower; weekends quieter and faster.
        let busy = if (9..18).contains(&hour) { 0.25 } else { 0.0 };
        let mu = 3.4 + shift + busy - if weekend { 0.15 } else { 0.0 };
        let latency = LogNormal::new(mu, 0.6).map_or(30.0, |l| l.sample(&mut rng));
        let mut pick = rng.random_range(0..total);
        let p = WEIGHTS
            .iter()
            .position(|&w| {
                if pick < w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .unwrap_or(0);
        let status = match rng.random_range(0..1000) {
            0..=4 => 500,
            5..=24 => 404,
            25..=34 => 302,
            _ => 200,
        };
        let _ = writeln!(
            out,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{},{status},{:.1}",
            hour,
            s / 60 % 60,
            s % 60,
            PATHS[p],
            latency
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_year_starts_on_a_wednesday() {
        assert_eq!(mapfold_core::derive::days(2025, 1, 1), super::FIRST_DAY);
        assert_eq!((super::FIRST_DAY + 3).rem_euclid(7), 2);
    }
}
