//! `mapfold run` with the local runner: the same bytes as the pipe, Hadoop's
//! partitioner, retries, atomic commit, counters that reconcile.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{PIPE, bash, bin_dir, ok};

const WEATHER: &str = "fixtures/weather/*.csv";
const JOB: &str = "--value temp --key year --hist=-5:5:20";

/// Hadoop's partitioner, written here independently of the core's: Java's
/// `Arrays.hashCode(byte[])` over signed bytes, then `(h & MAX) % R`.
fn reference_partition(key: &[u8], r: u32) -> u32 {
    let mut h: i32 = 1;
    for &b in key {
        h = h.wrapping_mul(31).wrapping_add(i32::from(b as i8));
    }
    ((h & 0x7fff_ffff) as u32) % r
}

#[test]
fn reference_partitioner_vectors() {
    // Computed by hand from the formula: "" -> 1, [0xFF] -> 31 - 1 = 30.
    assert_eq!(reference_partition(b"", 7), 1);
    assert_eq!(reference_partition(&[0xFF], 7), 30 % 7);
    assert_eq!(
        reference_partition(&[0x80, 0x7F], 1000),
        ((((31 - 128) * 31 + 127) & 0x7fff_ffff) % 1000) as u32
    );
    for key in [
        &b"2001"[..],
        b"\xc3\xa9t\xc3\xa9",
        b"00000000000000001894",
        b"\xff\xfe\xfd",
    ] {
        for r in 1..6 {
            assert_eq!(
                reference_partition(key, r),
                mapfold_core_partition(key, r),
                "{key:?} {r}"
            );
        }
    }
}

/// The core's partitioner, reached through the real binary path would need
/// a job; the library is linked into the driver's tests instead.
fn mapfold_core_partition(key: &[u8], r: u32) -> u32 {
    mapfold_core::partition::partition(key, r)
}

/// What each part file must hold: the pipe's result for the keys that the
/// reference partitioner sends to it.
fn expected_parts(job: &str, reducers: u32) -> Vec<String> {
    let sorted = ok(&format!(
        "cat {WEATHER} | mapfold-map {job} | LC_ALL=C sort"
    ));
    let mut parts: BTreeMap<u32, String> = (0..reducers).map(|r| (r, String::new())).collect();
    for l in sorted.lines() {
        let key = l.split('\t').next().unwrap_or_default();
        let p = parts
            .entry(reference_partition(key.as_bytes(), reducers))
            .or_default();
        p.push_str(l);
        p.push('\n');
    }
    let dir = tempfile::tempdir().expect("tempdir");
    parts
        .values()
        .enumerate()
        .map(|(i, text)| {
            let f = dir.path().join(format!("{i}"));
            std::fs::write(&f, text).expect("write");
            ok(&format!(
                "mapfold-combine < {} | mapfold-reduce",
                f.display()
            ))
        })
        .collect()
}

fn part_files(dir: &Path, reducers: u32) -> Vec<String> {
    (0..reducers)
        .map(|r| std::fs::read_to_string(dir.join(format!("part-{r:05}"))).expect("part file"))
        .collect()
}

#[test]
fn local_runner_equals_the_pipe_for_reducers_and_split_sizes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipe = ok(&format!("cat {WEATHER} | mapfold-map {JOB} | {PIPE}"));
    for reducers in 1..=4u32 {
        let want = expected_parts(JOB, reducers);
        for split in [3_000u64, 10_000, 50_000, 128 << 20] {
            let out = dir.path().join(format!("r{reducers}-s{split}"));
            ok(&format!(
                "mapfold run --quiet --input fixtures/weather --output {} {JOB} --reducers {reducers} --split-size {split} --maps 3",
                out.display()
            ));
            let got = part_files(&out, reducers);
            assert_eq!(got, want, "reducers {reducers}, split size {split}");
            assert!(out.join("_SUCCESS").exists());
            if reducers == 1 {
                assert_eq!(got[0], pipe);
            }
        }
    }
}

