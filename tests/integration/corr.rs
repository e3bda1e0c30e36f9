//! `--corr X,Y` end to end: covariance, r, slope and intercept against
//! exact rational arithmetic done here (the oracle's bracketing), over
//! values of many magnitudes, and the same bytes however the input was
//! split and combined.

use num_bigint::BigInt;

use crate::oracle::{is_rounding_of, is_sqrt_rounding_of, number, units};
use crate::util::{Rng, parse_reduced, same_for_splits};

#[test]
fn co_moments_are_exact_rationals_rounded_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0xC022);
    let mut text = String::from("g,x,y\n");
    let mut pairs: Vec<(usize, f64, f64)> = Vec::new();
    for i in 0..4000 {
        let g = i % 3;
        let scale = 10f64.powi((rng.below(30) as i32) - 15);
        let x = (rng.below(1 << 40) as f64 - (1u64 << 39) as f64) * scale / (1u64 << 30) as f64;
        // y is a noisy line in x for group 0, cancelling giants in group 1.
        let y = match g {
            0 => 3.0 - 2.0 * x + (rng.below(1000) as f64 - 500.0) * 1e-3,
            1 if i % 2 == 0 => 1e300,
            1 => -1e300 + x,
            _ => rng.below(7) as f64,
        };
        if i % 50 == 0 {
            text += &format!("{g},NA,{y:e}\n");
            continue;
        }
        pairs.push((g, x, y));
        text += &format!("{g},{x:e},{y:e}\n");
    }
    std::fs::write(dir.path().join("in.csv"), &text).expect("write");
    let job = "--value y --key g --corr x,y --reducers 2";
    let out = same_for_splits(
        dir.path(),
        &dir.path().join("in.csv"),
        job,
        &["3000", "40000", "100000000"],
        5,
    );
    let got = parse_reduced(&out);
    for g in 0..3usize {
        let c = &got[&g.to_string()]["corr"];
        assert_eq!((c["x"].as_str(), c["y"].as_str()), (Some("x"), Some("y")));
        let ps: Vec<(f64, f64)> = pairs
            .iter()
            .filter(|p| p.0 == g)
            .map(|p| (p.1, p.2))
            .collect();
        let n = BigInt::from(ps.len());
        assert_eq!(c["n"].as_u64(), Some(ps.len() as u64));
        let s = |f: &dyn Fn(f64, f64) -> BigInt| ps.iter().map(|&(x, y)| f(x, y)).sum::<BigInt>();
        let (sx, sy) = (s(&|x, _| units(x)), s(&|_, y| units(y)));
        let sxx = s(&|x, _| units(x) * units(x));
        let syy = s(&|_, y| units(y) * units(y));
        let sxy = s(&|x, y| units(x) * units(y));
        let cxy = &n * &sxy - &sx * &sy;
        let cxx = &n * &sxx - &sx * &sx;
        let cyy = &n * &syy - &sy * &sy;
        // Units of 2^-1075: a product is in units squared.
        let u = BigInt::from(1) << 1075;
        let num = |k: &str| number(&c[k]);
        let pairs_n = BigInt::from(ps.len() - 1) * &n;
        assert!(
            is_rounding_of(num("covariance"), &cxy, &(&pairs_n * &u)),
            "covariance {g}"
        );
        assert!(
            is_rounding_of(num("slope"), &(&cxy * &u), &cxx),
            "slope {g}"
        );
        assert!(
            is_rounding_of(num("intercept"), &(&sy * &sxx - &sx * &sxy), &cxx),
            "intercept {g}"
        );
        let r = num("r");
        assert_eq!(r < 0.0, cxy < BigInt::from(0), "sign of r {g}");
        assert!(
            is_sqrt_rounding_of(r.abs(), &(&cxy * &cxy * &u * &u), &(&cxx * &cyy)),
            "r {g}: {r}"
        );
    }
    // Group 0 is a line of slope -2 with a little noise.
    let g0 = &got["0"]["corr"];
    assert!(g0["r"].as_f64().is_some_and(|r| r < -0.99), "{g0}");
}
