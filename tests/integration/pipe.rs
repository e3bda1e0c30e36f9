//! `cat | mapfold-map | sort | mapfold-combine | mapfold-reduce`: results
//! checked against exact arithmetic, and the same bytes however the input is
//! split and however often the combiner runs.

use std::collections::BTreeMap;

use crate::util::{PIPE, bash, counters, fixture, ok, parse_reduced};

const WEATHER: &str = "fixtures/weather/*.csv";

/// A fixture row: country, town, year, month, precip, temp.
type Row = Vec<String>;

/// The jobs checked against the exact oracle: mapper flags, the row's key,
/// whether the row passes the filters, the value column, the histogram.
type Job = (
    &'static str,
    fn(&Row) -> String,
    fn(&Row) -> bool,
    usize,
    Option<(f64, f64, u64)>,
);

const JOBS: &[Job] = &[
    (
        "--value temp --hist=-5:5:20",
        |_| "*".into(),
        |_| true,
        5,
        Some((-5.0, 5.0, 20)),
    ),
    (
        "--value temp --key year --hist=-5:5:20",
        |r| r[2].clone(),
        |_| true,
        5,
        Some((-5.0, 5.0, 20)),
    ),
    (
        "--value precip --key country --where 'temp>=0.75'",
        |r| r[0].clone(),
        |r| r[5].parse::<f64>().is_ok_and(|t| t >= 0.75),
        4,
        None,
    ),
    (
        "--value 6 --key 1,2 --where 'year<2005' --where 'month!=12'",
        |r| format!("{},{}", r[0], r[1]),
        |r| r[2].parse::<f64>().is_ok_and(|y| y < 2005.0) && r[3] != "12",
        5,
        None,
    ),
];

/// Every number of the fixture jobs, checked key by key against exact
/// arithmetic over the rows read here (not against saved outputs).
#[test]
fn fixture_jobs_agree_with_the_exact_oracle() {
    let mut rows: Vec<Row> = Vec::new();
    for f in ["0", "1", "2"] {
        let text = std::fs::read_to_string(fixture(&format!("weather/{f}.csv"))).expect("fixture");
        rows.extend(
            text.lines()
                .skip(1)
                .map(|l| l.split(',').map(str::to_owned).collect()),
        );
    }
    for (flags, key, keep, value, hist) in JOBS {
        let mut want: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for r in rows.iter().filter(|r| keep(r)) {
            let x: f64 = r[*value].parse().expect("fixture values are numbers");
            want.entry(key(r)).or_default().push(x);
        }
        let got = parse_reduced(&ok(&format!(
            "cat {WEATHER} | mapfold-map {flags} | {PIPE}"
        )));
        assert_eq!(got.len(), want.len() + 1, "{flags}: keys");
        for (k, xs) in &want {
            let j = got.get(k).unwrap_or_else(|| panic!("{flags}: no key {k}"));
            crate::oracle::check_key(k, j, xs, *hist);
        }
    }
    assert_eq!(
        counters(&ok(&format!(
            "cat {WEATHER} | mapfold-map --value temp --key year | {PIPE}"
        ))),
        [1443, 0, 3, 0, 0, 0, 0, 1440]
    );
}

