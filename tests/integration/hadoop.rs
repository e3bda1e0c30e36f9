//! `--runner hadoop` against a stand-in `hadoop` command
//! (`tests/fake-hadoop/hadoop`): `hadoop jar` runs the job as Hadoop
//! streaming does (tests/streaming.py: the -mapper, -combiner and -reducer
//! strings split by StreamUtil.splitArgs, the job configuration exported
//! to the tasks' environment, hash partitioning, byte-order sort), and
//! `hadoop fs` acts on local paths.

use std::path::Path;
use std::process::Output;

use crate::util::{bash_env, ok};

const JOB: &str = "--value temp --key year --hist=-5:5:20";

/// `mapfold ARGS` with the fake `hadoop` first on PATH, its calls logged
/// to `log`.
fn with_hadoop(args: &str, log: &Path) -> Output {
    with_hadoop_env(args, log, &[])
}

/// [`with_hadoop`] with more environment for the fake (its block size).
fn with_hadoop_env(args: &str, log: &Path, env: &[(&str, &str)]) -> Output {
    bash_env(
        &format!(
            "{} mapfold run --runner hadoop --streaming-jar /opt/streaming.jar {args}",
            crate::util::fake_hadoop_path()
        ),
        &[
            &[("FAKE_HADOOP_LOG", log.display().to_string().as_str())],
            env,
        ]
        .concat(),
    )
}

/// The `hadoop` calls made, as argument lists.
fn calls(log: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

fn hidden_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("mapfold-staging"))
        .collect()
}

/// A job through `hadoop jar` gives the local runner's bytes, committed
/// by a rename after the counters were checked, and the split size and
/// schema reach Hadoop by its job configuration.
#[test]
fn hadoop_runs_give_the_local_bytes_and_commit_by_rename() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (local, out, log) = (
        dir.path().join("local"),
        dir.path().join("out"),
        dir.path().join("log"),
    );
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather --output {} {JOB} --reducers 2",
        local.display()
    ));
    let o = with_hadoop(
        &format!(
            "--input fixtures/weather --output {} {JOB} --reducers 2 --split-size 100000",
            out.display()
        ),
        &log,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for part in ["part-00000", "part-00001"] {
        assert_eq!(
            std::fs::read(local.join(part)).expect("local"),
            std::fs::read(out.join(part)).expect("hadoop"),
            "{part}"
        );
    }
    assert!(out.join("_SUCCESS").exists());
    assert!(hidden_leftovers(dir.path()).is_empty());
    let calls = calls(&log);
    let jar = calls.iter().find(|c| c[0] == "jar").expect("hadoop jar");
    for want in [
        "mapreduce.input.fileinputformat.split.maxsize=100000",
        "mapreduce.input.fileinputformat.split.minsize=100000",
        "mapfold.schema=country,town,year,month,precip,temp",
    ] {
        assert!(jar.iter().any(|a| a == want), "no {want} in {jar:?}");
    }
    let output = jar
        .iter()
        .skip_while(|a| *a != "-output")
        .nth(1)
        .expect("-output");
    assert!(output.contains(".out.mapfold-staging-"), "{output}");
    assert!(calls.iter().any(|c| c[..2] == ["fs", "-mv"]), "{calls:?}");
}

/// A job that fails the job-wide malformed limit leaves nothing: no part
/// files, no `_SUCCESS` for anything waiting on it, no staging.
#[test]
fn a_job_over_the_malformed_limit_commits_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    std::fs::create_dir(&input).expect("mkdir");
    let mut text = String::from("year,temp\n");
    for i in 0..100 {
        text.push_str(if i % 5 == 0 {
            "1990,oops\n"
        } else {
            "1990,1.5\n"
        });
    }
    std::fs::write(input.join("a.csv"), text).expect("write");
    let (out, log) = (dir.path().join("out"), dir.path().join("log"));
    let o = with_hadoop(
        &format!(
            "--input {} --output {} {JOB}",
            input.display(),
            out.display()
        ),
        &log,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("malformed") && err.contains("nothing was committed"),
        "{err}"
    );
    assert!(!out.exists(), "output left by a failed job");
    assert!(
        hidden_leftovers(dir.path()).is_empty(),
        "{:?}",
        hidden_leftovers(dir.path())
    );
}

