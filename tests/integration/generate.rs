//! `mapfold gen weather`: deterministic bytes, Python-style floats.

use crate::util::ok;

#[test]
fn same_flags_same_bytes_any_thread_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display();
    ok(&format!(
        "mapfold gen weather --out {d}/a --countries 3 --towns 4 --years 2000:2009 --seed 7 --threads 1 --quiet"
    ));
    ok(&format!(
        "mapfold gen weather --out {d}/b --countries 3 --towns 4 --years 2000:2009 --seed 7 --threads 3 --quiet"
    ));
    for c in 0..3 {
        let a = std::fs::read(dir.path().join(format!("a/{c}.csv"))).expect("a");
        let b = std::fs::read(dir.path().join(format!("b/{c}.csv"))).expect("b");
        assert_eq!(a, b, "country {c}");
        // And the committed fixture was made by exactly these flags.
        let f = std::fs::read(crate::util::fixture(&format!("weather/{c}.csv"))).expect("fixture");
        assert_eq!(a, f, "fixture {c}");
    }
    let text = std::fs::read_to_string(dir.path().join("a/0.csv")).expect("read");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("country,town,year,month,precip,temp"));
    assert_eq!(text.lines().count(), 1 + 4 * 10 * 12);
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 6);
        for v in &f[4..] {
            let x: f64 = v.parse().expect("float");
            assert!(x.is_finite() && x.abs() < 10.0);
            assert!(
                !v.contains("e-")
                    || v.contains("e-0")
                    || v.split("e-").nth(1).is_some_and(|e| e.len() >= 2),
                "{v}"
            );
        }
    }
    let other = tempfile::tempdir().expect("tempdir");
    ok(&format!(
        "mapfold gen weather --out {} --countries 1 --towns 4 --years 2000:2009 --seed 8 --quiet",
        other.path().display()
    ));
    assert_ne!(
        std::fs::read(other.path().join("0.csv")).expect("read"),
        std::fs::read(dir.path().join("a/0.csv")).expect("read")
    );
}