#[test]
fn combiner_chaos_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base");
    ok(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} {JOB} --reducers 2 --split-size 4000",
        base.display()
    ));
    let want = part_files(&base, 2);
    for seed in 0..12 {
        let out = dir.path().join(format!("chaos{seed}"));
        ok(&format!(
            "mapfold run --quiet --input {WEATHER} --output {} {JOB} --reducers 2 --split-size 4000 --combiner-chaos {seed}",
            out.display()
        ));
        assert_eq!(part_files(&out, 2), want, "seed {seed}");
    }
}

/// Wrapper binaries in a directory: the real ones, except that the mapper
/// runs `prelude` (bash) first.
fn wrapped(dir: &Path, prelude: &str) -> String {
    let real = bin_dir();
    for b in ["mapfold-combine", "mapfold-reduce"] {
        std::os::unix::fs::symlink(real.join(b), dir.join(b)).expect("symlink");
    }
    let script = format!(
        "#!/usr/bin/env bash\n{prelude}\nexec {} \"$@\"\n",
        real.join("mapfold-map").display()
    );
    let p = dir.join("mapfold-map");
    std::fs::write(&p, script).expect("write");
    bash(&format!("chmod +x {}", p.display()));
    dir.display().to_string()
}

#[test]
fn a_task_that_crashes_once_is_retried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bins = dir.path().join("bins");
    std::fs::create_dir(&bins).expect("mkdir");
    let marker = dir.path().join("crashed");
    let bins = wrapped(
        &bins,
        &format!(
            "if [ \"$mapreduce_task_partition\" = 1 ] && [ ! -e {m} ]; then touch {m}; echo 'simulated crash' >&2; exit 5; fi",
            m = marker.display()
        ),
    );
    let out = dir.path().join("out");
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather --output {} {JOB} --bin-dir {bins}",
        out.display()
    ));
    assert!(marker.exists(), "the crash happened");
    let want = ok(&format!("cat {WEATHER} | mapfold-map {JOB} | {PIPE}"));
    assert_eq!(part_files(&out, 1)[0], want);
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("_mapfold.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["splits"][1]["attempts"], 2);
    assert_eq!(m["splits"][0]["attempts"], 1);
}

#[test]
fn a_task_that_always_crashes_fails_the_job_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bins = dir.path().join("bins");
    std::fs::create_dir(&bins).expect("mkdir");
    let bins = wrapped(
        &bins,
        "if [ \"$mapreduce_map_input_start\" = 4000 ]; then echo \"disk on fire at $mapreduce_map_input_file\" >&2; exit 1; fi",
    );
    let out = dir.path().join("out");
    let o = bash(&format!(
        "mapfold run --quiet --input fixtures/weather/1.csv --output {} {JOB} --bin-dir {bins} --split-size 4000 --max-attempts 3",
        out.display()
    ));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("failed 3 times"), "{err}");
    assert!(
        err.contains("fixtures/weather/1.csv bytes 4000..8000"),
        "{err}"
    );
    assert!(err.contains("disk on fire at file:/"), "{err}");
    assert!(!out.exists(), "no output after a failed job");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "only bins/ remains: {leftovers:?}");
}

#[test]
fn existing_output_is_refused_unless_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("keep"), "x").expect("write");
    let o = bash(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} {JOB}",
        out.display()
    ));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--overwrite"));
    assert!(out.join("keep").exists());
    // --overwrite replaces only a previous job's output, not this.
    let o = bash(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} {JOB} --overwrite",
        out.display()
    ));
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not one"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.join("keep").exists());
    std::fs::remove_dir_all(&out).expect("rm");
    ok(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} {JOB}",
        out.display()
    ));
    std::fs::write(out.join("keep"), "x").expect("write");
    ok(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} {JOB} --overwrite",
        out.display()
    ));
    assert!(!out.join("keep").exists());
    assert!(out.join("_SUCCESS").exists());
}

#[test]
fn the_manifest_records_when_the_job_started() {
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let bins = dir.path().join("bins");
    std::fs::create_dir(&bins).expect("mkdir");
    let bins = wrapped(&bins, "sleep 1.5");
    let out = dir.path().join("out");
    let before = unix_now();
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather/0.csv --output {} {JOB} --bin-dir {bins}",
        out.display()
    ));
    let after = unix_now();
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("_mapfold.json")).expect("manifest"),
    )
    .expect("json");
    let t = &m["timings"];
    let started = t["started_unix"].as_u64().expect("started_unix");
    // The start, not the time the manifest was written (1.5 s later).
    assert!(
        before <= started && started < after,
        "{before} <= {started} < {after}"
    );
    assert!(t["total_seconds"].as_f64().expect("total") >= 1.5, "{t}");
    assert!(t["map_seconds"].as_f64().expect("map") >= 1.5, "{t}");
}

