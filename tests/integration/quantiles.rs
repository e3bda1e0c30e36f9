//! `--quantiles` end to end: every reported quantile within the stated
//! relative error of the exact order statistic (computed here by sorting),
//! on heavy-tailed, negative, zero-heavy and constant data, and the same
//! bytes however the input was split, combined and reduced.

use crate::util::{PIPE, Rng, bash, ok, parse_reduced, same_for_splits};

/// Groups of values with the shapes quantiles are hard on.
fn data(rng: &mut Rng) -> Vec<(&'static str, f64)> {
    let mut rows = Vec::new();
    for _ in 0..3000 {
        let u = (rng.below(1 << 53) as f64 + 0.5) / (1u64 << 53) as f64;
        // Pareto tail, both signs: magnitudes from 1 to 1e12.
        let sign = if rng.below(2) == 0 { -1.0 } else { 1.0 };
        rows.push(("heavy", sign * u.powf(-1.0 / 1.1)));
        // Negative only, spread over 40 decades.
        rows.push(("negative", -(10f64.powf(u * 40.0 - 20.0))));
        // Mostly zeros.
        let z = if rng.below(10) < 7 { 0.0 } else { u - 0.5 };
        rows.push(("zeros", z));
    }
    for _ in 0..500 {
        rows.push(("constant", -2.5e-300));
    }
    rows
}

fn exact(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[((q * (v.len() - 1) as f64).floor() as usize).min(v.len() - 1)]
}

#[test]
fn quantiles_are_within_the_bound_and_split_independent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    let mut rng = Rng(0x5EED_0F0A);
    let rows = data(&mut rng);
    let mut text = String::from("g,x\n");
    for (g, x) in &rows {
        text += &format!("{g},{x:e}\n");
    }
    std::fs::write(dir.path().join("in.csv"), &text).expect("write");
    let qs = [
        (0.0, "p0"),
        (0.001, "p0_1"),
        (0.01, "p1"),
        (0.25, "p25"),
        (0.5, "p50"),
        (0.9, "p90"),
        (0.99, "p99"),
        (0.999, "p99_9"),
        (1.0, "p100"),
    ];
    let list = qs.map(|(q, _)| q.to_string()).join(",");
    for error in [0.01, 0.001] {
        let job = format!(
            "--value x --key g --text-keys --quantiles {list} --quantile-error {error} --reducers 2"
        );
        let out = same_for_splits(
            dir.path(),
            &dir.path().join("in.csv"),
            &job,
            &["4000", "50000", "100000000"],
            7,
        );
        let piped = ok(&format!(
            "mapfold-map --value x --key g --text-keys --quantiles {list} --quantile-error {error} \
             < {d}/in.csv 2>/dev/null | {PIPE}"
        ));
        let got = parse_reduced(&out);
        assert_eq!(parse_reduced(&piped), got, "the pipe and the runner agree");
        for group in ["heavy", "negative", "zeros", "constant"] {
            let values: Vec<f64> = rows
                .iter()
                .filter(|(g, _)| *g == group)
                .map(|(_, x)| *x)
                .collect();
            let j = &got[group];
            let bound = j["quantile_error"].as_f64().expect("bound");
            assert!(bound <= error, "{bound} > {error}");
            for (q, name) in qs {
                let v = j["quantiles"][name]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{group} {name} in {j}"));
                let want = exact(&values, q);
                let ok = if want == 0.0 {
                    v == 0.0
                } else {
                    v.signum() == want.signum() && ((v - want) / want).abs() <= bound
                };
                assert!(ok, "{group} {name}: {v} vs exact {want} (bound {bound})");
            }
        }
    }
}

#[test]
fn quantile_flags_are_checked() {
    for (flags, says) in [
        ("--value 1 --quantiles 1.5", "between 0 and 1"),
        (
            "--value 1 --quantiles --quantile-error 0",
            "between 0 and 0.5",
        ),
        ("--quantiles", "need --value"),
    ] {
        let o = bash(&format!("echo 1 | mapfold-map {flags}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags}: {err}");
        assert!(err.contains(says), "{flags}: {err}");
    }
}
