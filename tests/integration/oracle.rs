//! An independent oracle for every number the reducer prints.
//!
//! Random values over the whole `f64` range (any bit pattern, subnormals,
//! integers of every size, powers of two, values and their negations so sums
//! cancel, the largest finite values, NaN and infinities) go through the real
//! binaries: `mapfold-map` on random splits, `sort`, `mapfold-combine` run
//! again and again on random pieces (each run decodes and re-encodes every
//! partial), and `mapfold-reduce`. Every printed number is then checked
//! against exact big-integer arithmetic done here, not against mapfold's own
//! code: a printed `r` is right when the exact value lies between the
//! midpoints from `r` to its neighbouring doubles (ties to an even mantissa).
//! Three partitionings must also print the same bytes.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};
use serde_json::Value;

use crate::util::{Rng, bash, ok, parse_reduced};

pub(crate) fn draw(rng: &mut Rng, earlier: &[f64]) -> f64 {
    let neg = rng.below(2) == 1;
    let sign = |_: &mut Rng, x: f64| if neg { -x } else { x };
    match rng.below(10) {
        0 | 1 => loop {
            let x = f64::from_bits(rng.next());
            if x.is_finite() {
                break x;
            }
        },
        2 => {
            let sub = f64::from_bits(1 + rng.below((1 << 52) - 1));
            sign(rng, sub)
        }
        3 => (rng.next() as i64 >> rng.below(63)) as f64,
        4 => {
            // 2^e exactly, from its bits (powi underflows below 2^-1022).
            let e = rng.below(2098) as i64 - 1074;
            let bits = if e >= -1022 {
                ((e + 1023) as u64) << 52
            } else {
                1 << (e + 1074)
            };
            sign(rng, f64::from_bits(bits))
        }
        5 => {
            let big = f64::MAX / (1 + rng.below(4)) as f64;
            sign(rng, big)
        }
        6 => (rng.below(2_000_001) as f64 - 1e6) / 1000.0,
        7 if !earlier.is_empty() => -earlier[rng.below(earlier.len() as u64) as usize],
        8 => [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY][rng.below(5) as usize],
        _ => {
            let small = rng.below(1000) as f64 * 0.001;
            sign(rng, small)
        }
    }
}

/// `x` as an integer in units of 2^-1075 (every double is an even number of
/// them, so midpoints between neighbours are whole units too).
pub(crate) fn units(x: f64) -> BigInt {
    assert!(x.is_finite());
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as usize;
    let frac = bits & ((1 << 52) - 1);
    let (m, shift) = if exp == 0 {
        (frac, 1)
    } else {
        (frac | 1 << 52, exp)
    };
    let v = BigInt::from(m) << shift;
    if bits >> 63 == 1 { -v } else { v }
}

/// The interval of exact values (in 2^-1075 units) that round to `r`, as
/// `(low midpoint, high midpoint)`; `None` at an end means unbounded.
fn rounds_to(r: f64) -> (Option<BigInt>, Option<BigInt>) {
    let overflow = (BigInt::from(1) << (1024 + 1075)) - (BigInt::from(1) << (970 + 1075));
    if r == f64::INFINITY {
        return (Some(overflow), None);
    }
    if r == f64::NEG_INFINITY {
        return (None, Some(-overflow));
    }
    let mid = |a: f64, b: f64| -> BigInt {
        match (a.is_finite(), b.is_finite()) {
            (true, true) => (units(a) + units(b)) / 2,
            _ if a == f64::MAX || b == f64::MAX => overflow.clone(),
            _ => -overflow.clone(),
        }
    };
    (Some(mid(r.next_down(), r)), Some(mid(r, r.next_up())))
}

fn is_even(r: f64) -> bool {
    r.to_bits() & 1 == 0
}