#[test]
fn counters_reconcile_with_the_input_and_the_manifest_records_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather fixtures/bad/short-rows.csv --output {} {JOB} --split-size 5000 --max-malformed 0.5",
        out.display()
    ));
    let lines: u64 = ok(&format!(
        "cat {WEATHER} fixtures/bad/short-rows.csv | wc -l"
    ))
    .trim()
    .parse()
    .expect("count");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("_mapfold.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["counters"]["lines_in"], lines);
    assert_eq!(m["counters"]["malformed"], 2);
    assert_eq!(m["counters"]["header"], 4);
    let split_sum: u64 = m["splits"]
        .as_array()
        .expect("splits")
        .iter()
        .map(|s| s["counters"]["lines_in"].as_u64().expect("n"))
        .sum();
    assert_eq!(split_sum, lines);
    assert!(m["splits"].as_array().expect("splits").len() > 4);
    assert_eq!(m["binaries"][0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(m["inputs"].as_array().map(Vec::len), Some(4));
    // The counters record of the part file agrees.
    let part = std::fs::read_to_string(out.join("part-00000")).expect("part");
    let c: serde_json::Value =
        serde_json::from_str(&part.lines().next().expect("line")[1..]).expect("json");
    assert_eq!(c["counters"], m["counters"]);
}

#[test]
fn gzip_inputs_and_task_environment_are_hadoop_like() {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(&format!(
        "mkdir -p {d}/gz && for f in {WEATHER}; do gzip -c $f > {d}/gz/$(basename $f).gz; done",
        d = dir.path().display()
    ));
    let plain = dir.path().join("plain");
    let gz = dir.path().join("gzout");
    ok(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} {JOB} --split-size 3000",
        plain.display()
    ));
    ok(&format!(
        "mapfold run --quiet --input {}/gz --output {} {JOB} --split-size 3000",
        dir.path().display(),
        gz.display()
    ));
    assert_eq!(part_files(&plain, 1), part_files(&gz, 1));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(gz.join("_mapfold.json")).expect("m"))
            .expect("json");
    assert_eq!(
        m["splits"].as_array().map(Vec::len),
        Some(3),
        "one split per gzip file"
    );

    let bins = dir.path().join("bins");
    std::fs::create_dir(&bins).expect("mkdir");
    let envs = dir.path().join("envs");
    std::fs::create_dir(&envs).expect("mkdir");
    let bins = wrapped(
        &bins,
        &format!(
            "env | grep -E '^(mapreduce|map_|mapred)' | sort > {}/$mapreduce_task_id",
            envs.display()
        ),
    );
    let out = dir.path().join("envout");
    let abs = std::fs::canonicalize(crate::util::fixture("weather/0.csv")).expect("abs");
    let size = std::fs::metadata(&abs).expect("meta").len();
    // 60% then 40%: two splits (the rest is under Hadoop's 1.1 slop).
    let split = size * 6 / 10;
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather/0.csv --output {} {JOB} --bin-dir {bins} --split-size {split} --reducers 3",
        out.display()
    ));
    let mut names: Vec<String> = std::fs::read_dir(&envs)
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2);
    let e1 = std::fs::read_to_string(envs.join(&names[1])).expect("env");
    for want in [
        format!("mapreduce_map_input_file=file:{}", abs.display()),
        format!("mapreduce_map_input_start={split}"),
        format!("mapreduce_map_input_length={}", size - split),
        "mapreduce_task_ismap=true".to_owned(),
        "mapreduce_task_partition=1".to_owned(),
        "mapreduce_job_reduces=3".to_owned(),
        "mapreduce_job_maps=2".to_owned(),
        format!("map_input_file=file:{}", abs.display()),
    ] {
        assert!(e1.lines().any(|l| l == want), "missing {want} in\n{e1}");
    }
    assert!(
        e1.lines()
            .any(|l| l.starts_with("mapreduce_task_attempt_id=attempt_local")
                && l.ends_with("_m_000001_0")),
        "{e1}"
    );
}

