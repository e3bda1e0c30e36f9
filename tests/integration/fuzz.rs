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
        let lines = input.split(|&b| b == b'\n').count() - usize::from(input.ends_with(b"\n"));
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