/// True when `r` is the correctly rounded value of `num / den` units
/// (`den > 0`).
pub(crate) fn is_rounding_of(r: f64, num: &BigInt, den: &BigInt) -> bool {
    let (lo, hi) = rounds_to(r);
    let cmp = |m: &BigInt| (m * den).cmp(num);
    let lo_ok = lo.is_none_or(|m| match cmp(&m) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Equal => is_even(r) || !r.is_finite(),
        std::cmp::Ordering::Greater => false,
    });
    let hi_ok = hi.is_none_or(|m| match cmp(&m) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => is_even(r) || !r.is_finite(),
        std::cmp::Ordering::Less => false,
    });
    lo_ok && hi_ok
}

/// True when `r` is the correctly rounded square root of `num / den`
/// squared units: the midpoints' squares bracket the exact square.
pub(crate) fn is_sqrt_rounding_of(r: f64, num: &BigInt, den: &BigInt) -> bool {
    assert!(r >= 0.0);
    let (lo, hi) = rounds_to(r);
    let below = |m: &BigInt| (m * m * den) <= *num;
    let above = |m: &BigInt| (m * m * den) >= *num;
    lo.is_none_or(|m| m.is_negative() || below(&m)) && hi.is_none_or(|m| above(&m))
}

pub(crate) fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("a double"),
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

const HIST: (f64, f64, u64) = (-1000.0, 1000.0, 16);

/// Checks one key's finished JSON against exact arithmetic over `xs`, and
/// its histogram bins against a direct count when the job had one.
pub fn check_key(key: &str, got: &Value, xs: &[f64], hist: Option<(f64, f64, u64)>) {
    let fin: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = fin.len() as u64;
    assert_eq!(got["count"], n, "{key}: count");
    assert_eq!(got["nonfinite"], (xs.len() as u64 - n), "{key}: nonfinite");
    let s: BigInt = fin.iter().map(|&x| units(x)).sum();
    let q: BigInt = fin.iter().map(|&x| units(x) * units(x)).sum();
    let one = BigInt::from(1);
    let sum = number(&got["sum"]);
    assert!(is_rounding_of(sum, &s, &one), "{key}: sum {sum}");
    if n == 0 {
        assert!(
            got["mean"].is_null() && got["min"].is_null(),
            "{key}: {got}"
        );
    } else {
        let mean = number(&got["mean"]);
        assert!(
            is_rounding_of(mean, &s, &BigInt::from(n)),
            "{key}: mean {mean}"
        );
        let min = fin.iter().copied().fold(f64::INFINITY, f64::min);
        let max = fin.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(number(&got["min"]), min, "{key}: min");
        assert_eq!(number(&got["max"]), max, "{key}: max");
    }
    if n < 2 {
        assert!(got["stddev"].is_null(), "{key}: {got}");
    } else {
        // s^2 = (n q - s1^2) / (n (n - 1)) in squared units.
        let num = &q * n - &s * &s;
        let den = BigInt::from(n) * (n - 1);
        let sd = number(&got["stddev"]);
        assert!(is_sqrt_rounding_of(sd, &num, &den), "{key}: stddev {sd}");
    }
    assert!(
        !s.is_zero() || sum == 0.0,
        "{key}: a zero sum prints as zero"
    );
    let Some((lo, hi, bins)) = hist else {
        assert!(got.get("hist").is_none(), "{key}: {got}");
        return;
    };
    // Bin i: lo + i (hi - lo) / bins <= x < lo + (i + 1) (hi - lo) / bins.
    let mut want = vec![0u64; bins as usize];
    let (mut under, mut over, mut nan) = (0u64, 0u64, 0u64);
    for &x in xs {
        if x.is_nan() {
            nan += 1;
        } else if x < lo {
            under += 1;
        } else if x > hi {
            over += 1;
        } else {
            let (xu, lu, hu) = (units(x), units(lo), units(hi));
            let i = ((xu - &lu) * bins / (hu - lu)).min(BigInt::from(bins - 1));
            let i: usize = i.try_into().expect("small");
            want[i] += 1;
        }
    }
    let h = &got["hist"];
    let bins_got: Vec<u64> = h["bins"]
        .as_array()
        .expect("bins")
        .iter()
        .map(|b| b.as_u64().expect("count"))
        .collect();
    assert_eq!(bins_got, want, "{key}: histogram bins");
    assert_eq!(
        (&h["underflow"], &h["overflow"], &h["nan"]),
        (&Value::from(under), &Value::from(over), &Value::from(nan)),
        "{key}: histogram tails"
    );
}

