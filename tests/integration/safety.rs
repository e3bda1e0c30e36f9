//! Nothing lost: the commit never replaces what it did not create, inputs
//! cannot change under a job, and no input makes a process read
//! unboundedly or in quadratic time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{bash, bin_dir, ok, root};

const JOB: &[&str] = &["--value", "temp", "--key", "year"];

/// `mapfold run` in the background over `input` into `out`, held before its
/// commit at `gate` (see the runner's `MAPFOLD_TEST_COMMIT_GATE`).
fn gated(input: &Path, out: &Path, gate: &Path, extra: &[&str]) -> Child {
    Command::new(bin_dir().join("mapfold"))
        .args(["run", "--quiet", "--input"])
        .arg(input)
        .arg("--output")
        .arg(out)
        .args(JOB)
        .args(extra)
        .env("MAPFOLD_TEST_COMMIT_GATE", gate)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mapfold runs")
}

/// Waits until the run held at `gate` reached it.
fn reached(gate: &Path) {
    let mut r = gate.as_os_str().to_owned();
    r.push(".reached");
    let t = Instant::now();
    while !Path::new(&r).exists() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the run never reached its commit"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Opens the gate and returns the run's exit and stderr.
fn release(gate: &Path, child: Child) -> (bool, String) {
    std::fs::write(gate, b"").expect("open the gate");
    let o = child.wait_with_output().expect("mapfold exits");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The names in `dir` that a run leaves only while it runs.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("mapfold-staging") || n.contains(".old-") || n.contains("swap-"))
        .collect()
}

fn weather_copy(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir(&input).expect("mkdir");
    for f in ["0.csv", "1.csv"] {
        std::fs::copy(crate::util::fixture(&format!("weather/{f}")), input.join(f)).expect("copy");
    }
    input
}

#[test]
fn an_output_created_during_the_run_is_left_alone() {
    let d = tempfile::tempdir().expect("tempdir");
    let (out, gate) = (d.path().join("out"), d.path().join("gate"));
    let run = gated(&crate::util::fixture("weather"), &out, &gate, &[]);
    reached(&gate);
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("precious.txt"), "precious").expect("write");
    let (success, err) = release(&gate, run);
    assert!(!success, "must fail: {err}");
    assert!(err.contains("appeared while the job ran"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("precious.txt")).expect("kept"),
        "precious"
    );
    assert_eq!(std::fs::read_dir(&out).expect("list").count(), 1);
    assert_eq!(leftovers(d.path()), Vec::<String>::new());

    // A plain file there: kept too, and nothing hidden left beside it.
    let (out, gate) = (d.path().join("out2"), d.path().join("gate2"));
    let run = gated(&crate::util::fixture("weather"), &out, &gate, &[]);
    reached(&gate);
    std::fs::write(&out, "a file").expect("write");
    let (success, err) = release(&gate, run);
    assert!(!success, "{err}");
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "a file");
    assert_eq!(leftovers(d.path()), Vec::<String>::new());
}

#[test]
fn of_two_runs_to_one_output_one_wins_and_the_other_fails() {
    let d = tempfile::tempdir().expect("tempdir");
    let out = d.path().join("out");
    let (ga, gb) = (d.path().join("a"), d.path().join("b"));
    let input = crate::util::fixture("weather");
    let a = gated(&input, &out, &ga, &["--hist=-5:5:10"]);
    let b = gated(&input, &out, &gb, &["--hist=-5:5:20"]);
    reached(&ga);
    reached(&gb);
    let (ok_a, err_a) = release(&ga, a);
    assert!(ok_a, "{err_a}");
    let first = std::fs::read_to_string(out.join("part-00000")).expect("a's output");
    let (ok_b, err_b) = release(&gb, b);
    assert!(!ok_b, "the second run must not replace the first: {err_b}");
    assert!(err_b.contains("appeared while the job ran"), "{err_b}");
    assert_eq!(
        std::fs::read_to_string(out.join("part-00000")).expect("kept"),
        first
    );
    assert!(first.contains("\"bins\":[") && first.matches(',').count() > 10);
    assert_eq!(leftovers(d.path()), Vec::<String>::new());
}

