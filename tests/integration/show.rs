//! `mapfold show`: the answer as a table. Exports of jobs with every
//! aggregate read back by other tools (Python's csv and json, pyarrow for
//! Parquet) and checked against the part files' JSON under the documented
//! column names; `--top` against a direct count and sort; the terminal
//! table and the first rows `mapfold run` ends with.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::util::{Rng, bash, ok, python, root};

/// Rows with a text key holding commas and quotes, integer years, two
/// value columns with missing values, ids for distinct counts.
fn data(rng: &mut Rng) -> (String, BTreeMap<String, u64>) {
    let cities = [
        "Lagos",
        "Hong Kong, China",
        "Z\u{fc}rich",
        "\"Quoted\" Town",
        "Apia",
    ];
    let mut text = String::from("city,year,temp,rain,user\n");
    let mut per_city = BTreeMap::new();
    for i in 0..3000u64 {
        // Skewed, so the counts per city differ.
        let c = cities[(rng.below(15) as usize).min(10) % 5].to_owned();
        *per_city.entry(c.clone()).or_insert(0) += 1;
        let year = 1990 + rng.below(4);
        let temp = if i % 37 == 0 {
            "NA".to_owned()
        } else {
            format!("{}", (rng.below(2000) as f64 - 1000.0) / 200.0)
        };
        let rain = format!("{}", rng.below(1000) as f64 / 100.0);
        let user = format!("u{}", rng.below(if i < 1500 { 50 } else { 3000 }));
        let quoted = if c.contains([',', '"']) {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c
        };
        writeln!(text, "{quoted},{year},{temp},{rain},{user}").expect("string");
    }
    (text, per_city)
}

#[test]
fn exports_hold_every_number_as_documented() {
    let d = tempfile::tempdir().expect("tempdir");
    let (text, _) = data(&mut Rng(24));
    let input = d.path().join("cities.csv");
    std::fs::write(&input, text).expect("write input");
    let jobs = [
        (
            "every",
            "--value temp --key city,year --hist=-5:5:20 --quantiles 0.1,0.5,0.999 \
             --distinct user --corr temp,rain --hist2d temp=-5:5:4,rain=0:10:5",
            "city,year",
        ),
        (
            "columns",
            "--value temp,rain --key year --quantiles --hist temp=-5:5:10 --distinct city",
            "year",
        ),
        ("count", "--distinct user", "-"),
    ];
    for (name, job, keys) in jobs {
        let out = d.path().join(name);
        let (o, t) = (out.display(), d.path().join(name).with_extension("t"));
        let t = t.display();
        ok(&format!(
            "mapfold run --quiet --input {} --output {o} {job} --split-size 20000 && \
             for f in csv tsv jsonl parquet; do mapfold show {o} --format $f -o {t}.$f; done",
            input.display()
        ));
        let checked = ok(&format!(
            "{} {} {o} {keys} {t}",
            python(),
            root().join("tests/integration/show.d/check.py").display()
        ));
        assert!(checked.contains("in 4 formats"), "{checked}");
    }
}

#[test]
fn top_n_is_a_direct_sort() {
    let d = tempfile::tempdir().expect("tempdir");
    let (text, per_city) = data(&mut Rng(7));
    let input = d.path().join("cities.csv");
    std::fs::write(&input, text).expect("write input");
    let out = d.path().join("out");
    let o = out.display();
    ok(&format!(
        "mapfold run --quiet --input {} --output {o} --key city",
        input.display()
    ));
    // Largest count first; ties in key order (text keys by bytes).
    let mut want: Vec<(&String, &u64)> = per_city.iter().collect();
    want.sort_by(|a, b| {
        b.1.cmp(a.1)
            .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
    });
    // CITY,COUNT lines: the city in RFC 4180 quotes when it needs them.
    let rows_of = |got: &str, sep: char| -> Vec<(String, u64)> {
        let mut lines = got.lines();
        assert_eq!(lines.next(), Some(format!("city{sep}count").as_str()));
        lines
            .map(|l| {
                let (c, n) = l.rsplit_once(sep).expect("two fields");
                let c = c
                    .strip_prefix('"')
                    .and_then(|c| c.strip_suffix('"'))
                    .map_or(c.to_owned(), |c| c.replace("\"\"", "\""));
                (c, n.parse().expect("a count"))
            })
            .collect()
    };
    for n in [1, 3, 10] {
        let rows = rows_of(
            &ok(&format!("mapfold show {o} --top {n} --format csv")),
            ',',
        );
        let want: Vec<(String, u64)> = want
            .iter()
            .take(n)
            .map(|(c, n)| ((*c).clone(), **n))
            .collect();
        assert_eq!(rows, want, "--top {n}");
    }
    // Smallest first with --asc.
    let got = ok(&format!(
        "mapfold show {o} --top 1 --by count --asc --format tsv"
    ));
    let last = want.last().expect("cities");
    assert_eq!(rows_of(&got, '\t'), [((*last.0).clone(), *last.1)]);
    // Mistakes are named.
    for (args, says) in [
        ("--top 2 --by nosuch", "no column \"nosuch\""),
        ("--columns 'p*'", "matches no column"),
    ] {
        let o2 = bash(&format!("mapfold show {o} {args}"));
        let err = String::from_utf8_lossy(&o2.stderr);
        assert!(!o2.status.success() && err.contains(says), "{args}: {err}");
    }
}

