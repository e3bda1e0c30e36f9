//! Derived keys: time buckets of dates written in the forms real tables
//! carry, against Python's datetime over the same rows, for several split
//! sizes; numeric buckets against integer arithmetic; the input file's
//! name as a key; values that are no date counted as malformed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::util::{Rng, bash, counters, ok, parse_reduced, python, root, same_for_splits};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date in one of the forms: ISO with `T` or a space, an offset, a
/// month name first or last, slashes.
fn when(rng: &mut Rng) -> String {
    let (y, m, d) = (1999 + rng.below(4), 1 + rng.below(12), 1 + rng.below(28));
    let (hh, mm, ss) = (rng.below(24), rng.below(60), rng.below(60));
    match rng.below(7) {
        0 => format!("{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}"),
        1 => format!("{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}"),
        2 => format!(
            "{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}+0{}:30",
            rng.below(9)
        ),
        3 => format!("{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.250Z"),
        4 => format!("{} {d}, {y}", MONTHS[m as usize - 1]),
        5 => format!("{y}/{m:02}/{d:02}"),
        _ => format!("{y} {}", MONTHS[m as usize - 1]),
    }
}

#[test]
fn time_buckets_match_pythons_datetime() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(2016);
    let mut text = String::from("when,v\n");
    for _ in 0..2500 {
        writeln!(text, "\"{}\",{}", when(&mut rng), rng.below(100)).expect("string");
    }
    let input = d.path().join("when.csv");
    std::fs::write(&input, &text).expect("write");
    for unit in ["year", "quarter", "month", "week", "day", "hour", "minute"] {
        let want: BTreeMap<String, (u64, u64)> =
            serde_json::from_str::<BTreeMap<String, [u64; 2]>>(&ok(&format!(
                "{} {} {} {unit}",
                python(),
                root()
                    .join("tests/integration/derived.d/buckets.py")
                    .display(),
                input.display()
            )))
            .expect("json")
            .into_iter()
            .map(|(k, [n, s])| (k, (n, s)))
            .collect();
        let out = same_for_splits(
            d.path(),
            &input,
            &format!("--value v --key '{unit}(when)'"),
            &["3000", "20000", "1000000"],
            3,
        );
        let got: BTreeMap<String, (u64, u64)> = parse_reduced(&out)
            .into_iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| {
                let n = v["count"].as_u64().expect("count");
                (k, (n, v["sum"].as_f64().expect("sum") as u64))
            })
            .collect();
        assert_eq!(got, want, "{unit}");
        // A date comparison in --where, the same rows as datetime keeps.
        if unit == "month" {
            let want: BTreeMap<String, [u64; 2]> = serde_json::from_str(&ok(&format!(
                "{} {} {} month 2000-06-01 '2001-01-01 12:00'",
                python(),
                root()
                    .join("tests/integration/derived.d/buckets.py")
                    .display(),
                input.display()
            )))
            .expect("json");
            let out = ok(&format!(
                "mapfold run --quiet --input {} --output {}/w --value v --key 'month(when)' \
                 --where 'when>=2000-06-01' --where 'when<2001-01-01 12:00' && cat {}/w/part-*",
                input.display(),
                d.path().display(),
                d.path().display()
            ));
            let got: BTreeMap<String, [u64; 2]> = parse_reduced(&out)
                .into_iter()
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| {
                    let n = v["count"].as_u64().expect("count");
                    (k, [n, v["sum"].as_f64().expect("sum") as u64])
                })
                .collect();
            assert_eq!(got, want, "--where on dates");
        }
        // In time order in the part file: ISO text sorts as time does.
        let keys: Vec<&String> = got.keys().collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}

