//! Several value columns in one pass (`--value a,b --value c`): each
//! column's numbers against exact arithmetic done here, its own histogram
//! and quantiles, the line counters by a direct count, the same bytes
//! however the input was split and combined, and the pipe agreeing with the
//! runner.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::oracle::{check_key, draw};
use crate::util::{PIPE, Rng, bash, ok, parse_reduced, same_for_splits};

const HIST_B: (f64, f64, u64) = (-1000.0, 1000.0, 16);

/// Per key, per column: the values read (NaN and infinities included) and
/// the count of missing ones.
type Columns = BTreeMap<String, [(Vec<f64>, u64); 3]>;

fn data(rng: &mut Rng) -> (String, Columns, [u64; 3]) {
    let mut text = String::from("k,a,b,c\n");
    let mut by_key: Columns = BTreeMap::new();
    let mut all = Vec::new();
    // used, nonfinite, missing: a line is used when some value is finite,
    // else non-finite when some value is, else missing.
    let mut counters = [0u64; 3];
    for _ in 0..1500 {
        let key = ["x", "y", "7"][rng.below(3) as usize].to_owned();
        let cols = by_key.entry(key.clone()).or_default();
        let mut fields = Vec::new();
        let (mut finite, mut nonfinite) = (false, false);
        for (j, col) in cols.iter_mut().enumerate() {
            // Column c is mostly missing, so some keys have none of it.
            let missing_odds = [10, 4, 1][j];
            if rng.below(missing_odds + 1) == 0 || (j == 2 && rng.below(3) > 0) {
                col.1 += 1;
                fields.push("NA".to_owned());
                continue;
            }
            let x = draw(rng, &all);
            all.push(x);
            col.0.push(x);
            finite |= x.is_finite();
            nonfinite |= !x.is_finite();
            fields.push(format!("{x:e}"));
        }
        counters[if finite {
            0
        } else if nonfinite {
            1
        } else {
            2
        }] += 1;
        text += &format!("{key},{}\n", fields.join(","));
    }
    (text, by_key, counters)
}

/// The exact order statistic of rank floor(q (n - 1)) of the finite values.
fn exact_quantile(xs: &[f64], q: f64) -> Option<f64> {
    let mut fin: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    fin.sort_by(f64::total_cmp);
    let rank = (q * (fin.len() as f64 - 1.0)).floor();
    fin.get(rank as usize).copied()
}

#[test]
fn each_column_is_exact_and_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (text, by_key, counters) = data(&mut Rng(0xC015));
    let input = dir.path().join("in.csv");
    std::fs::write(&input, &text).expect("write");
    let job = format!(
        "--value a,b --value c --key k --hist=b={}:{}:{} --quantiles 0.5 --reducers 2",
        HIST_B.0, HIST_B.1, HIST_B.2
    );
    let out = same_for_splits(dir.path(), &input, &job, &["9000", "50000", "100000000"], 7);
    let got = parse_reduced(&out);
    for (key, cols) in &by_key {
        let row = &got[key.as_str()];
        let obj = row.as_object().expect("an object");
        assert_eq!(
            obj.keys().collect::<Vec<_>>(),
            ["a", "b", "c"],
            "one object per column, in flag order: {row}"
        );
        for (name, (xs, missing)) in ["a", "b", "c"].iter().zip(cols) {
            let c = &row[*name];
            let hist = (*name == "b").then_some(HIST_B);
            check_key(&format!("{key}.{name}"), c, xs, hist);
            assert_eq!(c["missing"], *missing, "{key}.{name}: missing");
            let p50 = c["quantiles"]["p50"].as_f64();
            match exact_quantile(xs, 0.5) {
                None => assert_eq!(p50, None, "{key}.{name}"),
                Some(want) => {
                    let p50 = p50.expect("a median");
                    assert!(
                        (p50 - want).abs() <= want.abs() * 2f64.powi(-7),
                        "{key}.{name}: p50 {p50}, exact {want}"
                    );
                }
            }
        }
    }
    let c = &got[""]["counters"];
    assert_eq!(
        [&c["used"], &c["nonfinite"], &c["missing"]],
        counters.map(Value::from).each_ref(),
        "{c}"
    );
    assert_eq!(c["lines_in"], 1501);

    // The pipe, its reducer told nothing (it learns the job), prints the same.
    let piped = ok(&format!(
        "mapfold-map --value a,b,c --key k --hist=b={}:{}:{} --quantiles 0.5 < {} \
         | LC_ALL=C sort | mapfold-combine | mapfold-reduce",
        HIST_B.0,
        HIST_B.1,
        HIST_B.2,
        input.display()
    ));
    assert_eq!(parse_reduced(&piped), got);
}

/// One column's output is flat, as it always was; naming a histogram's
/// column is required with several, and mistakes are refused by name.
#[test]
fn one_column_stays_flat_and_mistakes_are_named() {
    let out = ok(&format!(
        "printf 'k,a,b\\n1,2,3\\n1,4,NA\\n' | mapfold-map --value a --key k | {PIPE}"
    ));
    let got = parse_reduced(&out);
    assert_eq!(got["1"]["count"], 2, "{out}");
    assert_eq!(got["1"]["sum"], 6.0, "{out}");
    for (flags, says) in [
        ("--value a,b --hist 0:1:2", "COL=LO:HI:BINS"),
        (
            "--value a,b --hist z=0:1:2",
            "not one of the --value columns",
        ),
        ("--value a --value a", "named twice"),
        (
            "--value a,b --hist a=0:1:2 --hist a=0:2:2",
            "second histogram",
        ),
    ] {
        let o = bash(&format!(
            "printf 'k,a,b\\n1,2,3\\n' | mapfold-map --key k {flags}"
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(says), "{flags}: {err}");
    }
}

/// The plot draws one column, the first by default, says which others the
/// output holds, and refuses a column the job did not have.
#[test]
fn plot_draws_the_column_asked_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    let mut text = String::from("year,t,p\n");
    for y in 1990..2010 {
        text += &format!("{y},{},{}\n", y - 1990, 2 * (y - 1990));
    }
    std::fs::write(dir.path().join("in.csv"), text).expect("write");
    ok(&format!(
        "mapfold run --quiet --input {d}/in.csv --output {d}/out --value t,p --key year"
    ));
    for col in ["", "--column p"] {
        ok(&format!("mapfold plot {d}/out {col} -o {d}/s.svg"));
        let svg = std::fs::read_to_string(dir.path().join("s.svg")).expect("svg");
        let (drawn, other) = if col.is_empty() {
            ("t", "p")
        } else {
            ("p", "t")
        };
        assert!(svg.contains(&format!("mean of {drawn} per year")), "{col}");
        assert!(
            svg.contains(&format!("also in this output: {other}")),
            "{col}"
        );
    }
    let o = bash(&format!("mapfold plot {d}/out --column q -o {d}/q.png"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("value columns are t, p"),
        "{err}"
    );
    assert!(!dir.path().join("q.png").exists());
}
