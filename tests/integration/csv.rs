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
fn decode_key(k: &str) -> String {
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
    let d = tempfile::tempdir().expect("tempdir");
    let python = std::env::var("MAPFOLD_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    ok(&format!(
        "{python} tests/integration/csv.d/corpus.py {}",
        d.path().display()
    ));
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
