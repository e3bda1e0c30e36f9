//! M4 decimation: per pixel column keep the first, last, lowest and highest
//! point, so a line drawn from 100,000,000 points looks the same as one drawn
//! from all of them, spikes included (Jugel et al., "M4: A
//! Visualization-Oriented Time Series Data Aggregation", VLDB 2014).

/// Points `(x, y)` sorted by x, reduced to at most 4 per column of
/// `columns` equal-width x columns; returned sorted by x.
pub fn m4(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= 4 * columns.max(1) {
        return points.to_vec();
    }
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let width = (x1 - x0).max(f64::MIN_POSITIVE);
    let col = |x: f64| (((x - x0) / width * columns as f64) as usize).min(columns - 1);
    let mut out = Vec::with_capacity(4 * columns);
    let mut i = 0;
    while i < points.len() {
        let c = col(points[i].0);
        let start = i;
        let (mut lo, mut hi) = (i, i);
        while i < points.len() && col(points[i].0) == c {
            if points[i].1 < points[lo].1 {
                lo = i;
            }
            if points[i].1 > points[hi].1 {
                hi = i;
            }
            i += 1;
        }
        let mut keep = [start, lo, hi, i - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(points[k]);
                last = k;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_global_extremes_of_a_million_points() {
        let n = 1_000_000u64;
        let mut pts: Vec<(f64, f64)> = (0..n)
            .map(|i| (i as f64, ((i * 7919) % 1000) as f64))
            .collect();
        pts[123_457].1 = -5e6; // one-point spikes
        pts[876_543].1 = 9e6;
        let d = m4(&pts, 800);
        assert!(d.len() <= 4 * 800);
        assert!(d.contains(&(123_457.0, -5e6)));
        assert!(d.contains(&(876_543.0, 9e6)));
        assert_eq!(d.first(), pts.first());
        assert_eq!(d.last(), pts.last());
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn small_series_untouched() {
        let pts = vec![(1.0, 2.0), (2.0, 1.0)];
        assert_eq!(m4(&pts, 100), pts);
    }
}