/// Splitting the input anywhere, mapping the pieces separately, and running
/// the combiner 0, 1 or 3 times gives the same bytes.
#[test]
fn results_do_not_depend_on_splits_or_combiner_runs() {
    let flags =
        "--value temp --key year --hist=-5:5:20 --schema country,town,year,month,precip,temp";
    let want = ok(&format!("cat {WEATHER} | mapfold-map {flags} | {PIPE}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    for lines in [1, 7, 100, 481, 1000] {
        let script = format!(
            "cat {WEATHER} | split -l {lines} - {d}/part-{lines}- && \
             for p in {d}/part-{lines}-*; do mapfold-map {flags} < $p; done > {d}/mapped-{lines}"
        );
        ok(&script);
        for combine in [
            "cat",
            "mapfold-combine",
            "mapfold-combine | mapfold-combine | mapfold-combine",
        ] {
            let got = ok(&format!(
                "LC_ALL=C sort {d}/mapped-{lines} | {combine} | mapfold-reduce"
            ));
            assert_eq!(got, want, "split every {lines} lines, combiner: {combine}");
        }
        // Combining unsorted runs per piece, then sorting, also agrees.
        let got = ok(&format!(
            "for p in {d}/part-{lines}-*; do mapfold-map {flags} < $p | LC_ALL=C sort | mapfold-combine; done | {PIPE}"
        ));
        assert_eq!(got, want, "per-piece combiner, split every {lines} lines");
    }
}

#[test]
fn early_flushes_bound_memory_and_change_nothing() {
    // Months cycle within every town and year: with room for 2 groups the
    // mapper must flush again and again.
    let flags = "--value temp --key month --hist=-3:3:6";
    let want = ok(&format!("cat {WEATHER} | mapfold-map {flags} | {PIPE}"));
    let mapped = ok(&format!(
        "cat {WEATHER} | mapfold-map {flags} --max-groups 2"
    ));
    assert!(mapped.lines().count() > 100, "{mapped}");
    let got = ok(&format!(
        "cat {WEATHER} | mapfold-map {flags} --max-groups 2 | {PIPE}"
    ));
    assert_eq!(got, want);
    assert_eq!(parse_reduced(&got).len(), 13);
}

#[test]
fn mean_is_exactly_rounded() {
    let out = ok(&format!(
        "printf 'x\\n1e308\\n1e308\\n-1e308\\n-1e308\\n1.0\\n' | mapfold-map --value x | {PIPE}"
    ));
    let j = &parse_reduced(&out)["*"];
    assert_eq!(j["sum"], 1.0);
    assert_eq!(j["mean"], 0.2);
    assert_eq!(j["count"], 5);
    assert_eq!(j["max"], 1e308);
    // Split across two mappers and merged: same digits.
    let out2 = ok(&format!(
        "(printf 'x\\n1e308\\n1e308\\n' | mapfold-map --value x; printf 'x\\n-1e308\\n-1e308\\n1.0\\n' | mapfold-map --value x) | {PIPE}"
    ));
    assert_eq!(parse_reduced(&out2)["*"], *j);
}

#[test]
fn numeric_keys_sort_numerically_and_print_plainly() {
    let out = ok(&format!(
        "printf 'k,v\\n10,1\\n9,2\\n-3,3\\n007,4\\n7,5\\nb,6\\n' | mapfold-map --value v --key k | {PIPE}"
    ));
    let keys: Vec<&str> = out
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default())
        .collect();
    // `007` is text, never one group with `7`.
    assert_eq!(keys, ["", "-3", "7", "9", "10", "007", "b"]);
    assert_eq!(parse_reduced(&out)["7"]["sum"], 5.0);
    assert_eq!(parse_reduced(&out)["007"]["sum"], 4.0);
}

#[test]
fn undecodable_or_unsorted_input_fails_clearly() {
    let o = bash("printf '1\\tmf1 v=oops\\n' | mapfold-reduce");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 1") && err.contains("cannot decode"),
        "{err}"
    );
    let o = bash("printf 'a,b\\n1,2\\n' | mapfold-combine");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("mapfold-map output"));
    let o = bash(&format!(
        "cat {WEATHER} | mapfold-map --value temp --key year | sort -r | mapfold-reduce"
    ));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("LC_ALL=C sort"));
}