/// Hadoop's exit status and its error lines are passed on (5: a job that
/// could not launch), and an existing output is refused before any job.
#[test]
fn hadoops_failures_are_passed_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("log");
    let out = dir.path().join("out");
    let o = with_hadoop(
        &format!(
            "--input {}/nowhere/ --output {} {JOB} --schema country,town,year,month,precip,temp",
            "hdfs://",
            out.display()
        ),
        &log,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(err.contains("Input path does not exist"), "{err}");
    std::fs::create_dir(&out).expect("mkdir");
    let o = with_hadoop(
        &format!("--input fixtures/weather --output {} {JOB}", out.display()),
        &log,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("already exists"),
        "{err}"
    );
}

/// Column names no `-mapper` string can carry together (one with `'`,
/// another with `"`) reach the tasks through the job configuration.
#[test]
fn names_with_both_quotes_reach_the_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "driver's age,trip \"km\"\n30,1.5\n30,2.5\n41,4\n").expect("write");
    let (out, log) = (dir.path().join("out"), dir.path().join("log"));
    let o = with_hadoop(
        &format!(
            "--input {} --output {} --value 'trip \"km\"' --key \"driver's age\"",
            input.display(),
            out.display()
        ),
        &log,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = crate::util::parse_reduced(&ok(&format!("cat {}/part-*", out.display())));
    assert_eq!(got["30"]["count"], 2, "{got:?}");
    assert_eq!(got["41"]["sum"], 4.0, "{got:?}");
}

/// Every writer's file of the CSV corpus through `hadoop jar`, whose
/// mapper reads the lines LineRecordReader cuts (a quoted line break
/// arrives as a LF), gives the local runner's bytes; the job that reads
/// records spanning lines asks Hadoop for one split per file.
#[test]
fn the_csv_corpus_on_hadoop_gives_the_local_bytes() {
    let dir = crate::util::written_by("tests/integration/csv.d/corpus.py", "");
    // Blocks of 4 KiB: each file is cut into splits, as a cluster cuts
    // big files, so a record that spans lines (pandas_minimal.csv) would
    // straddle one unless the job reads whole files.
    for f in [
        "r_write_csv.csv",
        "excel.csv",
        "lone_cr.csv",
        "postgres.csv",
        "pandas_minimal.csv",
    ] {
        let input = dir.path().join(f);
        let (local, out, log) = (
            dir.path().join(format!("{f}.local")),
            dir.path().join(format!("{f}.out")),
            dir.path().join(format!("{f}.log")),
        );
        let job = "--value v --key k --text-keys";
        ok(&format!(
            "mapfold run --quiet --input {} --output {} {job}",
            input.display(),
            local.display()
        ));
        let o = with_hadoop_env(
            &format!(
                "--quiet --input {} --output {} {job}",
                input.display(),
                out.display()
            ),
            &log,
            &[("FAKE_HADOOP_BLOCK_SIZE", "4096")],
        );
        assert!(o.status.success(), "{f}: {o:?}");
        let read = |d: &Path| ok(&format!("cat {}/part-*", d.display()));
        assert_eq!(read(&out), read(&local), "{f}");
        let jar = calls(&log)
            .into_iter()
            .find(|c| c.first().map(String::as_str) == Some("jar"))
            .expect("a hadoop jar call");
        assert!(
            jar.iter()
                .any(|a| a.starts_with("mapreduce.input.fileinputformat.split.minsize=")),
            "{f}: {jar:?}"
        );
    }
    // Files without such records are cut at the blocks, and give the
    // same bytes.
    let (local, out, log) = (
        dir.path().join("w.local"),
        dir.path().join("w.out"),
        dir.path().join("w.log"),
    );
    let job = "--value temp --key year";
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather --output {} {job}",
        local.display()
    ));
    let o = with_hadoop_env(
        &format!(
            "--quiet --input fixtures/weather --output {} {job}",
            out.display()
        ),
        &log,
        &[("FAKE_HADOOP_BLOCK_SIZE", "4096")],
    );
    assert!(o.status.success(), "{o:?}");
    let read = |d: &Path| ok(&format!("cat {}/part-*", d.display()));
    assert_eq!(read(&out), read(&local));
    let jar = calls(&log)
        .into_iter()
        .find(|c| c.first().map(String::as_str) == Some("jar"))
        .expect("a hadoop jar call");
    assert!(!jar.iter().any(|a| a.contains("split.minsize")), "{jar:?}");
}

