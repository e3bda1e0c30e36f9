//! Fuzz-style runs of the real binaries: arbitrary bytes and mutated valid
//! records into the combiner and the reducer, arbitrary lines into the
//! mapper. Whatever comes in: no panic, no crash by signal, a clear error
//! naming the line when the input is refused, and every mapper input line
//! in exactly one counter.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{COUNTERS, Rng, bin_dir};

fn run(bin: &str, args: &[&str], input: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new(bin_dir().join(bin))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = feeder.join();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Valid wire records of several shapes, to mutate.
fn seeds() -> Vec<u8> {
    let (_, out, _) = run(
        "mapfold-map",
        &[
            "--value",
            "x",
            "--key",
            "k",
            "--hist=-5:5:4",
            "--max-malformed",
            "1",
        ],
        b"k,x\na,1\na,-16384\nb,1e308\nb,-1e308\nc,5e-324\nc,nan\nd,inf\n007,2.5\n",
    );
    out.into_bytes()
}

const NASTY: &[&[u8]] = &[
    b"18446744073709551615",
    b"18446744073709551616",
    b"-1",
    b"0",
    b"ffffffff",
    b"-100000000",
    b"1:",
    b";",
    b"=",
    b" ",
    b"\t",
    b"mf1",
    b"mf2",
    b"1e400",
    b"nan",
    b"99999999999999999999999999",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.index(4) {
        let at = rng.index(v.len() + 1);
        match rng.index(5) {
            0 if !v.is_empty() => {
                let i = rng.index(v.len());
                v[i] = rng.next() as u8;
            }
            1 => {
                let end = (at + rng.index(8)).min(v.len());
                v.drain(at..end);
            }
            2 => {
                let n = NASTY[rng.index(NASTY.len())];
                v.splice(at..at, n.iter().copied());
            }
            3 => {
                // Replace a number with a nasty token.
                let end = (at..v.len())
                    .find(|&i| !v[i].is_ascii_hexdigit())
                    .unwrap_or(v.len());
                let n = NASTY[rng.index(NASTY.len())];
                v.splice(at..end, n.iter().copied());
            }
            _ => {
                let n = rng.index(16);
                v.splice(at..at, (0..n).map(|_| rng.next() as u8));
            }
        }
    }
    v
}

fn assert_clean(what: &str, input: &[u8], code: Option<i32>, err: &str) {
    let shown = String::from_utf8_lossy(input);
    assert!(
        matches!(code, Some(0) | Some(1)),
        "{what}: exit {code:?} (a signal or a panic) on {shown:?}:\n{err}"
    );
    assert!(
        !err.contains("panicked"),
        "{what}: panic on {shown:?}:\n{err}"
    );
    if code == Some(1) {
        assert!(
            err.contains("error:"),
            "{what}: no message on {shown:?}:\n{err}"
        );
        assert_eq!(
            err.matches("error:").count(),
            1,
            "{what}: said twice:\n{err}"
        );
    }
}

#[test]
fn combiner_and_reducer_refuse_bad_records_cleanly() {
    let seed = seeds();
    let mut sorted: Vec<&[u8]> = seed
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    sorted.sort();
    let seed = sorted.join(&b'\n');
    let mut rng = Rng(7);
    let mut refused = 0;
    for case in 0..300 {
        let input = if case % 5 == 0 {
            (0..rng.index(200)).map(|_| rng.next() as u8).collect()
        } else {
            mutate(&mut rng, &seed)
        };
        for bin in ["mapfold-combine", "mapfold-reduce"] {
            let (code, _, err) = run(bin, &[], &input);
            assert_clean(bin, &input, code, &err);
            if code == Some(1) {
                refused += 1;
                assert!(
                    err.contains("line ") || err.contains("reading"),
                    "{bin}: which line? {err}"
                );
            }
        }
    }
    // The mutations do reach the decoder's checks.
    assert!(
        refused > 100,
        "only {refused} refusals: the cases are too tame"
    );
}

/// The records of CSV text, counted as RFC 4180 and Python's `csv` read
/// them: `\n`, `\r\n` or a lone `\r` ends one outside quotes, a quote
/// opens a quoted field only at a field's start, `""` inside is a quote,
/// and a last record needs no terminator.
fn csv_records(input: &[u8]) -> usize {
    let (mut records, mut quoted, mut at_start, mut pending) = (0, false, true, false);
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        pending = true;
        if quoted {
            if c == b'"' {
                if input.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if c == b'"' && at_start {
            quoted = true;
        } else if c == b'\n' || c == b'\r' {
            if c == b'\r' && input.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            records += 1;
            pending = false;
        }
        at_start = !quoted && matches!(c, b',' | b'\n' | b'\r');
        i += 1;
    }
    records + usize::from(pending)
}

#[test]
fn any_lines_into_the_mapper_land_in_exactly_one_counter() {
    let mut rng = Rng(11);
    let alphabet = b"0123456789.,-+eE\"\t \r\nnaifNA\xef\xbb\xbf\xff\x00x,";
    for case in 0..200 {
        let mut input = b"k,x\n".to_vec();
        for _ in 0..rng.index(60) {
            input.push(alphabet[rng.index(alphabet.len())]);
        }
        if case % 3 == 0 {
            input.extend((0..rng.index(64)).map(|_| rng.next() as u8));
        }
        let (code, out, err) = run(
            "mapfold-map",
            &[
                "--value",
                "x",
                "--key",
                "k",
                "--hist=-1:1:3",
                "--max-malformed",
                "1",
            ],
            &input,
        );
        assert_clean("mapfold-map", &input, code, &err);
        assert_eq!(code, Some(0), "{err}");
        let lines = csv_records(&input);
        let counter = |name: &str| -> u64 {
            err.lines()
                .find_map(|l| l.strip_prefix(&format!("reporter:counter:mapfold,{name},")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} counter in {err}"))
        };
        assert_eq!(
            counter("lines_in"),
            lines as u64,
            "{:?}",
            String::from_utf8_lossy(&input)
        );
        let parts: u64 = COUNTERS[1..].iter().map(|n| counter(n)).sum();
        assert_eq!(parts, lines as u64);
        // What it wrote is valid input for the combiner.
        let mut recs: Vec<&str> = out.lines().collect();
        recs.sort_unstable();
        let (code, _, err) = run("mapfold-combine", &[], (recs.join("\n") + "\n").as_bytes());
        assert_eq!(code, Some(0), "{err}");
    }
}

/// Records of every aggregate, several values a key, to mutate: quantile
/// sketches, histograms with values past both edges, co-moments, a 2-D
/// grid and distinct counts, in a one-column and a two-column job.
fn rich_seeds() -> Vec<Vec<u8>> {
    let mut data = String::from("k,x,y,d\n");
    let mut rng = Rng(11);
    for i in 0..60 {
        let x = match i % 7 {
            0 => "nan".to_owned(),
            1 => "-inf".to_owned(),
            2 => format!("{}", (rng.index(2000) as f64 - 1000.0) / 8.0),
            3 => "NA".to_owned(),
            _ => format!("{}", (rng.index(200) as f64 - 100.0) / 16.0),
        };
        let y = (rng.index(100) as f64) / 10.0;
        data.push_str(&format!("k{},{x},{y},{}\n", i % 4, i % 9));
    }
    let jobs: [&[&str]; 3] = [
        &["--value", "x", "--key", "k", "--hist=-5:5:4", "--quantiles"],
        &[
            "--value",
            "x",
            "--key",
            "k",
            "--corr",
            "x,y",
            "--hist2d",
            "x=-5:5:3,y=0:10:2",
            "--distinct",
            "d",
        ],
        &["--value", "x", "--value", "y", "--key", "k", "--quantiles"],
    ];
    jobs.iter()
        .map(|args| {
            let mut args = args.to_vec();
            args.extend(["--max-malformed", "1"]);
            let (code, out, err) = run("mapfold-map", &args, data.as_bytes());
            assert_eq!(code, Some(0), "{err}");
            let mut lines: Vec<&str> = out.lines().collect();
            lines.sort_unstable();
            lines.join("\n").into_bytes()
        })
        .collect()
}

/// What any state of real values finishes to: a mean within the
/// extremes, a standard deviation no larger than the extremes allow
/// (Bhatia–Davis, for the sample), quantiles within the extremes, a
/// histogram that counts every value once and an r within ±1. Returns
/// why not.
fn contradiction(v: &serde_json::Value) -> Option<String> {
    let f = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
    if let Some(n) = v.get("count").and_then(serde_json::Value::as_u64) {
        let nonfinite = v.get("nonfinite").and_then(serde_json::Value::as_u64)?;
        if let Some(h) = v.get("hist") {
            let bins: u64 = h["bins"]
                .as_array()?
                .iter()
                .filter_map(|b| b.as_u64())
                .sum();
            let tails = ["underflow", "overflow", "nan"].map(|t| h[t].as_u64().unwrap_or(0));
            if u128::from(bins) + tails.iter().map(|&t| u128::from(t)).sum::<u128>()
                != u128::from(n) + u128::from(nonfinite)
            {
                return Some(format!("histogram total against count {n}"));
            }
        }
        if n == 0 {
            return None;
        }
        let (Some(min), Some(max), Some(mean)) = (f("min"), f("max"), f("mean")) else {
            return Some("no min, max or mean".into());
        };
        if !(min <= mean && mean <= max) {
            return Some(format!("mean {mean} outside [{min}, {max}]"));
        }
        if n >= 2 {
            let Some(sd) = f("stddev") else {
                return Some(format!("stddev {:?}", v.get("stddev")));
            };
            let nf = n as f64;
            let bound = ((max - mean) * (mean - min) * nf / (nf - 1.0)).sqrt();
            if sd.is_nan() || sd < 0.0 || sd > bound * (1.0 + 1e-9) + f64::MIN_POSITIVE {
                return Some(format!("stddev {sd} past {bound}"));
            }
        }
        for (name, q) in v
            .get("quantiles")
            .and_then(|q| q.as_object())
            .into_iter()
            .flatten()
        {
            let q = q.as_f64()?;
            if !(min <= q && q <= max) {
                return Some(format!("{name} {q} outside [{min}, {max}]"));
            }
        }
    }
    let r = v
        .get("corr")
        .and_then(|c| c.get("r"))
        .and_then(|r| r.as_f64());
    r.filter(|r| !(-1.0..=1.0).contains(r))
        .map(|r| format!("r {r}"))
}

/// Every partial the combiner or the reducer accepts, however mutated,
/// finishes to numbers consistent with its count, min and max, and
/// whatever the combiner writes, the reducer accepts.
#[test]
fn accepted_partials_finish_to_consistent_numbers() {
    let mut rng = Rng(23);
    let (mut accepted, mut refused_as_contradiction) = (0, 0);
    for seed in rich_seeds() {
        let records: Vec<&[u8]> = seed.split(|&b| b == b'\n').collect();
        for case in 0..150 {
            // One record, mutated: mostly a digit or two changed, which
            // keeps it decodable and makes its parts disagree.
            let mut input = records[rng.index(records.len())].to_vec();
            if case % 3 == 0 {
                input = mutate(&mut rng, &input);
            } else {
                for _ in 0..1 + rng.index(2) {
                    let digits: Vec<usize> = (0..input.len())
                        .filter(|&i| input[i].is_ascii_digit())
                        .collect();
                    if let Some(&i) = digits.get(rng.index(digits.len().max(1))) {
                        input[i] = b'0' + rng.index(10) as u8;
                    }
                }
            }
            input.push(b'\n');
            let (code, out, err) = run("mapfold-reduce", &["--value", "x", "--quantiles"], &input);
            assert_clean("mapfold-reduce", &input, code, &err);
            refused_as_contradiction += usize::from(err.contains("contradicts itself"));
            if code == Some(0) {
                accepted += 1;
                for line in out.lines() {
                    let (key, json) = line.split_once('\t').expect("KEY<TAB>JSON");
                    let v: serde_json::Value = serde_json::from_str(json).expect("JSON");
                    for c in std::iter::once(&v)
                        .chain(v.as_object().into_iter().flat_map(|o| o.values()))
                    {
                        if let Some(why) = contradiction(c) {
                            panic!(
                                "{why} for key {key:?} of {:?}:\n{line}",
                                String::from_utf8_lossy(&input)
                            );
                        }
                    }
                }
            }
            let (code, combined, err) = run("mapfold-combine", &[], &input);
            assert_clean("mapfold-combine", &input, code, &err);
            if code == Some(0) {
                let (code, _, err) = run("mapfold-reduce", &[], combined.as_bytes());
                assert_eq!(
                    code,
                    Some(0),
                    "the reducer refuses what the combiner wrote: {err}"
                );
            }
        }
    }
    assert!(
        accepted > 50,
        "only {accepted} accepted: the cases are too wild"
    );
    assert!(
        refused_as_contradiction > 10,
        "only {refused_as_contradiction} contradictions refused: the cases are too tame"
    );
}