#[test]
fn overwrite_never_touches_the_inputs() {
    let d = tempfile::tempdir().expect("tempdir");
    let input = weather_copy(d.path());
    std::fs::write(input.join(".hidden"), "h").expect("write");
    let before = std::fs::read_dir(&input).expect("list").count();
    let job = JOB.join(" ");
    for (inp, out) in [
        (input.join("0.csv"), input.clone()),
        (input.clone(), input.clone()),
        (input.clone(), input.join("out")),
        (input.join("0.csv"), d.path().to_path_buf()),
        (input.clone(), input.join("0.csv")),
    ] {
        let o = bash(&format!(
            "mapfold run --quiet --overwrite --input {} --output {} {job}",
            inp.display(),
            out.display()
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success(),
            "{} -> {}",
            inp.display(),
            out.display()
        );
        assert!(err.contains("input"), "{err}");
        assert_eq!(
            std::fs::read_dir(&input).expect("list").count(),
            before,
            "{err}"
        );
    }
    assert!(input.join("0.csv").is_file() && input.join(".hidden").is_file());
}

#[test]
fn an_input_that_changes_during_the_run_fails_the_job() {
    for change in ["truncate", "append", "rewrite"] {
        let d = tempfile::tempdir().expect("tempdir");
        let input = weather_copy(d.path());
        let (out, gate) = (d.path().join("out"), d.path().join("gate"));
        let run = gated(&input, &out, &gate, &["--split-size", "4096"]);
        reached(&gate);
        let f = input.join("1.csv");
        let text = std::fs::read(&f).expect("read");
        match change {
            "truncate" => std::fs::write(&f, &text[..text.len() / 2]),
            "append" => std::fs::write(&f, [&text[..], b"1,1,2020,1,0.5,0.5\n"].concat()),
            _ => {
                // Same size, other bytes, a later time.
                std::thread::sleep(Duration::from_millis(20));
                std::fs::write(&f, text.to_ascii_uppercase())
            }
        }
        .expect("change");
        let (success, err) = release(&gate, run);
        assert!(!success, "{change}: {err}");
        assert!(
            err.contains("changed while the job ran") && err.contains("1.csv"),
            "{err}"
        );
        assert!(!out.exists(), "{change}: nothing committed");
        assert_eq!(leftovers(d.path()), Vec::<String>::new());
    }
}

/// A task handed its file as stdin reads no further than the split the
/// runner planned, though the file grew since.
#[test]
fn a_split_handed_over_as_a_file_ends_where_it_was_planned() {
    let o = ok(
        "printf 'v\\n1\\n2\\n3\\n' | mapfold_split_bytes=4 mapfold-map --value v 2>&1 >/dev/null \
                | grep -E 'used|header'",
    );
    assert!(o.contains("header,1") && o.contains("used,1\n"), "{o}");
}

#[test]
fn a_dead_runs_staging_is_removed_by_the_next_run() {
    let d = tempfile::tempdir().expect("tempdir");
    // No pid is above the kernel's limit (4,194,304): never alive.
    let dead = d.path().join(".out.mapfold-staging-99999999");
    std::fs::create_dir(&dead).expect("mkdir");
    std::fs::write(dead.join("part-00000"), "x").expect("write");
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather --output {} {}",
        d.path().join("out").display(),
        JOB.join(" ")
    ));
    assert!(!dead.exists());
    assert_eq!(leftovers(d.path()), Vec::<String>::new());
}