#[test]
fn the_terminal_table_and_the_end_of_a_run() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("station,temp\n");
    for i in 0..600 {
        writeln!(text, "s{:02},{}", i % 25, f64::from(i % 17) / 2.0).expect("string");
    }
    let input = d.path().join("t.csv");
    std::fs::write(&input, text).expect("write input");
    let out = d.path().join("out");
    let o = out.display();
    let run = bash(&format!(
        "COLUMNS=200 mapfold run --input {} --output {o} --value temp --key station --quantiles 0.5",
        input.display()
    ));
    assert!(run.status.success());
    let shown = String::from_utf8_lossy(&run.stdout);
    let lines: Vec<&str> = shown.lines().collect();
    // A header, a rule, ten keys, then how to see the rest.
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "station", "count", "sum", "mean", "stddev", "min", "max", "p50"
        ],
        "{shown}"
    );
    assert!(lines[1].starts_with("-------"), "{shown}");
    assert!(
        lines[2].starts_with("s00 ") && lines[11].starts_with("s09 "),
        "{shown}"
    );
    assert!(
        lines[12].starts_with("(15 more keys: mapfold show"),
        "{shown}"
    );
    // s00 holds i = 0, 25, 50, ...: 24 rows, i % 17 / 2 each; its median
    // (rank floor(0.5 * 23) = 11 of the sorted values) printed short.
    let mut s00: Vec<f64> = (0..600)
        .filter(|i| i % 25 == 0)
        .map(|i| f64::from(i % 17) / 2.0)
        .collect();
    s00.sort_by(f64::total_cmp);
    let row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(row[1], "24");
    assert_eq!(row[7], s00[11].to_string(), "{shown}");
    // With several reducers the first keys are still the first in key
    // order, taken across the part files.
    let three = ok(&format!(
        "COLUMNS=200 mapfold run --overwrite --reducers 3 --input {} --output {o} --value temp \
         --key station --quantiles 0.5 2>/dev/null",
        input.display()
    ));
    let firsts: Vec<&str> = three
        .lines()
        .skip(2)
        .take(10)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let want: Vec<String> = (0..10).map(|i| format!("s{i:02}")).collect();
    assert_eq!(firsts, want, "{three}");
    assert!(three.contains("(15 more keys: mapfold show"), "{three}");
    // `mapfold show` prints every key and the line counters below.
    let all = ok(&format!("COLUMNS=200 mapfold show {o}"));
    let keys = all
        .lines()
        .filter(|l| l.starts_with('s') && !l.starts_with("station"));
    assert_eq!(keys.count(), 25, "{all}");
    assert!(all.contains("lines: 601 in = 600 used + 1 header"), "{all}");
    assert!(all.contains("quantiles within 0.78%"), "{all}");
    // An estimated distinct count is marked and no finer than its error:
    // 5,000 ids, a 1.6% standard error (80), shown to the hundred.
    let ids = d.path().join("ids.csv");
    let mut t = String::from("id\n");
    for i in 0..5000 {
        writeln!(t, "id{i}").expect("string");
    }
    std::fs::write(&ids, t).expect("write");
    let shown = ok(&format!(
        "mapfold run --input {} --output {}/ids --distinct id 2>/dev/null",
        ids.display(),
        d.path().display()
    ));
    let cell = shown
        .lines()
        .nth(2)
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("a distinct count");
    let n: u64 = cell
        .strip_prefix('~')
        .expect("marked as estimated")
        .replace(',', "")
        .parse()
        .expect("a count");
    assert!(n.is_multiple_of(100) && n.abs_diff(5000) < 250, "{shown}");
    // --quiet shows nothing on stdout.
    let quiet = ok(&format!(
        "mapfold run --quiet --overwrite --input {} --output {o} --value temp --key station",
        input.display()
    ));
    assert!(quiet.is_empty(), "{quiet}");
}
