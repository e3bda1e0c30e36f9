//! Helpers: find the built binaries, run bash pipelines with them on PATH,
//! read reducer output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The directory holding the workspace's built binaries (target/debug).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf();
    for b in [
        "mapfold-map",
        "mapfold-combine",
        "mapfold-reduce",
        "mapfold",
    ] {
        assert!(
            dir.join(b).exists(),
            "{} is not built; run `cargo build --workspace --bins` first (scripts/test does)",
            dir.join(b).display()
        );
    }
    dir
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// Runs `script` under `bash -o pipefail` in the workspace root with the
/// binaries first on PATH.
pub fn bash(script: &str) -> Output {
    bash_env(script, &[])
}

pub fn bash_env(script: &str, env: &[(&str, &str)]) -> Output {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new("bash");
    c.args(["-o", "pipefail", "-c", script])
        .current_dir(root())
        .env("PATH", path)
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("bash runs")
}

/// The Python the tests run their writers and stand-ins with: the venv
/// `scripts/test` makes (moto, zstandard, vega_datasets), or `python3`.
pub fn python() -> String {
    std::env::var("MAPFOLD_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A new directory with the files the Python program `script` writes
/// there (`script ARGS DIR`): the tests' independent writers.
pub fn written_by(script: &str, args: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    ok(&format!(
        "{} {script} {args} {}",
        python(),
        d.path().display()
    ));
    d
}

/// `PATH=...` that puts the test Hadoop (tests/fake-hadoop) first, and
/// the test Python beside it: the start of a command that runs
/// `mapfold run --runner hadoop` against the stand-in.
pub fn fake_hadoop_path() -> String {
    let python = python();
    let py_dir = Path::new(&python)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    format!(
        "PATH={}:{py_dir}:$PATH",
        root().join("tests/fake-hadoop").display()
    )
}

/// The `_mapfold.json` manifest of the job output in `dir`.
pub fn manifest(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("_mapfold.json")).expect("a manifest");
    serde_json::from_str(&text).expect("manifest JSON")
}

/// Runs `script`, asserts success, returns stdout.
pub fn ok(script: &str) -> String {
    let o = bash(script);
    assert!(
        o.status.success(),
        "`{script}` failed ({}):\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8 output")
}

/// Reducer output as key -> JSON.
pub fn parse_reduced(out: &str) -> BTreeMap<String, Value> {
    out.lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').expect("KEY<TAB>JSON");
            (k.to_owned(), serde_json::from_str(v).expect("valid JSON"))
        })
        .collect()
}

/// The line counters, in wire order.
pub const COUNTERS: [&str; 8] = [
    "lines_in",
    "blank",
    "header",
    "malformed",
    "filtered",
    "missing",
    "nonfinite",
    "used",
];

/// The counters line of reducer output, as the 8 numbers in wire order.
pub fn counters(out: &str) -> [u64; 8] {
    let m = parse_reduced(out);
    let c = &m.get("").expect("a counters record under the empty key")["counters"];
    COUNTERS.map(|k| c[k].as_u64().expect("counter is a number"))
}

pub const PIPE: &str = "LC_ALL=C sort | mapfold-combine | mapfold-reduce";

/// splitmix64: a small, fixed random stream for reproducible test cases.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// Runs `mapfold run` with `job` on `input` once per split size (with the
/// combiner's chaos seeded `chaos`), asserts that every run wrote the same
/// bytes, and returns them (the part files, in order).
pub fn same_for_splits(
    dir: &std::path::Path,
    input: &std::path::Path,
    job: &str,
    splits: &[&str],
    chaos: u64,
) -> String {
    let mut runs: Vec<String> = splits
        .iter()
        .map(|split| {
            let out = dir.join(format!("out-{split}-{}", job.len()));
            let o = out.display();
            ok(&format!(
                "mapfold run --quiet --overwrite --input {} --output {o} {job} --split-size {split} \
                 --combiner-chaos {chaos} && cat {o}/part-*",
                input.display()
            ))
        })
        .collect();
    assert!(
        runs.iter().all(|r| *r == runs[0]),
        "bytes differ by split size ({splits:?}): {job}"
    );
    runs.swap_remove(0)
}

/// Writes CSV files `when,x` into `dir`, one per `(name, day)`: `rows`
/// rows of January `day` 2016 (UTC timestamps, hour `i % 24`, minute
/// `i % 60`) with `x = i / 8`, for derived-key tests.
pub fn dated_files(dir: &Path, files: &[(&str, u32)], rows: u32) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for (name, day) in files {
        let mut t = String::from("when,x\n");
        for i in 0..rows {
            t += &format!(
                "2016-01-{day:02}T{:02}:{:02}:00Z,{}\n",
                i % 24,
                i % 60,
                f64::from(i) / 8.0
            );
        }
        std::fs::write(dir.join(name), t).expect("write");
    }
}