/// A 200 MB line through a pipe is skipped and counted as malformed, in
/// time linear in its length and memory far below it, in the mapper; the
/// combiner and reducer refuse such a record by its size.
#[test]
fn a_200_mb_line_through_a_pipe_is_bounded() {
    let script = "{ echo v; head -c 200000000 /dev/zero | tr '\\0' 7; echo; echo 1; } \
                  | /usr/bin/time -f 'rss_kb=%M' mapfold-map --value v --max-malformed 1 \
                  2>&1 >/dev/null | grep -E 'malformed|used|rss_kb'";
    let t = Instant::now();
    let o = ok(script);
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert!(o.contains("malformed,1\n") && o.contains("used,1\n"), "{o}");
    let rss = rss_kb(&o);
    assert!(rss < 256 * 1024, "peak RSS {rss} KiB");
    for bin in ["mapfold-combine", "mapfold-reduce"] {
        let o = bash(&format!(
            "{{ printf 'k\\t'; head -c 100000000 /dev/zero | tr '\\0' 7; echo; }} \
             | /usr/bin/time -f 'rss_kb=%M' {bin}"
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("bytes, over the"),
            "{bin}: {err}"
        );
        let rss = rss_kb(&err);
        assert!(rss < 256 * 1024, "{bin}: peak RSS {rss} KiB");
    }
}

/// The peak RSS `/usr/bin/time -f 'rss_kb=%M'` wrote into `text`, in KiB.
fn rss_kb(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("rss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .expect("a rss_kb= line")
}

/// Peak RSS in KiB of `mapfold-map FLAGS` over `input`, and its stdout.
fn mapper_rss(input: &Path, flags: &str) -> (u64, String) {
    let o = bash(&format!(
        "/usr/bin/time -f 'rss_kb=%M' -o {0}.rss mapfold-map {flags} < {0} 2>/dev/null \
         | LC_ALL=C sort | mapfold-combine | mapfold-reduce; cat {0}.rss >&2",
        input.display()
    ));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{flags}: {err}");
    let rss = rss_kb(&err);
    (rss, String::from_utf8(o.stdout).expect("utf-8"))
}

/// Layouts whose groups grow with their values (2-D grids, sketches over
/// every exponent, distinct sets, many columns) stay within
/// `--max-memory` plus a constant, and the answers are whole: every key,
/// every row counted.
#[test]
fn every_aggregates_memory_is_counted() {
    use std::fmt::Write as _;
    let d = tempfile::tempdir().expect("tempdir");
    let mut rng = crate::util::Rng(5);
    let file = |name: &str, header: &str, rows: &mut dyn FnMut(&mut String)| {
        let p = d.path().join(name);
        let mut s = format!("{header}\n");
        rows(&mut s);
        std::fs::write(&p, s).expect("write");
        p
    };
    // 4,000 keys of 4 pairs on a 64 x 64 grid (32 KiB a group dense, 128
    // MiB for all; every cell is printed, so no bigger).
    let grid = file("grid.csv", "k,x,y", &mut |s| {
        for k in 0..4_000 {
            for _ in 0..4 {
                let (x, y) = (
                    rng.below(1000) as f64 / 1000.0,
                    rng.below(1000) as f64 / 1000.0,
                );
                let _ = writeln!(s, "{k},{x},{y}");
            }
        }
    });
    // 20,000 keys of 8 values 2^127 apart (a sketch's widest window).
    let sketch = file("sketch.csv", "k,v", &mut |s| {
        for k in 0..20_000 {
            for e in [-500, -373, -246, -119, 8, 135, 262, 389] {
                let _ = writeln!(s, "{k},{:e}", 2f64.powi(e));
            }
        }
    });
    // 2,000 keys of 1,000 distinct values, keys interleaved.
    let distinct = file("distinct.csv", "k,v", &mut |s| {
        for i in 0..1000 {
            for k in 0..2000 {
                let _ = writeln!(s, "{k},{i}");
            }
        }
    });
    // 20,000 keys of 6 values of far-apart magnitudes, in rounds: every
    // group's exact sums outgrow their inline chunks after it was made.
    let spread = file("spread.csv", "k,v", &mut |s| {
        for v in ["1e-300", "1", "1e300", "-3e-200", "7e150", "2e-100"] {
            for k in 0..20_000 {
                let _ = writeln!(s, "{k},{v}");
            }
        }
    });
    // 64 value columns of values over every exponent.
    let names: Vec<String> = (0..64).map(|i| format!("c{i}")).collect();
    let wide = file("wide.csv", &format!("k,{}", names.join(",")), &mut |s| {
        for k in 0..3000 {
            let _ = write!(s, "{k}");
            for _ in 0..64 {
                let _ = write!(s, ",{:e}", f64::from_bits(rng.next() >> 2));
            }
            s.push('\n');
        }
    });
    let cols = names.join(",");
    for (input, flags, keys, rows) in [
        (
            &grid,
            "--key k --hist2d x=0:1:64,y=0:1:64 --max-memory 8",
            4_000,
            16_000,
        ),
        (
            &sketch,
            "--key k --value v --quantiles --max-memory 8",
            20_000,
            160_000,
        ),
        (&spread, "--key k --value v --max-memory 8", 20_000, 120_000),
        (
            &distinct,
            "--key k --distinct v --max-memory 8",
            2000,
            2_000_000,
        ),
        (
            &wide,
            &format!("--key k --value {cols} --max-memory 8"),
            3000,
            3000,
        ),
    ] {
        let (rss, out) = mapper_rss(input, flags);
        assert!(
            rss < (8 + 24) * 1024,
            "{flags}: peak RSS {rss} KiB over 8 MiB + 24 MiB"
        );
        let c = crate::util::counters(&out);
        assert_eq!(
            (c[0], c[7]),
            (rows + 1, rows),
            "{flags}: every line counted"
        );
        assert_eq!(out.lines().count(), keys + 1, "{flags}: every key answered");
    }
    // A layout whose one group cannot fit is refused before any line.
    let o = bash("echo 1 | mapfold-map --value 1 --hist 0:1:1000000 --max-memory 1");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("one group of this job holds"));
}

/// A header of 20,000 columns (some 150 KB, past Linux's 128 KiB limit on
/// one argument) reaches every task, on every split, in a file: the local
/// run gives the counts and sums a direct computation gives, and the
/// Hadoop command ships the schema with `-files` instead of carrying it.
#[test]
fn a_header_too_long_for_a_command_line_reaches_every_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cols = 20_000;
    let mut text: String = (0..cols).map(|i| format!("column{i:05},")).collect();
    text.push_str("key,value\n");
    let filler = ",".repeat(cols);
    let mut want = std::collections::BTreeMap::<String, (u64, i64)>::new();
    for i in 0..300i64 {
        let key = format!("k{}", i % 3);
        text.push_str(&format!("{filler}{key},{i}\n"));
        let e = want.entry(key).or_default();
        e.0 += 1;
        e.1 += i;
    }
    assert!(text.lines().next().map_or(0, str::len) > 128 * 1024);
    let input = dir.path().join("wide.csv");
    std::fs::write(&input, &text).expect("write");
    let out = dir.path().join("out");
    ok(&format!(
        "mapfold run --quiet --input {} --output {} --value value --key key --split-size 1000000",
        input.display(),
        out.display()
    ));
    let got = crate::util::parse_reduced(&ok(&format!("cat {}/part-*", out.display())));
    for (key, (n, sum)) in &want {
        let v = &got[key];
        assert_eq!(v["count"].as_u64(), Some(*n), "{key}: {v}");
        assert_eq!(v["sum"].as_f64(), Some(*sum as f64), "{key}: {v}");
    }
    let line = ok(&format!(
        "mapfold run --print-command --runner hadoop --input {} --output hdfs:///o \
         --value value --key key",
        input.display()
    ));
    assert!(line.len() < 16 * 1024, "the schema rides the command line");
    assert!(line.contains("--schema-file mapfold-schema"), "{line}");
    let shipped = line
        .split([',', ' ', '\''])
        .find_map(|w| w.strip_suffix("#mapfold-schema"))
        .unwrap_or_else(|| panic!("no schema in -files: {line}"));
    let header = std::fs::read_to_string(shipped).expect("the shipped schema file exists");
    assert_eq!(Some(header.trim_end()), text.lines().next());
}