/// Floats as writers write them (17 significant digits after zeros,
/// subnormals, 1e+300): every one binned, against exact fractions of the
/// same text.
#[test]
fn bins_of_floats_of_every_magnitude() {
    let d = crate::util::written_by("tests/integration/derived.d/float_bins.py", "");
    let out = ok(&format!(
        "mapfold run --quiet --input {0}/x.csv --output {0}/o --key 'bin(x, 0.5)' --split-size 20000 \
         && cat {0}/o/part-*",
        d.path().display()
    ));
    assert_eq!(counters(&out)[3], 0, "no line is malformed: {out}");
    let want: BTreeMap<String, u64> =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("want.json")).expect("want"))
            .expect("json");
    let got: BTreeMap<String, u64> = parse_reduced(&out)
        .into_iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k, v["count"].as_u64().expect("count")))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn bins_files_and_bad_dates() {
    let d = tempfile::tempdir().expect("tempdir");
    // bin(x, 0.25) over quarters written as decimals: k / 4 exactly.
    let mut text = String::from("x,when\n");
    let mut want: BTreeMap<i64, u64> = BTreeMap::new();
    for i in -200i64..200 {
        // x = i / 8: bucket floor(i / 2) / 4.
        writeln!(text, "{},2016-01-01", i as f64 / 8.0).expect("string");
        *want.entry(i.div_euclid(2)).or_insert(0) += 1;
    }
    text += "oops,2016-01-01\n";
    let input = d.path().join("x.csv");
    std::fs::write(&input, &text).expect("write");
    let out = ok(&format!(
        "mapfold run --quiet --input {} --output {}/o --key 'bin(x, 0.25)' --max-malformed 0.01 \
         && cat {}/o/part-*",
        input.display(),
        d.path().display(),
        d.path().display()
    ));
    let got = parse_reduced(&out);
    assert_eq!(
        counters(&out)[3],
        1,
        "the line with x = oops is malformed: {out}"
    );
    for (k, n) in &want {
        let key = (*k as f64 / 4.0).to_string();
        assert_eq!(got[&key]["count"].as_u64(), Some(*n), "bin {key}: {out}");
    }
    // Two files: the key is each file's name, as Hadoop names the input.
    for (name, rows) in [("a-20160101-000000.csv", 3), ("b-20160101-010000.csv", 5)] {
        let mut t = String::from("x\n");
        for i in 0..rows {
            writeln!(t, "{i}").expect("string");
        }
        std::fs::create_dir_all(d.path().join("in")).expect("dir");
        std::fs::write(d.path().join("in").join(name), t).expect("write");
    }
    let out = ok(&format!(
        "mapfold run --quiet --input {0}/in --output {0}/f --key file,'hour(file)' && cat {0}/f/part-*",
        d.path().display()
    ));
    let got: Vec<(String, Value)> = parse_reduced(&out)
        .into_iter()
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let keys: Vec<(&str, u64)> = got
        .iter()
        .map(|(k, v)| (k.as_str(), v["count"].as_u64().expect("count")))
        .collect();
    assert_eq!(
        keys,
        [
            ("a-20160101-000000.csv,2016-01-01T00:00", 3),
            ("b-20160101-010000.csv,2016-01-01T01:00", 5)
        ]
    );
    // Numeric dates need their order stated; a wrong key function is named.
    std::fs::write(d.path().join("us.csv"), "when,v\n01/04/2016,1\n").expect("write");
    let o = bash(&format!(
        "mapfold-map --value v --key 'month(when)' < {}/us.csv",
        d.path().display()
    ));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--date-order"),
        "{o:?}"
    );
    let o = ok(&format!(
        "mapfold-map --value v --key 'month(when)' --date-order dmy < {}/us.csv 2>/dev/null | {}",
        d.path().display(),
        crate::util::PIPE
    ));
    assert!(o.contains("2016-04\t"), "{o}");
    // A name like a call that is no function is a column: headers such
    // as `Population (thousands)` are common; a typo of a function is
    // told what the functions are.
    std::fs::write(
        d.path().join("pop.csv"),
        "Region (code),when\nA1,2016-01-01\nA1,2016-02-01\nB2,2016-01-05\n",
    )
    .expect("write");
    let o = ok(&format!(
        "mapfold-map --key 'Region (code),month(when)' < {}/pop.csv 2>/dev/null | {}",
        d.path().display(),
        crate::util::PIPE
    ));
    assert!(
        o.contains("A1,2016-02\t") && o.contains("B2,2016-01\t"),
        "{o}"
    );
    let o = bash(&format!(
        "mapfold-map --key 'fortnight(when)' < {}/pop.csv",
        d.path().display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("a key function is one of year,"),
        "{err}"
    );
}
