//! `--hist2d` end to end: every cell against a direct count in the test
//! (values on a dyadic grid, so the test's arithmetic is exact), the pairs
//! outside and with a NaN, and the same bytes however the input was split.

use crate::util::{Rng, parse_reduced, same_for_splits};

#[test]
fn grid_counts_match_a_direct_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0x2D);
    // X over [-4, 4] in 16 bins, Y over [0, 3] in 6: bins of 1/2 each.
    let (nx, ny) = (16usize, 6usize);
    let mut want = vec![vec![0u64; ny]; nx];
    let (mut outside, mut nan) = (0u64, 0u64);
    let mut text = String::from("k,x,y\n");
    for _ in 0..20_000 {
        // Multiples of 1/8, some past the edges; now and then NaN or NA.
        let x = (rng.below(80) as f64 - 40.0) / 8.0;
        let y = (rng.below(30) as f64 - 3.0) / 8.0 * 2.0;
        let (xt, yt) = match rng.below(50) {
            0 => ("nan".to_owned(), y.to_string()),
            1 => ("NA".to_owned(), y.to_string()),
            _ => (x.to_string(), y.to_string()),
        };
        text += &format!("a,{xt},{yt}\n");
        match xt.as_str() {
            "NA" => continue,
            "nan" => nan += 1,
            _ if !(-4.0..=4.0).contains(&x) || !(0.0..=3.0).contains(&y) => outside += 1,
            _ => {
                // The upper edge falls in the last bin.
                let i = (((x + 4.0) * 2.0) as usize).min(nx - 1);
                let j = ((y * 2.0) as usize).min(ny - 1);
                want[i][j] += 1;
            }
        }
    }
    std::fs::write(dir.path().join("in.csv"), &text).expect("write");
    let out = same_for_splits(
        dir.path(),
        &dir.path().join("in.csv"),
        "--value y --key k --hist2d x=-4:4:16,y=0:3:6",
        &["5000", "60000", "100000000"],
        11,
    );
    let h = &parse_reduced(&out)["a"]["hist2d"];
    let got: Vec<Vec<u64>> = serde_json::from_value(h["counts"].clone()).expect("rows of counts");
    assert_eq!(got, want);
    assert_eq!(h["outside"].as_u64(), Some(outside));
    assert_eq!(h["nan"].as_u64(), Some(nan));
    assert_eq!(h["x"]["column"], "x");
    assert_eq!(h["y"]["bins"], 6);
}
