//! Real CSV as its writers write it: R's `write.csv`, pandas' three
//! quoting modes, Excel (CRLF and a byte-order mark), PostgreSQL's
//! `COPY ... CSV` with `\N`, and a lone CR ending each line. Python's `csv`
//! module writes the files and, from the rows themselves, the answer:
//! per key, the count of numbers and their exact sum.

use serde_json::Value;

use crate::util::{PIPE, ok, parse_reduced};

const FILES: [&str; 6] = [
    "r_write_csv.csv",
    "pandas_all.csv",
    "pandas_minimal.csv",
    "excel.csv",
    "postgres.csv",
    "lone_cr.csv",
];

/// A wire key as text: `\N` is the missing key (here the empty field), a
/// quoted key has `""`, `\\` and `\xHH` escapes.
pub(crate) fn decode_key(k: &str) -> String {
    if k == "\\N" {
        return String::new();
    }
    let Some(inner) = k.strip_prefix('"').and_then(|k| k.strip_suffix('"')) else {
        return k.to_owned();
    };
    let (mut out, mut chars) = (Vec::new(), inner.bytes().peekable());
    while let Some(c) = chars.next() {
        match c {
            b'"' => {
                chars.next_if_eq(&b'"');
                out.push(b'"');
            }
            b'\\' if chars.next_if_eq(&b'\\').is_some() => out.push(b'\\'),
            b'\\' if chars.next_if_eq(&b'x').is_some() => {
                let hex: String = [chars.next(), chars.next()]
                    .iter()
                    .flatten()
                    .map(|&b| b as char)
                    .collect();
                out.push(u8::from_str_radix(&hex, 16).expect("two hex digits"));
            }
            c => out.push(c),
        }
    }
    String::from_utf8(out).expect("UTF-8 key")
}

fn corpus() -> (tempfile::TempDir, serde_json::Map<String, Value>) {
    let d = crate::util::written_by("tests/integration/csv.d/corpus.py", "");
    let answer = std::fs::read_to_string(d.path().join("answer.json")).expect("answer");
    let Value::Object(answer) = serde_json::from_str(&answer).expect("JSON") else {
        panic!("answer.json is an object");
    };
    (d, answer)
}

fn check(out: &str, answer: &serde_json::Map<String, Value>, what: &str) {
    let got = parse_reduced(out);
    let keys: Vec<String> = got
        .keys()
        .filter(|k| !k.is_empty())
        .map(|k| decode_key(k))
        .collect();
    let mut want: Vec<&String> = answer.keys().collect();
    want.sort();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted.iter().collect::<Vec<_>>(), want, "{what}: keys");
    for (k, v) in got.iter().filter(|(k, _)| !k.is_empty()) {
        let want = &answer[&decode_key(k)];
        assert_eq!(v["count"], want[0], "{what}: count of {k}");
        let sum: f64 = want[1].as_str().expect("sum").parse().expect("a float");
        assert_eq!(v["sum"].as_f64(), Some(sum), "{what}: sum of {k}");
    }
    let c = &got[""]["counters"];
    assert_eq!(c["malformed"], 0, "{what}: {c}");
    assert_eq!(c["header"], 1, "{what}: {c}");
}

/// Every writer's file gives the answer through a plain pipe, and the
/// local runner gives the same bytes.
#[test]
fn every_writer_gives_the_answer() {
    let (d, answer) = corpus();
    for f in FILES {
        let path = d.path().join(f);
        let out = ok(&format!(
            "mapfold-map --value v --key k --text-keys < {} | {PIPE}",
            path.display()
        ));
        check(&out, &answer, f);
        let o = d.path().join(format!("{f}.out"));
        ok(&format!(
            "mapfold run --quiet --input {} --output {} --value v --key k --text-keys",
            path.display(),
            o.display()
        ));
        let parts = ok(&format!("cat {}/part-*", o.display()));
        assert_eq!(parts, out, "{f}: mapfold run and the pipe");
    }
}

/// A file whose quoted fields hold line breaks is read whole on the local
/// runner whatever the split size (and says so); a task of a split that
/// meets such a record without `--whole-files` fails, naming the cause.
#[test]
fn records_that_span_lines_are_never_cut() {
    let (d, answer) = corpus();
    let path = d.path().join("pandas_minimal.csv");
    let o = d.path().join("out");
    let run = crate::util::bash(&format!(
        "mapfold run --quiet --input {} --output {} --value v --key k --text-keys --split-size 4096",
        path.display(),
        o.display()
    ));
    assert!(run.status.success(), "{run:?}");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("read as one split"), "{err}");
    check(
        &ok(&format!("cat {}/part-*", o.display())),
        &answer,
        "split size 4096",
    );
    let env = [
        ("mapreduce_map_input_file", "file:/data/posts.csv"),
        ("mapreduce_map_input_start", "0"),
    ];
    let task = |extra: &str| {
        crate::util::bash_env(
            &format!(
                "mapfold-map --value v --key k --text-keys {extra} < {} > /dev/null",
                path.display()
            ),
            &env,
        )
    };
    let cut = task("");
    assert!(!cut.status.success());
    let err = String::from_utf8_lossy(&cut.stderr);
    assert!(
        err.contains("holds a line break") && err.contains("--whole-files"),
        "{err}"
    );
    assert!(task("--whole-files").status.success());
}

/// Lines ended by `\n`, `\r\n` and a lone `\r`, mixed in one file: each
/// ends a line on every split size, as Hadoop's LineRecordReader reads
/// them, and a blank line between them is counted blank.
#[test]
fn every_line_ending_ends_a_line_on_every_split() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut rng = crate::util::Rng(5);
    let mut text = b"carrier,origin,x\n".to_vec();
    let mut want = std::collections::BTreeMap::<String, (u64, i64)>::new();
    let mut blank = 0;
    for i in 0..20_000 {
        let k = ["AA", "UA", "DL"][rng.index(3)];
        let x = rng.index(1000) as i64;
        text.extend_from_slice(format!("{k},JFK,{x}").as_bytes());
        text.extend_from_slice([&b"\n"[..], b"\r\n", b"\r"][rng.index(3)]);
        if i % 1000 == 7 {
            text.extend_from_slice(b"\r");
            blank += 1;
        }
        let e = want.entry(k.to_owned()).or_default();
        e.0 += 1;
        e.1 += x;
    }
    let path = d.path().join("mixed.csv");
    std::fs::write(&path, &text).expect("write");
    let pipe = ok(&format!(
        "mapfold-map --value x --key carrier < {} | {PIPE}",
        path.display()
    ));
    let got = parse_reduced(&pipe);
    for (k, (n, sum)) in &want {
        assert_eq!(got[k.as_str()]["count"], *n, "{k}");
        assert_eq!(got[k.as_str()]["sum"].as_f64(), Some(*sum as f64), "{k}");
    }
    assert_eq!(got[""]["counters"]["blank"], blank);
    for split in [1000, 4096, 65_536] {
        let o = d.path().join(format!("o{split}"));
        ok(&format!(
            "mapfold run --quiet --input {} --output {} --value x --key carrier --split-size {split}",
            path.display(),
            o.display()
        ));
        let parts = ok(&format!("cat {}/part-*", o.display()));
        assert_eq!(parts, pipe, "split size {split}");
    }
}