/// A full disk is reported with the file being written and exit 3
/// (`/dev/full` stands in for the disk), and the local runner does not
/// retry a task that exits so, nor one that refused the job (exit 2):
/// another attempt on the same machine fails the same way. A task that
/// fails otherwise is retried.
#[test]
fn deterministic_failures_are_not_retried() {
    let o = bash("printf '*\\t1\\n' | mapfold-reduce > /dev/full");
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("(/dev/full)") && err.contains("No space left"),
        "{err}"
    );
    let o = bash("printf '1\\n' | mapfold-map --value 1 > /dev/full");
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "year,temp\n1990,1.5\n1991,2.5\n").expect("write");
    for (task, code, tries) in [
        ("reduce", 3, 1),
        ("map", 3, 1),
        ("reduce", 2, 1),
        ("reduce", 1, 4),
    ] {
        let bins = dir.path().join(format!("bin-{task}-{code}"));
        std::fs::create_dir(&bins).expect("mkdir");
        for b in ["mapfold-map", "mapfold-combine", "mapfold-reduce"] {
            std::os::unix::fs::symlink(bin_dir().join(b), bins.join(b)).expect("link");
        }
        let count = bins.join("count");
        let fake = bins.join(format!("mapfold-{task}"));
        std::fs::remove_file(&fake).expect("unlink");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\ncat >/dev/null\necho try >> {}\necho 'it failed' >&2\nexit {code}\n",
                count.display()
            ),
        )
        .expect("write");
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let out = bins.join("out");
        let o = bash(&format!(
            "mapfold run --quiet --input {} --output {} --bin-dir {} {}",
            input.display(),
            out.display(),
            bins.display(),
            JOB.join(" ")
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{task} exit {code}: {err}");
        assert!(!out.exists(), "{task} exit {code}: output committed");
        let tried = std::fs::read_to_string(&count)
            .unwrap_or_default()
            .lines()
            .count();
        assert_eq!(tried, tries, "{task} exit {code}: {err}");
        if code == 3 {
            assert!(err.contains("ran out of disk space"), "{err}");
        }
    }
}

/// A `--plot` target that cannot be written fails the run before any task,
/// saying why, with no output committed: a directory that is not there or
/// not writable (`/proc` stands in, as it refuses files even to root), a
/// directory of the picture's name, a name that is not `.png` or `.svg`.
#[test]
fn plot_targets_are_checked_before_the_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "year,temp\n1990,1.5\n").expect("write");
    std::fs::create_dir(dir.path().join("taken.png")).expect("mkdir");
    for (target, why) in [
        ("/proc/mapfold.png".to_owned(), "cannot write in /proc"),
        (
            format!("{}/taken.png", dir.path().display()),
            "a directory of that name",
        ),
        (
            format!("{}/none/x.png", dir.path().display()),
            "does not exist",
        ),
        (format!("{}/x.txt", dir.path().display()), ".png or .svg"),
    ] {
        let out = dir.path().join("out");
        let o = bash(&format!(
            "mapfold run --input {} --output {} {} --plot {target}",
            input.display(),
            out.display(),
            JOB.join(" ")
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(why), "{target}: {err}");
        assert!(!err.contains("task"), "{target}: tasks ran: {err}");
        assert!(!out.exists(), "{target}: output committed");
    }
}