#[test]
fn broken_pipe_is_a_clean_exit() {
    for (producer, stage) in [
        (
            "cat fixtures/weather/*.csv fixtures/weather/*.csv",
            "mapfold-map --value temp --key country,town,year,month --max-groups 1",
        ),
        (
            "cat fixtures/weather/*.csv | mapfold-map --value temp --key country,town,year,month | LC_ALL=C sort",
            "mapfold-combine",
        ),
    ] {
        let o = bash(&format!(
            "{producer} | {stage} | head -c 10 >/dev/null; echo ${{PIPESTATUS[-2]}}"
        ));
        let status = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            status.trim(),
            "0",
            "{stage}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("error"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn help_explains_with_an_example() {
    for b in ["mapfold-map", "mapfold-combine", "mapfold-reduce"] {
        let out = ok(&format!("{b} --help"));
        assert!(out.contains("Example"), "{b}: {out}");
    }
    let out = ok("mapfold-map --help");
    for flag in [
        "--value",
        "--key",
        "--schema",
        "--delimiter",
        "--where",
        "--hist",
        "--max-malformed",
        "--max-groups",
    ] {
        assert!(out.contains(flag), "{flag}");
    }
}

/// Past the group bound the mapper writes out the groups hit least and
/// keeps the hot ones combining: a key on every other line is written a
/// handful of times, not once per eviction, and the result is the same.
#[test]
fn hot_keys_stay_in_memory_across_evictions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("skewed.csv");
    let mut text = String::from("k,v\n");
    for i in 0..20_000 {
        if i % 2 == 0 {
            text += &format!("hot,{i}\n");
        } else {
            text += &format!("cold{i},{i}\n");
        }
    }
    std::fs::write(&f, text).expect("write");
    let want = ok(&format!(
        "mapfold-map --value v --key k < {} 2>/dev/null | {PIPE}",
        f.display()
    ));
    let mapped = ok(&format!(
        "mapfold-map --value v --key k --max-groups 100 < {} 2>/dev/null",
        f.display()
    ));
    let hot = mapped.lines().filter(|l| l.starts_with("hot\t")).count();
    let records = mapped.lines().count();
    assert!(
        records > 10_000,
        "the cold keys were written out: {records}"
    );
    assert!(hot <= 2, "the hot key was written {hot} times");
    let got = ok(&format!(
        "mapfold-map --value v --key k --max-groups 100 < {} 2>/dev/null | {PIPE}",
        f.display()
    ));
    assert_eq!(got, want);
    // The byte bound does the same.
    let got = ok(&format!(
        "mapfold-map --value v --key k --max-memory 1 < {} 2>/dev/null | {PIPE}",
        f.display()
    ));
    assert_eq!(got, want);
}

/// Keys repeated evenly, more of them than the table first holds: the
/// table grows until they fit (each doubling combined many more lines),
/// so the mapper writes about one record per key, not one per line; the
/// counts and sums are the direct ones.
#[test]
fn evenly_repeated_keys_grow_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("even.csv");
    let (keys, times) = (40_000u64, 8u64);
    let mut rows: Vec<(u64, u64)> = (0..keys * times).map(|i| (i % keys, i)).collect();
    let mut rng = crate::util::Rng(7);
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.index(i + 1));
    }
    let mut text = String::from("k,v\n");
    for (k, v) in &rows {
        text += &format!("s{k},{v}\n");
    }
    std::fs::write(&f, text).expect("write");
    let mapped = ok(&format!(
        "mapfold-map --value v --key k < {} 2>/dev/null",
        f.display()
    ));
    let records = mapped.lines().count() as u64;
    assert!(
        records < 2 * keys,
        "{records} records for {keys} keys of {} lines",
        keys * times
    );
    let got = parse_reduced(&ok(&format!(
        "mapfold-map --value v --key k < {} 2>/dev/null | {PIPE}",
        f.display()
    )));
    let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (k, v) in &rows {
        let e = want.entry(format!("s{k}")).or_default();
        e.0 += 1;
        e.1 += v;
    }
    assert_eq!(got.len() as u64, keys + 1, "every key and the counters");
    for (k, (n, sum)) in want {
        assert_eq!(got[&k]["count"], n, "{k}");
        assert_eq!(got[&k]["sum"].as_f64(), Some(sum as f64), "{k}");
    }
}

