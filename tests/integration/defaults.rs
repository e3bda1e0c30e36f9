//! The canonical jobs give the right answer with no flag beyond the job's
//! own: a word count (words that are the header's name, missing-value
//! tokens and numbers written many ways each count as written), ZIP codes
//! with leading zeros, row counts of files with headers (never counted as
//! rows), R's quoted `"NA"` country beside its bare `NA` value, digits
//! grouped with `--thousands`, and an `in` list with a comma in an item.
//! Python writes the files and, from the rows, the answers.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::csv::decode_key;
use crate::util::{PIPE, bash, counters, ok, parse_reduced};

fn files() -> (tempfile::TempDir, Value) {
    let d = crate::util::written_by("tests/integration/defaults.d/make.py", "");
    let answer = std::fs::read_to_string(d.path().join("answer.json")).expect("answer");
    (d, serde_json::from_str(&answer).expect("JSON"))
}

/// `mapfold-map FLAGS < FILE | sort | combine | reduce`: the plain pipe.
fn piped(file: impl std::fmt::Display, flags: &str) -> String {
    ok(&format!("mapfold-map {flags} < {file} | {PIPE}"))
}

/// `mapfold run` over `inputs` with `flags`: the part files, and stderr.
fn run(d: &std::path::Path, inputs: &str, flags: &str) -> (String, String) {
    let o = d.join(format!("out{}", rand_suffix()));
    let r = bash(&format!(
        "mapfold run --quiet --input {inputs} --output {} {flags}",
        o.display()
    ));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success(), "{flags}: {err}");
    (ok(&format!("cat {}/part-*", o.display())), err)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Key (as written in the data; `\N` the missing key) -> its JSON.
fn by_key(out: &str) -> BTreeMap<String, Value> {
    parse_reduced(out)
        .into_iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (if k == "\\N" { k } else { decode_key(&k) }, v))
        .collect()
}

#[test]
fn a_word_count_counts_every_word_as_written() {
    let (d, answer) = files();
    let path = d.path().join("words.txt");
    let pipe = piped(path.display(), "--key word");
    // Words such as `007` tell the driver the keys are codes: it sorts
    // them as text, and says so.
    let (parts, err) = run(d.path(), &path.display().to_string(), "--key word");
    assert!(err.contains("--text-keys"), "{err}");
    let text = piped(path.display(), "--key word --text-keys");
    assert_eq!(parts, text, "mapfold run and the pipe");
    assert_eq!(by_key(&parts), by_key(&pipe), "the same groups either way");
    let got = by_key(&pipe);
    let want = answer["words"].as_object().expect("words");
    let got_counts: BTreeMap<&str, u64> = got
        .iter()
        .map(|(k, v)| (k.as_str(), v["count"].as_u64().expect("count")))
        .collect();
    let want_counts: BTreeMap<&str, u64> = want
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_u64().expect("count")))
        .collect();
    assert_eq!(got_counts, want_counts);
    let c = counters(&pipe);
    assert_eq!(c[2], 1, "one header: {c:?}");
    // Integers written the usual way sort as numbers.
    let order: Vec<&str> = pipe
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(k, _)| k))
        .filter(|k| ["-3", "0", "7", "2024"].contains(k))
        .collect();
    assert_eq!(
        order,
        ["-3", "0", "7", "2024"],
        "numeric keys in numeric order"
    );
}

#[test]
fn zip_codes_keep_their_zeros_and_sort_as_written() {
    let (d, answer) = files();
    let path = d.path().join("zips.csv");
    let flags = "--key zip --value amount";
    let (parts, err) = run(d.path(), &path.display().to_string(), flags);
    assert!(
        err.contains("--text-keys"),
        "the driver says what it chose: {err}"
    );
    let pipe = piped(path.display(), &format!("{flags} --text-keys"));
    assert_eq!(parts, pipe, "mapfold run is the pipe with --text-keys");
    for out in [&parts, &piped(path.display(), flags)] {
        let got = by_key(out);
        let want = answer["zips"].as_object().expect("zips");
        assert_eq!(got.len(), want.len(), "{out}");
        for (zip, w) in want {
            let g = &got[zip];
            assert_eq!(g["count"], w[0], "count of {zip}");
            let sum: f64 = w[1].as_str().expect("sum").parse().expect("float");
            assert_eq!(g["sum"].as_f64(), Some(sum), "sum of {zip}");
        }
    }
    let keys: Vec<&str> = parts
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(k, _)| k))
        .filter(|k| !k.is_empty())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted, "text keys sort by bytes");
}

