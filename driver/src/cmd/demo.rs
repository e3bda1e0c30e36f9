//! `mapfold demo`: the README's first command. Generates a small weather
//! data set and a year of web requests, runs the overall and the per-year
//! weather jobs and the per-week and per-path request jobs on the local
//! runner, prints what came out as tables, and plots it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mapfold_core::cli::JobArgs;

use super::generate::{self, Weather};
use crate::runner::{Bins, Job, local};

/// Generate demo data, run two jobs locally, summarise and plot them.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Working directory for data, outputs and plots.
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// Countries to generate (8 countries of 500 towns: about 300 MB).
    #[arg(long, default_value_t = 8)]
    pub countries: u32,
    /// Towns per country.
    #[arg(long, default_value_t = 500)]
    pub towns: u32,
    /// Directory holding the streaming binaries (default: beside this program).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
}

fn job(value: &str, key: &[&str], data: &Path, out: &Path) -> anyhow::Result<Job> {
    let mut words = vec!["--value".to_owned(), value.to_owned()];
    if !key.is_empty() {
        words.extend(["--key".to_owned(), key.join(",")]);
    }
    words.extend([
        "--schema".to_owned(),
        generate::HEADER.to_owned(),
        "--hist=-5:5:100".to_owned(),
    ]);
    job_of(&words, data, out)
}

fn job_of(words: &[String], data: &Path, out: &Path) -> anyhow::Result<Job> {
    Ok(Job {
        job: JobArgs::from_words(words).map_err(anyhow::Error::msg)?,
        inputs: vec![data.display().to_string()],
        recursive: false,
        output: out.display().to_string(),
        reducers: 1,
    })
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let data = a.dir.join("data");
    let marker = a
        .dir
        .join(format!("data/.complete-{}x{}", a.countries, a.towns));
    if !marker.exists() {
        if data.exists() {
            std::fs::remove_dir_all(&data)
                .with_context(|| format!("clearing {}", data.display()))?;
        }
        eprintln!(
            "mapfold demo: generating {} countries x {} towns x 120 years x 12 months into {}",
            a.countries,
            a.towns,
            data.display()
        );
        generate::weather(&Weather {
            out: data.clone(),
            countries: a.countries,
            towns: a.towns,
            years: "1894:2013".into(),
            seed: 0,
            threads: None,
            quiet: false,
        })?;
        std::fs::write(&marker, b"")?;
    }
    let opts = local::Options {
        sort_memory: 128 << 20,
        maps: std::thread::available_parallelism().map_or(1, usize::from),
        split_size: None,
        max_attempts: 4,
        chaos: None,
        bins: Bins::find(a.bin_dir.as_deref())?,
        overwrite: true,
        quiet: false,
        command: std::env::args().collect(),
    };
    let requests = a.dir.join("requests");
    if !requests.join("requests.csv").exists() {
        eprintln!(
            "mapfold demo: generating a year of web requests into {}",
            requests.display()
        );
        super::gen_requests::requests(&super::gen_requests::Requests {
            out: requests.clone(),
            n: 1_000_000,
            seed: 0,
        })?;
    }
    let outs = a.dir.join("out");
    let words = |w: &str| w.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let mut jobs = [
        ("overall", job("temp", &[], &data, &outs.join("temp"))?),
        (
            "per year",
            job("temp", &["year"], &data, &outs.join("temp-by-year"))?,
        ),
        (
            "latency per week",
            job_of(
                &words("--value latency_ms --key week(time) --quantiles 0.05,0.25,0.5,0.75,0.95"),
                &requests,
                &outs.join("latency-by-week"),
            )?,
        ),
        (
            "latency per path",
            job_of(
                &words("--value latency_ms --key path --quantiles 0.5,0.99 --where status==200"),
                &requests,
                &outs.join("latency-by-path"),
            )?,
        ),
    ];
    for (what, j) in &mut jobs {
        super::run::check_local_inputs(&mut j.job, &j.inputs, false)?;
        eprintln!(
            "\nmapfold demo: {what}: mapfold run --input {} --output {} {}",
            j.inputs[0],
            j.output,
            j.job
                .to_words()
                .iter()
                .map(|w| mapfold_core::cli::shell_word(w))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let t = Instant::now();
        let m = local::run(j, &opts)?;
        let mb = m.inputs.iter().map(|i| i.size).sum::<u64>() as f64 / 1e6;
        let secs = t.elapsed().as_secs_f64();
        let part = std::fs::read_to_string(Path::new(&j.output).join("part-00000"))?;
        let groups = part.lines().filter(|l| !l.starts_with('\t')).count();
        println!(
            "{what}: {mb:.0} MB in {secs:.2} s ({:.0} MB/s), {groups} groups",
            mb / secs
        );
        super::show::print_head(Path::new(&j.output), 8)?;
    }
    let plots = a.dir.join("plots");
    std::fs::create_dir_all(&plots)?;
    for (dir, name, fit) in [
        ("temp", "temp-hist", true),
        ("temp-by-year", "temp-by-year", false),
        ("latency-by-week", "latency-by-week", false),
    ] {
        for ext in ["png", "svg"] {
            let o = crate::plot::Options {
                fit_normal: fit,
                ..crate::plot::Options::default()
            };
            crate::plot::render(&outs.join(dir), &plots.join(format!("{name}.{ext}")), &o)?;
        }
    }
    println!(
        "\noutputs in {}, plots in {}",
        outs.display(),
        plots.display()
    );
    Ok(())
}