/// Runs one partitioning: map on random splits, then rounds of combining
/// random pieces of the sorted stream, then reduce.
fn run_partitioned(dir: &std::path::Path, lines: &[String], rng: &mut Rng) -> String {
    let mut map_out = Vec::new();
    let mut start = 0;
    let mut split = 0;
    while start < lines.len() {
        let len = 1 + rng.below(lines.len() as u64 / 3 + 1) as usize;
        let end = (start + len).min(lines.len());
        let f = dir.join(format!("split{split}.csv"));
        std::fs::write(&f, lines[start..end].join("\n") + "\n").expect("write split");
        let out = ok(&format!(
            "mapfold-map --schema k,x --value x --key k --hist={}:{}:{} < {} 2>/dev/null",
            HIST.0,
            HIST.1,
            HIST.2,
            f.display()
        ));
        map_out.extend(out.lines().map(str::to_owned));
        start = end;
        split += 1;
    }
    let mut records = map_out;
    for _round in 0..3 {
        records.sort();
        let mut next = Vec::new();
        let mut i = 0;
        while i < records.len() {
            let len = 1 + rng.below(records.len() as u64 / 2 + 1) as usize;
            let end = (i + len).min(records.len());
            let f = dir.join("piece");
            std::fs::write(&f, records[i..end].join("\n") + "\n").expect("write piece");
            let out = ok(&format!("mapfold-combine < {}", f.display()));
            next.extend(out.lines().map(str::to_owned));
            i = end;
        }
        records = next;
    }
    records.sort();
    let f = dir.join("sorted");
    std::fs::write(&f, records.join("\n") + "\n").expect("write sorted");
    ok(&format!("mapfold-reduce < {}", f.display()))
}

#[test]
fn every_printed_number_is_the_exact_result_correctly_rounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    for seed in 1..=4u64 {
        let mut rng = Rng(seed);
        let mut by_key: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut lines = Vec::new();
        let mut all = Vec::new();
        for _ in 0..600 {
            let key = ["a", "b", "c", "007"][rng.below(4) as usize];
            let x = draw(&mut rng, &all);
            all.push(x);
            by_key.entry(key.to_owned()).or_default().push(x);
            // Shortest round-trip text, as data files hold it.
            lines.push(format!("{key},{x:e}"));
        }
        let outs: Vec<String> = (0..3)
            .map(|p| run_partitioned(dir.path(), &lines, &mut Rng(seed * 100 + p)))
            .collect();
        assert_eq!(outs[0], outs[1], "seed {seed}: partitionings differ");
        assert_eq!(outs[0], outs[2], "seed {seed}: partitionings differ");
        let got = parse_reduced(&outs[0]);
        for (key, xs) in &by_key {
            // Keys are grouped as written: 007 is text.
            check_key(key, &got[key.as_str()], xs, Some(HIST));
        }
        assert_eq!(
            got[""]["counters"]["used"],
            all.iter().filter(|x| x.is_finite()).count()
        );
    }
}

/// The oracle itself catches a wrong digit: a sum off by one ulp, a mean
/// rounded the other way, a stddev from the rounded variance.
#[test]
fn the_oracle_rejects_near_misses() {
    let one = BigInt::from(1);
    let s = units(0.1) + units(0.2);
    assert!(is_rounding_of(0.30000000000000004, &s, &one));
    assert!(!is_rounding_of(0.3, &s, &one));
    let three = units(1.0) * 2;
    assert!(is_rounding_of(2.0 / 3.0, &three, &BigInt::from(3)));
    assert!(!is_rounding_of(
        (2.0f64 / 3.0).next_up(),
        &three,
        &BigInt::from(3)
    ));
    let two = units(1.0) * units(1.0) * 2;
    assert!(is_sqrt_rounding_of(std::f64::consts::SQRT_2, &two, &one));
    assert!(!is_sqrt_rounding_of(
        std::f64::consts::SQRT_2.next_up(),
        &two,
        &one
    ));
    let huge = units(f64::MAX) * 2;
    assert!(is_rounding_of(f64::INFINITY, &huge, &one));
    assert!(!is_rounding_of(f64::MAX, &huge, &one));
}