#[test]
fn hadoop_command_is_printed() {
    let out = ok(&format!(
        "mapfold run --print-command --input hdfs:///data/weather --output hdfs:///out/y {JOB} --schema country,town,year,month,precip,temp --where 'temp >= 0.5' --reducers 4"
    ));
    assert!(out.starts_with("hadoop jar "), "{out}");
    for part in [
        " -D 'mapreduce.job.name=mapfold",
        // The schema by the job configuration, not in the -mapper string.
        " -D mapfold.schema=country,town,year,month,precip,temp ",
        " -files ",
        "#mapfold-map,",
        // Double quotes for Hadoop's splitter, inside single quotes for the shell; the
        // malformed limit is judged for the job, so tasks get none.
        " -mapper 'mapfold-map --value temp --hist=-5:5:20 --key year --where \"temp >= 0.5\" --max-malformed 1'",
        " -combiner mapfold-combine -reducer mapfold-reduce -input hdfs:///data/weather -output hdfs:///out/y -numReduceTasks 4",
    ] {
        assert!(out.contains(part), "missing {part:?} in {out}");
    }
    // Generic options come before streaming options.
    assert!(out.find(" -files ").expect("files") < out.find(" -mapper ").expect("mapper"));
}

/// SIGINT, SIGTERM or SIGHUP to `mapfold run` while tasks run: the tasks
/// are stopped, the staging directory is removed, an existing output (with
/// --overwrite) is left as it was, and the exit status says which signal.
#[test]
fn a_signal_stops_the_tasks_and_leaves_the_output_untouched() {
    for (sig, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let bins = dir.path().join("bins");
        std::fs::create_dir(&bins).expect("mkdir");
        let pids = dir.path().join("pids");
        let bins = wrapped(
            &bins,
            &format!("echo $$ >> {}; exec sleep 60", pids.display()),
        );
        let out = dir.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        std::fs::write(out.join("part-00000"), "old\n").expect("write");
        std::fs::write(out.join("_mapfold.json"), "{}").expect("write");
        let mut child = std::process::Command::new(bin_dir().join("mapfold"))
            .args([
                "run",
                "--quiet",
                "--overwrite",
                "--input",
                "fixtures/weather",
            ])
            .args(["--output", &out.display().to_string(), "--bin-dir", &bins])
            .args(["--value", "temp", "--maps", "2"])
            .current_dir(crate::util::root())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("mapfold runs");
        let t0 = std::time::Instant::now();
        while std::fs::read_to_string(&pids).map_or(0, |s| s.lines().count()) < 2 {
            assert!(t0.elapsed().as_secs() < 30, "tasks never started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        ok(&format!("kill -{sig} {}", child.id()));
        let status = child.wait().expect("mapfold exits");
        assert_eq!(status.code(), Some(code), "SIG{sig}");
        assert!(
            t0.elapsed().as_secs() < 30,
            "SIG{sig}: exited only after the tasks"
        );
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.contains("mapfold-staging") || n.contains(".old-"))
            .collect();
        assert!(left.is_empty(), "SIG{sig}: left behind {left:?}");
        assert_eq!(
            std::fs::read_to_string(out.join("part-00000")).expect("old"),
            "old\n"
        );
        assert_eq!(std::fs::read_dir(&out).expect("list").count(), 2);
        // Every task process it started ends (a zombie waiting for init
        // to reap it has ended).
        for pid in std::fs::read_to_string(&pids).expect("pids").lines() {
            let running = || {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    s.rsplit(')')
                        .next()
                        .is_some_and(|r| !r.trim_start().starts_with('Z'))
                })
            };
            let t1 = std::time::Instant::now();
            while running() && t1.elapsed().as_secs() < 5 {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            assert!(!running(), "SIG{sig}: task {pid} still runs");
        }
    }
}

/// --overwrite replaces the old output only once the new one is complete,
/// and leaves no backup behind.
#[test]
fn overwrite_swaps_whole_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("stale"), "x").expect("write");
    std::fs::write(out.join("_mapfold.json"), "{}").expect("write");
    ok(&format!(
        "mapfold run --quiet --overwrite --input fixtures/weather/0.csv --output {} {JOB}",
        out.display()
    ));
    assert!(out.join("_SUCCESS").exists() && !out.join("stale").exists());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    assert_eq!(names, ["out"]);
}

