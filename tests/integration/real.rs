//! A real-shaped table (tests/../fixtures/real/flights.csv, in the layout of
//! nycflights13: `NA` and other missing-value marks, quoted text with commas,
//! ZIP-like identifiers with leading zeros, one broken line) through the
//! real binaries, against values computed here from the file itself.

use std::collections::BTreeMap;

use crate::util::{PIPE, bash, counters, fixture, ok, parse_reduced};

const NA: &[&str] = &[
    "", "NA", "N/A", "n/a", "#N/A", "NULL", "null", "None", "\\N", "<NA>",
];

/// The file's rows as fields (RFC 4180 quotes undone), header dropped;
/// lines without ten fields are left out (the fixture's one broken line).
fn rows() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(fixture("real/flights.csv")).expect("fixture");
    text.lines()
        .skip(1)
        .map(|line| {
            let (mut fields, mut cur, mut quoted) = (Vec::new(), String::new(), false);
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cur.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(std::mem::take(&mut cur)),
                    (c, _) => cur.push(c),
                }
            }
            fields.push(cur);
            fields
        })
        .filter(|f| f.len() == 10)
        .collect()
}

/// This file marks a missing carrier or destination `NA` or `null`, as R
/// does: such jobs say so, as text columns take only the empty field and
/// `\N` as missing by default.
const TEXT_NA: &str = "--text-na-values=',NA,N/A,n/a,#N/A,NULL,null,None,\\N,<NA>'";

fn is_na(f: &str) -> bool {
    NA.contains(&f.trim())
}

/// Column index by name.
fn col(name: &str) -> usize {
    [
        "year",
        "month",
        "day",
        "carrier",
        "flight",
        "origin",
        "dest",
        "arr_delay",
        "distance",
        "zip",
    ]
    .iter()
    .position(|c| *c == name)
    .expect("a column")
}

fn pipe(flags: &str) -> BTreeMap<String, serde_json::Value> {
    parse_reduced(&ok(&format!(
        "mapfold-map {flags} < fixtures/real/flights.csv 2>/dev/null | {PIPE}"
    )))
}

#[test]
fn missing_values_are_counted_not_malformed() {
    let mut by: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
    for r in rows() {
        let k = if is_na(&r[col("carrier")]) {
            "\\N".to_owned()
        } else {
            r[col("carrier")].clone()
        };
        let e = by.entry(k).or_default();
        let v = &r[col("arr_delay")];
        if is_na(v) {
            e.1 += 1;
        } else {
            e.0.push(v.parse().expect("a number"));
        }
    }
    let got = pipe(&format!("--value arr_delay --key carrier {TEXT_NA}"));
    assert_eq!(got.len(), by.len() + 1);
    for (k, (xs, missing)) in &by {
        crate::oracle::check_key(k, &got[k], xs, None);
        assert_eq!(got[k]["missing"], *missing, "{k}");
    }
    let missing: u64 = by.values().map(|v| v.1).sum();
    let used: u64 = by.values().map(|v| v.0.len() as u64).sum();
    let n = rows().len() as u64;
    assert_eq!(
        counters(&ok(&format!(
            "mapfold-map --value arr_delay --key carrier < fixtures/real/flights.csv 2>/dev/null | {PIPE}"
        ))),
        [n + 2, 0, 1, 1, 0, missing, 0, used]
    );
    assert!(
        missing > 10 && by.contains_key("\\N"),
        "the fixture has gaps"
    );
}

#[test]
fn identifiers_keep_their_leading_zeros() {
    let mut text: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows() {
        let z = &r[col("zip")];
        let t = if is_na(z) {
            "\\N".to_owned()
        } else {
            z.clone()
        };
        *text.entry(t).or_default() += 1;
    }
    // With or without --text-keys (which only orders them), `02134` and
    // `2134` are two groups.
    for flags in ["--text-keys", ""] {
        let got = pipe(&format!("--key zip {flags} {TEXT_NA}"));
        assert_eq!(got.len(), text.len() + 1, "{flags}");
        for (k, n) in &text {
            assert_eq!(got[k], serde_json::json!({ "count": n }), "{flags} {k}");
        }
        assert!(got.contains_key("02134") && got.contains_key("2134"));
    }
}

