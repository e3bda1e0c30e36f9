//! `--distinct` end to end: counts against a direct count in the test,
//! exact up to the threshold, estimates within the stated error past it,
//! and the same bytes however the input was split and combined.

use std::collections::{BTreeMap, BTreeSet};

use crate::util::{PIPE, Rng, ok, parse_reduced, same_for_splits};

#[test]
fn distinct_counts_are_exact_then_estimated_and_split_independent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    let mut rng = Rng(0xD15);
    // Groups with 1, 37, 1,000 and ~30,000 distinct users; user ids repeat,
    // a tenth are missing; some look like numbers, some are text with
    // spaces and quotes.
    let sizes = [("one", 1u64), ("few", 37), ("edge", 1000), ("many", 30_000)];
    let mut text = String::from("g,user,x\n");
    let mut want: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for _ in 0..60_000 {
        let (g, n) = sizes[rng.index(sizes.len())];
        let u = rng.below(n);
        let user = match u % 3 {
            0 => format!("{u}"),
            1 => format!("\"user {u}, \"\"x\"\"\""),
            _ => format!("u{u:05}"),
        };
        if rng.below(10) == 0 {
            // The null of Hive and PostgreSQL dumps: missing in a text
            // column (`NA` would be a user's name there).
            text += &format!("{g},\\N,1\n");
            continue;
        }
        let plain = user.trim_matches('"').replace("\"\"", "\"");
        want.entry(g).or_default().insert(plain);
        text += &format!("{g},{user},{}\n", rng.below(100));
    }
    std::fs::write(dir.path().join("in.csv"), &text).expect("write");
    let job = "--value x --key g --text-keys --distinct user --reducers 2";
    let out = same_for_splits(
        dir.path(),
        &dir.path().join("in.csv"),
        job,
        &["20000", "300000", "100000000"],
        3,
    );
    let piped = ok(&format!(
        "mapfold-map --value x --key g --text-keys --distinct user < {d}/in.csv 2>/dev/null \
         | {PIPE}"
    ));
    let got = parse_reduced(&out);
    assert_eq!(parse_reduced(&piped), got, "the pipe and the runner agree");
    for (g, users) in &want {
        let c = &got[*g]["distinct"]["user"];
        let n = c["count"].as_u64().expect("count");
        if users.len() <= 1024 {
            assert_eq!(n, users.len() as u64, "{g}: exact below the threshold");
            assert_eq!(c["exact"], true);
        } else {
            let rel = (n as f64 - users.len() as f64) / users.len() as f64;
            let se = c["std_error"].as_f64().expect("std_error");
            assert!(rel.abs() < 4.0 * se, "{g}: {n} vs {} ({rel})", users.len());
            assert_eq!(c["exact"], false);
        }
    }
}