/// A directory inside an input directory: refused before Hadoop runs
/// (Hadoop would fail with "Not a file"), or read below with --recursive,
/// which reaches Hadoop as FileInputFormat's own property, and gives the
/// local runner's bytes.
#[test]
fn subdirectories_fail_or_are_read_with_recursive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("2013")).expect("mkdir");
    std::fs::copy(crate::util::fixture("weather/0.csv"), data.join("0.csv")).expect("copy");
    std::fs::copy(
        crate::util::fixture("weather/1.csv"),
        data.join("2013/1.csv"),
    )
    .expect("copy");
    let job = "--value temp --key year";
    let log = dir.path().join("log");
    let o = with_hadoop(
        &format!(
            "--quiet --input {} --output {}/a {job}",
            data.display(),
            dir.path().display()
        ),
        &log,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("2013") && err.contains("--recursive"),
        "{err}"
    );
    assert!(calls(&log).is_empty(), "refused before any hadoop call");
    let local = dir.path().join("local");
    ok(&format!(
        "mapfold run --quiet --input {} --output {} {job} --recursive",
        data.display(),
        local.display()
    ));
    let out = dir.path().join("b");
    let o = with_hadoop(
        &format!(
            "--quiet --input {} --output {} {job} --recursive",
            data.display(),
            out.display()
        ),
        &log,
    );
    assert!(o.status.success(), "{o:?}");
    let read = |d: &Path| ok(&format!("cat {}/part-*", d.display()));
    assert_eq!(read(&out), read(&local));
    assert!(read(&local).contains("\"count\":"), "both files read");
}

/// Derived keys through `hadoop jar`: a key function with a space and
/// parentheses survives the `-mapper` string, the file key is the name
/// Hadoop gives each task, and the bytes are the local runner's.
#[test]
fn derived_keys_on_hadoop_give_the_local_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    let files = [("a-20160101-000000.csv", 1), ("b-20160102-130000.csv", 2)];
    crate::util::dated_files(&input, &files, 300);
    let job = "--value x --key 'hour(when),bin(x, 2.5),file' --where 'when>=2016-01-01 06:00'";
    let (local, out, log) = (
        dir.path().join("local"),
        dir.path().join("out"),
        dir.path().join("log"),
    );
    ok(&format!(
        "mapfold run --quiet --input {} --output {} {job}",
        input.display(),
        local.display()
    ));
    let o = with_hadoop(
        &format!(
            "--input {} --output {} {job} --split-size 4000",
            input.display(),
            out.display()
        ),
        &log,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (
        std::fs::read(local.join("part-00000")).expect("local"),
        std::fs::read(out.join("part-00000")).expect("hadoop"),
    );
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    let got = crate::util::parse_reduced(&String::from_utf8_lossy(&b));
    assert!(
        got.contains_key("2016-01-02T13:00,2.5,b-20160102-130000.csv"),
        "{got:?}"
    );
}