#[test]
fn text_filters_and_sets() {
    let keep = |r: &Vec<String>| {
        let c = &r[col("carrier")];
        !is_na(c)
            && ["UA", "AA"].contains(&c.as_str())
            && !is_na(&r[col("dest")])
            && r[col("dest")] != "EWR, CAE"
    };
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows().iter().filter(|r| keep(r)) {
        *want.entry(r[col("dest")].clone()).or_default() += 1;
    }
    let got = pipe(&format!(
        "--key dest --where 'carrier in UA,AA' --where 'dest!=\"EWR, CAE\"' {TEXT_NA}"
    ));
    assert_eq!(got.len(), want.len() + 1);
    for (k, n) in &want {
        assert_eq!(got[k]["count"], *n, "{k}");
    }
    // A text key with a comma is shown quoted, once.
    let got = pipe("--key dest --where carrier==UA");
    assert!(got.contains_key("\"EWR, CAE\""), "{got:?}");
    // A comparison with a missing value does not hold: such rows are filtered.
    let na_carrier = rows().iter().filter(|r| is_na(&r[col("carrier")])).count() as u64;
    let c = counters(&ok(&format!(
        "mapfold-map --where carrier!=UA --where carrier!=AA --key carrier {TEXT_NA} < fixtures/real/flights.csv 2>/dev/null | {PIPE}"
    )));
    let ua_aa = rows()
        .iter()
        .filter(|r| ["UA", "AA"].contains(&r[col("carrier")].as_str()))
        .count() as u64;
    assert_eq!(c[4], ua_aa + na_carrier, "filtered");
}

/// A count-only job through `mapfold run`: the same answer, and success,
/// whatever the split size (the malformed limit is judged for the job).
#[test]
fn a_job_succeeds_or_fails_the_same_for_every_split_size() {
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows() {
        *want.entry(r[col("dest")].clone()).or_default() += 1;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for split in [64, 300, 2000, 1 << 20] {
        let out = dir.path().join(format!("ok-{split}"));
        ok(&format!(
            "mapfold run --quiet --input fixtures/real/flights.csv --output {} --key dest --split-size {split}",
            out.display()
        ));
        let got = parse_reduced(&std::fs::read_to_string(out.join("part-00000")).expect("part"));
        for (k, n) in &want {
            let shown = if k.contains(',') {
                format!("\"{k}\"")
            } else {
                k.clone()
            };
            assert_eq!(got[&shown]["count"], *n, "{k} with splits of {split}");
        }
        // One broken line of 242 is over a limit of 0.1%: refused for
        // every split size, naming the line, with nothing written.
        let bad = dir.path().join(format!("bad-{split}"));
        let o = bash(&format!(
            "mapfold run --quiet --input fixtures/real/flights.csv --output {} --key dest --split-size {split} --max-malformed 0.001",
            bad.display()
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("broken line"),
            "{split}: {err}"
        );
        assert!(!bad.exists());
    }
}

/// Mistakes that can be seen before any task runs are reported before any
/// task runs, once.
#[test]
fn input_mistakes_surface_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    // A column that is not there.
    let o = bash(&format!(
        "mapfold run --input fixtures/real/flights.csv --output {d}/o1 --value arr_dely"
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("\"arr_dely\" is not in the input's header line"),
        "{err}"
    );
    assert!(
        !err.contains("map task"),
        "reported by the driver, not the tasks: {err}"
    );
    // A binary file, named.
    std::fs::write(dir.path().join("x.bin"), b"\x00\x01\x02garbage\n").expect("write");
    let o = bash(&format!(
        "mapfold run --input {d}/x.bin --output {d}/o2 --key 1"
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("x.bin is not text"),
        "{err}"
    );
    // A plot that cannot be written: refused before the job, nothing written.
    let o = bash(&format!(
        "mapfold run --input fixtures/real/flights.csv --output {d}/o3 --key dest --plot {d}/nodir/x.png"
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("nodir") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!dir.path().join("o3").exists());
    // In a pipe, a usage error exits 2 (runners do not retry it).
    let o = bash("printf 'a,b\\n1,2\\n' | mapfold-map --value c");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A numeric sentinel (`-999`) can be a missing-value token too; then it is
/// counted as missing, never summed.
#[test]
fn numeric_missing_value_tokens() {
    let out = ok(&format!(
        "printf 'k,x\\na,1\\na,-999\\na,3\\n' | mapfold-map --value x --key k --na-values=-999,NA 2>/dev/null | {PIPE}"
    ));
    let m = parse_reduced(&out);
    assert_eq!(m["a"]["sum"], 4.0);
    assert_eq!(m["a"]["missing"], 1);
    assert_eq!(counters(&out)[5], 1);
}
