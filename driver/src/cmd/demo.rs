//! `mapfold demo`: the README's first command. Generates a small weather
//! data set, runs the overall and the per-year job on the local runner,
//! prints what came out, and plots it.

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
    Ok(Job {
        job: JobArgs::from_words(&words).map_err(anyhow::Error::msg)?,
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
    let outs = a.dir.join("out");
    let mut jobs = [
        ("overall", job("temp", &[], &data, &outs.join("temp"))?),
        (
            "per year",
            job("temp", &["year"], &data, &outs.join("temp-by-year"))?,
        ),
    ];
    for (what, j) in &mut jobs {
        super::run::check_local_inputs(&mut j.job, &j.inputs, false)?;
        eprintln!(
            "\nmapfold demo: {what}: mapfold run --input {} --output {} {}",
            j.inputs[0],
            j.output,
            j.job.to_words().join(" ")
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
        if let Some(line) = part.lines().find(|l| l.starts_with("*\t")) {
            let v: serde_json::Value = serde_json::from_str(&line[2..])?;
            println!(
                "  temp: count {} mean {} stddev {} min {} max {}",
                v["count"], v["mean"], v["stddev"], v["min"], v["max"]
            );
        }
    }
    let plots = a.dir.join("plots");
    std::fs::create_dir_all(&plots)?;
    for (dir, name, fit) in [
        ("temp", "temp-hist", true),
        ("temp-by-year", "temp-by-year", false),
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