/// When the table combines almost nothing (all-distinct ids), the mapper
/// stops holding it and passes each line on as its own record, the bare
/// value: map output no larger than the input, and the same result. (A
/// key repeated after that is passed on line by line too: the mode is
/// chosen once, as Spark chooses to skip partial aggregation.)
#[test]
fn distinct_keys_pass_through_at_input_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("ids.csv");
    let mut text = String::from("id,v\n");
    for i in 0..20_000u64 {
        let v = match i % 1000 {
            7 => "NA".to_owned(),
            8 => "inf".to_owned(),
            _ => format!(
                "{}",
                (i as f64 * 0.37).sin() * 10f64.powi((i % 40) as i32 - 20)
            ),
        };
        text += &format!("u{i:08},{v}\n");
    }
    let ids = text.len();
    for i in 0..500 {
        text += &format!("again,{i}\n");
    }
    std::fs::write(&f, &text).expect("write");
    let want = ok(&format!(
        "mapfold-map --value v --key id --text-keys < {} 2>/dev/null | {PIPE}",
        f.display()
    ));
    let mapped = ok(&format!(
        "mapfold-map --value v --key id --text-keys --max-groups 100 < {} 2>/dev/null",
        f.display()
    ));
    let again = mapped.lines().filter(|l| l.starts_with("again\t")).count();
    assert_eq!(again, 500, "passed on line by line");
    let records: Vec<&str> = mapped.lines().filter(|l| l.starts_with('u')).collect();
    assert_eq!(records.len(), 20_000, "one record per id");
    let bare = records
        .iter()
        .filter(|l| l.split('\t').nth(1).is_some_and(|v| !v.starts_with("mf")))
        .count();
    assert_eq!(
        bare,
        20_000 - 40,
        "every finite one-value group is its bare value"
    );
    let out_bytes: usize = records.iter().map(|l| l.len() + 1).sum();
    assert!(
        out_bytes <= ids,
        "map output {out_bytes} bytes, input {ids}"
    );
    let got = ok(&format!(
        "mapfold-map --value v --key id --text-keys --max-groups 100 < {} 2>/dev/null | {PIPE}",
        f.display()
    ));
    assert_eq!(got, want);
    // Keys of several fields (one of them missing now and then) pass
    // through with the same wire keys.
    let two = |bound: &str| {
        ok(&format!(
            "mapfold-map --value v --key id,v --text-na-values=,NA {bound} < {} 2>/dev/null | {PIPE}",
            f.display()
        ))
    };
    assert_eq!(two("--max-groups 100"), two(""));
    assert!(two("").contains("\\N"), "a missing key field");
}

/// The reducer learns the job from its input: a plain pipe without any
/// reducer flags prints the bytes `mapfold run` does, for a job of every
/// aggregate with a custom quantile list, several value columns, distinct
/// counts, co-moments and a 2-D grid; with several reducers each learns it
/// too (the runner passes it on, as Hadoop passes its job configuration).
/// A reducer told another report by hand, and counters of two jobs under
/// one key, are refused.
#[test]
fn the_reducer_learns_the_job_from_its_input() {
    let job = "--value temp,precip --key year --quantiles 0.5,0.999 --distinct town \
               --corr temp,precip --hist2d temp=-5:5:4,precip=0:1:2 --hist=temp=-5:5:10";
    let dir = tempfile::tempdir().expect("tempdir");
    let piped = ok(&format!(
        "cat fixtures/weather/*.csv | mapfold-map {job} 2>/dev/null | LC_ALL=C sort \
         | mapfold-combine | mapfold-reduce"
    ));
    for name in [
        "\"p99_9\"",
        "\"temp\":{",
        "\"precip\":{",
        "\"town\"",
        "\"corr\":{\"x\":\"temp\"",
    ] {
        assert!(piped.contains(name), "no {name} in {piped}");
    }
    for reducers in [1, 3] {
        let out = dir.path().join(format!("out{reducers}"));
        ok(&format!(
            "mapfold run --quiet --input fixtures/weather --output {} {job} --reducers {reducers}",
            out.display()
        ));
        let run = ok(&format!("cat {}/part-* | LC_ALL=C sort", out.display()));
        let mut want: Vec<&str> = piped.lines().collect();
        want.sort_unstable();
        assert_eq!(run.lines().collect::<Vec<_>>(), want, "{reducers} reducers");
    }
    let o = bash(&format!(
        "cat fixtures/weather/*.csv | mapfold-map {job} 2>/dev/null | LC_ALL=C sort \
         | mapfold-reduce --value temp,precip --quantiles 0.5"
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("another report"),
        "{err}"
    );
    let o = bash(&format!(
        "(cat fixtures/weather/0.csv | mapfold-map {job}; \
          cat fixtures/weather/1.csv | mapfold-map --value temp --key year --quantiles 0.5) \
         2>/dev/null | LC_ALL=C sort | mapfold-combine"
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("different jobs"),
        "{err}"
    );
}