#[test]
fn reported_integer_sums_and_giant_spreads() {
    for (data, sum, sd) in [
        ("x\n-16384\n", "-16384.0", "null"),
        ("x\n-70368744177664\n", "-70368744177664.0", "null"),
        ("x\n1e308\n1e308\n-1e308\n-1e308\n1\n", "1.0", "1e308"),
    ] {
        let o = bash(&format!(
            "printf '{}' | mapfold-map --value x 2>/dev/null | {}",
            data.replace('\n', "\\n"),
            crate::util::PIPE
        ));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let got = parse_reduced(&String::from_utf8_lossy(&o.stdout));
        assert_eq!(got["*"]["sum"].to_string(), sum.replace("1e308", "1e+308"));
        assert_eq!(
            got["*"]["stddev"].to_string(),
            sd.replace("1e308", "1e+308")
        );
    }
}

mod headers {
    use crate::util::{bash, ok, parse_reduced};

    fn run(dir: &std::path::Path, extra: &str) -> std::process::Output {
        bash(&format!(
            "mapfold run --quiet --input {d}/in --output {d}/out --value x --key k {extra}",
            d = dir.display()
        ))
    }

    /// Files whose headers order the columns differently are refused before
    /// any task runs, naming both files; nothing is written.
    #[test]
    fn different_headers_are_refused_naming_both_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in");
        std::fs::create_dir(&input).expect("mkdir");
        std::fs::write(input.join("a.csv"), "k,x\n1,10\n2,20\n").expect("write");
        std::fs::write(input.join("b.csv"), "x,k\n30,1\n40,2\n").expect("write");
        let o = run(dir.path(), "");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{err}");
        assert!(err.contains("a.csv") && err.contains("b.csv"), "{err}");
        assert!(err.contains("\"x,k\"") && err.contains("\"k,x\""), "{err}");
        assert!(!dir.path().join("out").exists());
        // The same data through a pipe: the second header is an error, not
        // one malformed line.
        let o = bash(&format!(
            "cat {0}/a.csv {0}/b.csv | mapfold-map --value x --key k",
            input.display()
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("differs from the schema"),
            "{err}"
        );
    }

    /// A header with spaces after the commas is a header, and files that
    /// share it (however spaced) run.
    #[test]
    fn spaced_headers_are_headers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in");
        std::fs::create_dir(&input).expect("mkdir");
        std::fs::write(input.join("a.csv"), "k, x\n1,10\n2,20\n").expect("write");
        std::fs::write(input.join("b.csv"), "k,x\n1,30\n").expect("write");
        let o = run(dir.path(), "--max-malformed 0");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = ok(&format!("cat {}/out/part-00000", dir.path().display()));
        let m = parse_reduced(&out);
        assert_eq!(m["1"]["sum"], 40.0);
        assert_eq!(m[""]["counters"]["header"], 2);
        assert_eq!(m[""]["counters"]["malformed"], 0);
    }

    /// A split that starts past byte 0 never takes its first line as a
    /// header: with columns by index its first line is data.
    #[test]
    fn a_split_past_the_start_reads_its_first_line_as_data() {
        let o = bash(
            "printf 'abc,1\\n5,2\\n' | mapfold_map_input_start=7 mapreduce_map_input_start=7 \
             mapfold-map --value 2 --key 1 | LC_ALL=C sort | mapfold-combine | mapfold-reduce",
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let m = parse_reduced(&out);
        assert_eq!(m["abc"]["sum"], 1.0, "{out}");
        assert_eq!(m[""]["counters"]["header"], 0, "{out}");
        // At the start of the file, the same line is the header.
        let out = ok(
            "printf 'abc,y\\n5,2\\n' | mapfold-map --value 2 --key 1 | LC_ALL=C sort \
                      | mapfold-combine | mapfold-reduce",
        );
        assert_eq!(parse_reduced(&out)[""]["counters"]["header"], 1, "{out}");
    }
}