#[test]
fn headers_are_never_rows() {
    let (d, answer) = files();
    let inputs = (0..3)
        .map(|i| {
            d.path()
                .join(format!("years_{i}.csv"))
                .display()
                .to_string()
        })
        .collect::<Vec<_>>();
    let rows = answer["rows"].as_u64().expect("rows");
    let (parts, _) = run(d.path(), &inputs.join(" --input "), "");
    assert_eq!(by_key(&parts)["*"]["count"], rows, "{parts}");
    assert_eq!(counters(&parts)[2], 3, "three headers");
    // The same with a small split size: splits past a file's start hold
    // no header.
    let (small, _) = run(d.path(), &inputs.join(" --input "), "--split-size 1000");
    assert_eq!(small, parts);
    let (by_year, _) = run(d.path(), &inputs.join(" --input "), "--key 3");
    let got: BTreeMap<String, u64> = by_key(&by_year)
        .into_iter()
        .map(|(k, v)| (k, v["count"].as_u64().expect("count")))
        .collect();
    let want: BTreeMap<String, u64> = answer["years"]
        .as_object()
        .expect("years")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect();
    assert_eq!(got, want, "no group `year`");
    // A plain pipe per file decides as the driver does.
    let mut sum = 0;
    for f in &inputs {
        let out = piped(f, "");
        sum += by_key(&out)["*"]["count"].as_u64().expect("count");
    }
    assert_eq!(sum, rows);
    // Files joined with `cat`: --header every takes each repeated header.
    let joined = ok(&format!(
        "cat {} | mapfold-map --key 3 --header every | {PIPE}",
        inputs.join(" ")
    ));
    assert_eq!(by_key(&joined), by_key(&by_year));
    // --header no: the first line is a row.
    let no = piped(&inputs[0], "--header no");
    let first = piped(&inputs[0], "");
    assert_eq!(
        by_key(&no)["*"]["count"].as_u64(),
        by_key(&first)["*"]["count"].as_u64().map(|n| n + 1)
    );
}

#[test]
fn missing_values_and_the_text_na() {
    let (d, answer) = files();
    let path = d.path().join("r_na.csv");
    let pipe = piped(path.display(), "--key country --value value");
    let (parts, _) = run(
        d.path(),
        &path.display().to_string(),
        "--key country --value value",
    );
    assert_eq!(parts, pipe);
    let got = by_key(&pipe);
    for (c, w) in answer["r_na"].as_object().expect("r_na") {
        assert_eq!(got[c]["count"], w[0], "values of {c}");
        assert_eq!(got[c]["missing"], w[1], "missing values of {c}");
    }
    assert!(
        !got.contains_key("\\N"),
        "a country NA is not a missing key"
    );
}

#[test]
fn thousands_separators_and_in_lists() {
    let (d, answer) = files();
    let path = d.path().join("thousands.csv");
    let p = path.display();
    let out = piped(&p, "--value count --thousands ,");
    let all = &by_key(&out)["*"];
    assert_eq!(all["count"], answer["thousands"][0]);
    let sum: f64 = answer["thousands"][1]
        .as_str()
        .expect("sum")
        .parse()
        .expect("f64");
    assert_eq!(all["sum"].as_f64(), Some(sum));
    // Without the flag, every grouped number is malformed, not skipped.
    let strict = bash(&format!(
        "mapfold-map --value count --max-malformed 1 < {p} | {PIPE}"
    ));
    let c = counters(&String::from_utf8_lossy(&strict.stdout));
    assert_eq!(c[3], answer["grouped"].as_u64().expect("grouped"), "{c:?}");
    // An item of an `in` list may hold a comma, in quotes.
    let w = r#"--where 'area in "China, Taiwan Province of China",World'"#;
    let out = piped(p, w);
    assert_eq!(by_key(&out)["*"]["count"], answer["places"]);
    // The thousands separator cannot be the delimiter of unquoted fields.
    let bad = bash("mapfold-map --delimiter space --thousands space < /dev/null");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--thousands"));
}

/// Every file of these jobs gives the same bytes through a plain pipe and
/// the local runner at every split size (splits that start past a file's
/// header, end inside a quoted field's line, or hold one line).
#[test]
fn every_split_size_gives_the_pipes_bytes() {
    let (d, _) = files();
    for (file, job) in [
        ("zips.csv", "--key zip --value amount --text-keys"),
        ("r_na.csv", "--key country --value value"),
        ("thousands.csv", "--key area --value count --thousands ,"),
        ("words.txt", "--key word --text-keys"),
        ("years_0.csv", "--key 3"),
    ] {
        let path = d.path().join(file);
        let pipe = piped(path.display(), job);
        let runs =
            crate::util::same_for_splits(d.path(), &path, job, &["97", "4096", "1000000"], 7);
        assert_eq!(runs, pipe, "{file}");
    }
}