/// Map output several times --sort-memory is spilled as sorted runs and
/// merged: the same bytes as with room for everything, peak memory held
/// near the budget, and no run file left behind, after success or failure.
#[test]
fn spills_bound_memory_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    ok(&format!(
        "mapfold gen distinct --out {d}/ids.csv --rows 500000"
    ));
    // The mappers hold little (4 MiB), so the peak is the driver's.
    let job = format!(
        "--input {d}/ids.csv --value value --key id --text-keys --maps 1 --reducers 2 --max-memory 4"
    );
    let rss = |out: &str, mib: u32| -> u64 {
        let o = bash(&format!(
            "/usr/bin/time -f %M mapfold run --quiet {job} --output {d}/{out} --sort-memory {mib} 2>&1 >/dev/null | tail -1"
        ));
        let text = String::from_utf8_lossy(&o.stdout);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("peak RSS from /usr/bin/time: {text}"))
    };
    let big = rss("big", 1024);
    let small = rss("small", 1);
    for part in ["part-00000", "part-00001"] {
        assert_eq!(
            std::fs::read(dir.path().join("big").join(part)).expect("big"),
            std::fs::read(dir.path().join("small").join(part)).expect("small"),
            "{part}"
        );
    }
    // No process of the job (debug builds) passes 64 MiB with a 1 MiB sort
    // budget and a 4 MiB mapper bound.
    assert!(
        small < 64 << 10,
        "peak RSS {small} KiB with a 1 MiB budget (unlimited: {big} KiB)"
    );
    assert!(
        small < big,
        "the budget lowers the peak: {small} vs {big} KiB"
    );
    for out in ["big", "small"] {
        let names: Vec<String> = std::fs::read_dir(dir.path().join(out))
            .expect("list")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        assert!(!names.iter().any(|n| n.contains("shuffle")), "{names:?}");
    }
    // A failing job leaves no staging (and so no run files) either.
    let o = bash(&format!(
        "mapfold run --quiet {job} --output {d}/bad --sort-memory 1 --max-malformed 0 --where 'value>=x'"
    ));
    assert!(!o.status.success());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("mapfold"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// With more map slots than reducers, a large partition is reduced by
/// several reducer processes at once, one per key range, and their outputs
/// joined: the part file is the very bytes one reducer writes, counters
/// record included, and the manifest says how many ran.
#[test]
fn a_partition_reduced_in_key_ranges_is_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    // 400,000 distinct ids: over 8 MiB of map output, the size from which
    // a partition is cut.
    ok(&format!(
        "mapfold gen distinct --out {d}/ids.csv --rows 400000"
    ));
    let job = format!("--input {d}/ids.csv --value value --key id --text-keys --reducers 1");
    ok(&format!(
        "mapfold run --quiet {job} --maps 1 --output {d}/one"
    ));
    ok(&format!(
        "mapfold run --quiet {job} --maps 3 --output {d}/three"
    ));
    let part = |out: &str| std::fs::read(dir.path().join(out).join("part-00000")).expect("part");
    let one = part("one");
    assert_eq!(one, part("three"));
    // Every id once, and the counters record first.
    assert_eq!(
        one.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(),
        400_001
    );
    assert!(one.starts_with(b"\t{\"counters\""));
    let ranges = |out: &str| -> u64 {
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(out).join("_mapfold.json")).expect("manifest"),
        )
        .expect("json");
        m["reduces"][0]["ranges"].as_u64().expect("ranges")
    };
    assert_eq!(ranges("one"), 1);
    assert_eq!(ranges("three"), 3);
}

/// `mapfold demo` runs its jobs with the checks `mapfold run` makes before
/// any task: a file in its data that is not text is refused by name.
#[test]
fn the_demo_checks_its_inputs_as_run_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = |d: &Path| {
        bash(&format!(
            "mapfold demo --dir {} --countries 1 --towns 2",
            d.display()
        ))
    };
    let o = demo(dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(dir.path().join("data/zz.csv"), b"year,temp\n1990,\x001.5\n").expect("write");
    let o = demo(dir.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("zz.csv"), "{err}");
}
