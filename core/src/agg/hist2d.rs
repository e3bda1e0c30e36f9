//! A 2-D histogram of two columns (`--hist2d X=LO:HI:N,Y=LO:HI:M`): exact
//! integer counts on a fixed grid, plus the pairs that fell outside it and
//! those with a NaN, so every pair is counted somewhere. Each coordinate is
//! binned by the 1-D histogram's exact rule ([`super::hist`]), so the grid
//! merges exactly: Datashader's aggregate-then-shade, with a mergeable
//! aggregate.

use super::hist::{HistLayout, Place, place};
use super::measure::{Fields, Flag, Given, Line, flag_error};
use super::{Finish, Partial, read_u64, write_u64};
use crate::error::{DecodeError, Error};
use crate::json::Obj;
use crate::spec::Column;

/// The grid's layout: X's bins by Y's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub x: HistLayout,
    pub y: HistLayout,
}

impl Grid {
    /// Parses `LO:HI:N,LO:HI:M` (the column names already taken off).
    pub fn parse(x: &str, y: &str) -> Result<Self, String> {
        let g = Self {
            x: HistLayout::parse(x)?,
            y: HistLayout::parse(y)?,
        };
        if u64::from(g.x.bins) * u64::from(g.y.bins) > u64::from(super::hist::MAX_BINS) {
            return Err(format!(
                "{} x {} cells: at most {} in all",
                g.x.bins,
                g.y.bins,
                super::hist::MAX_BINS
            ));
        }
        Ok(g)
    }

    fn cells(&self) -> usize {
        self.x.bins as usize * self.y.bins as usize
    }
}

/// Grids of up to this many cells are dense from the start (8 KiB).
const SMALL: usize = 1024;

/// The counts of a grid's cells: a map of the cells reached while few are
/// (a 1000 x 1000 grid over a few rows per key is mostly empty: dense, it
/// would cost 8 MB a group), an array once a quarter of them are.
#[derive(Clone, Debug)]
enum Cells {
    Sparse(hashbrown::HashMap<u32, u64>),
    Dense(Vec<u64>),
}

impl Cells {
    fn new(cells: usize) -> Self {
        if cells <= SMALL {
            Cells::Dense(vec![0; cells])
        } else {
            Cells::Sparse(hashbrown::HashMap::new())
        }
    }

    fn get(&self, i: usize) -> u64 {
        match self {
            Cells::Dense(v) => v[i],
            Cells::Sparse(m) => m.get(&(i as u32)).copied().unwrap_or(0),
        }
    }

    /// Adds `n` to cell `i` (below the grid's cell count); the caller
    /// checked that no count overflows.
    #[inline]
    fn add(&mut self, i: usize, n: u64, cells: usize) {
        match self {
            Cells::Dense(v) => v[i] += n,
            Cells::Sparse(m) => {
                *m.entry(i as u32).or_insert(0) += n;
                if m.len() > cells / 4 {
                    let mut v = vec![0; cells];
                    for (&i, &n) in m.iter() {
                        v[i as usize] = n;
                    }
                    *self = Cells::Dense(v);
                }
            }
        }
    }

    /// The non-zero cells, lowest index first.
    fn nonzero(&self) -> Vec<(usize, u64)> {
        match self {
            Cells::Dense(v) => v
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, &n)| (i, n))
                .collect(),
            Cells::Sparse(m) => {
                let mut v: Vec<(usize, u64)> = m.iter().map(|(&i, &n)| (i as usize, n)).collect();
                v.sort_unstable();
                v
            }
        }
    }

    /// The count of cell `i` for every cell.
    fn dense(&self, cells: usize) -> std::borrow::Cow<'_, [u64]> {
        match self {
            Cells::Dense(v) => std::borrow::Cow::Borrowed(v),
            Cells::Sparse(m) => {
                let mut v = vec![0; cells];
                for (&i, &n) in m.iter() {
                    v[i as usize] = n;
                }
                std::borrow::Cow::Owned(v)
            }
        }
    }

    /// Bytes held on the heap.
    fn heap_size(&self) -> usize {
        match self {
            Cells::Dense(v) => v.capacity() * 8,
            // hashbrown: a (key, value) slot and a control byte per bucket.
            Cells::Sparse(m) => m.capacity() * (16 + 1),
        }
    }
}

/// Equal when the counts are: sparse or dense is how, not what.
impl PartialEq for Cells {
    fn eq(&self, other: &Self) -> bool {
        self.nonzero() == other.nonzero()
    }
}

/// Identity: no grid (the job has no `--hist2d`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hist2d(Option<Box<Counts>>);

#[derive(Clone, Debug, PartialEq)]
struct Counts {
    grid: Grid,
    /// Each axis's scale and margin for [`place`], from the grid.
    fast: [(f64, f64); 2],
    /// Cell `(i, j)` (X bin `i`, Y bin `j`) at `i * M + j`.
    cells: Cells,
    outside: u64,
    nan: u64,
}

impl Hist2d {
    pub fn new(grid: Grid) -> Self {
        Self(Some(Box::new(Counts {
            grid,
            fast: [grid.x.scale_margin(), grid.y.scale_margin()],
            cells: Cells::new(grid.cells()),
            outside: 0,
            nan: 0,
        })))
    }

    pub fn grid(&self) -> Option<Grid> {
        self.0.as_ref().map(|c| c.grid)
    }

    /// Bytes held on the heap.
    pub fn heap_size(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |c| std::mem::size_of::<Counts>() + c.cells.heap_size())
    }

    /// Pairs counted: in cells, outside the grid and NaN (wide: counts
    /// decoded from the wire may add past 2^64).
    pub fn pairs(&self) -> u128 {
        self.0.as_ref().map_or(0, |c| {
            let cells: u128 = c.cells.nonzero().iter().map(|&(_, n)| u128::from(n)).sum();
            cells + u128::from(c.outside) + u128::from(c.nan)
        })
    }

    /// Counts one pair.
    pub fn add_pair(&mut self, x: f64, y: f64) {
        let Some(c) = self.0.as_mut() else { return };
        let [(sx, mx), (sy, my)] = c.fast;
        match (place(&c.grid.x, sx, mx, x), place(&c.grid.y, sy, my, y)) {
            (Place::Nan, _) | (_, Place::Nan) => c.nan += 1,
            (Place::Bin(i), Place::Bin(j)) => {
                let cells = c.grid.cells();
                c.cells.add(i * c.grid.y.bins as usize + j, 1, cells);
            }
            _ => c.outside += 1,
        }
    }

    /// Writes `"hist2d":{"x":{..},"y":{..},"counts":[[..],..],"outside":..,
    /// "nan":..}`, a row of Y counts per X bin, with the reducer's names.
    fn write(&self, out: &mut Obj<'_>, names: Option<(&Column, &Column)>) {
        let Some(c) = self.0.as_ref() else { return };
        out.obj("hist2d", |o| {
            for (axis, l, name) in [
                ("x", c.grid.x, names.map(|n| n.0.0.as_str())),
                ("y", c.grid.y, names.map(|n| n.1.0.as_str())),
            ] {
                o.obj(axis, |a| {
                    if let Some(name) = name {
                        a.str("column", name);
                    }
                    a.f64("lo", l.lo);
                    a.f64("hi", l.hi);
                    a.u64("bins", u64::from(l.bins));
                });
            }
            o.rows(
                "counts",
                c.cells.dense(c.grid.cells()).chunks(c.grid.y.bins as usize),
            );
            o.u64("outside", c.outside);
            o.u64("nan", c.nan);
        });
    }
}

/// `--hist2d X=LO:HI:N,Y=LO:HI:M`: one grid per group.
impl super::Measure for Hist2d {
    const FLAGS: &'static [Flag] = &[Flag {
        hyphen: true,
        ..Flag::new(
            "hist2d",
            "X=LO:HI:N,Y=LO:HI:M",
            "A 2-D histogram of two columns: X's bins by Y's, exact counts, plus the pairs \
             outside the grid and those with a NaN.",
        )
    }];

    const GROWS: bool = true;

    type Spec = (Column, Column, Grid);
    type Shape = Grid;
    /// The line's pair, when both are numbers.
    type Input = Option<(f64, f64)>;

    fn parse(given: &Given, _: &[Column]) -> Result<Option<Self::Spec>, Error> {
        let Some(text) = given.one("hist2d") else {
            return Ok(None);
        };
        let bad = |why: String| flag_error("--hist2d", text, why);
        let axes: Vec<&str> = text.split(',').collect();
        let [x, y] = axes[..] else {
            return Err(bad(
                "expected X=LO:HI:N,Y=LO:HI:M, e.g. precip=-3:3:60,temp=-3:3:60".into(),
            ));
        };
        fn axis(a: &str) -> Option<(&str, &str)> {
            a.rsplit_once('=').filter(|(c, _)| !c.trim().is_empty())
        }
        let ((xc, xl), (yc, yl)) = match (axis(x), axis(y)) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(bad("each axis is COLUMN=LO:HI:BINS".into())),
        };
        let grid = Grid::parse(xl, yl).map_err(bad)?;
        Ok(Some((
            Column(xc.trim().to_owned()),
            Column(yc.trim().to_owned()),
            grid,
        )))
    }

    fn columns((x, y, _): &Self::Spec) -> Vec<&Column> {
        vec![x, y]
    }

    fn shape(spec: &Self::Spec, _: usize) -> Option<Grid> {
        Some(spec.2)
    }

    fn with_shape(grid: Grid) -> Self {
        Self::new(grid)
    }

    fn shape_of(&self) -> Option<Grid> {
        self.grid()
    }

    fn read<'a>(cols: &[usize], line: &Line<'_, impl Fields<'a>>) -> Result<Self::Input, String> {
        line.pair(cols, "--hist2d")
    }

    fn feed<'a>(&mut self, pair: Self::Input, _: &[usize], _: &Line<'_, impl Fields<'a>>) {
        if let Some((x, y)) = pair {
            self.add_pair(x, y);
        }
    }

    fn rows_counted(&self) -> u128 {
        self.pairs()
    }
}

impl Partial for Hist2d {
    fn heap_size(&self) -> usize {
        Hist2d::heap_size(self)
    }
    const TAG: &'static str = "h2";

    fn update(&mut self, _: f64) {}

    fn check_merge(&self, other: &Self) -> Result<(), String> {
        let (Some(a), Some(b)) = (&self.0, &other.0) else {
            return Ok(());
        };
        if a.grid != b.grid {
            return Err(
                "2-D histograms with different grids: were these partials written by \
                        different jobs?"
                    .into(),
            );
        }
        let pairs = b
            .cells
            .nonzero()
            .into_iter()
            .map(|(i, n)| (a.cells.get(i), n));
        for (x, y) in pairs.chain([(a.outside, b.outside), (a.nan, b.nan)]) {
            super::checked_sum([x, y], "2-D histogram count")?;
        }
        Ok(())
    }

    fn merge(&mut self, other: &Self) {
        let Some(o) = &other.0 else { return };
        let Some(c) = self.0.as_mut() else {
            self.0 = other.0.clone();
            return;
        };
        let cells = c.grid.cells();
        for (i, n) in o.cells.nonzero() {
            c.cells.add(i, n, cells);
        }
        c.outside += o.outside;
        c.nan += o.nan;
    }

    fn finish(&self, out: &mut Obj<'_>, f: &Finish<'_>) {
        self.write(out, f.spec::<Self>().map(|(x, y, _)| (x, y)));
    }

    fn is_identity(&self) -> bool {
        self.0.is_none()
    }

    /// `XLAYOUT,YLAYOUT;I:C,I:C,...;OUTSIDE,NAN`: the non-zero cells by
    /// increasing index (the only form, so the encoding is canonical).
    fn encode(&self, out: &mut Vec<u8>) {
        let Some(c) = &self.0 else { return };
        out.extend_from_slice(format!("{},{};", c.grid.x, c.grid.y).as_bytes());
        let mut first = true;
        for (i, n) in c.cells.nonzero() {
            if !first {
                out.push(b',');
            }
            first = false;
            write_u64(out, i as u64);
            out.push(b':');
            write_u64(out, n);
        }
        out.push(b';');
        write_u64(out, c.outside);
        out.push(b',');
        write_u64(out, c.nan);
    }

    fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        let bad = || DecodeError::new("2-D histogram", payload);
        let parts: Vec<&[u8]> = payload.split(|&b| b == b';').collect();
        let [grid, cells, tails] = parts[..] else {
            return Err(bad());
        };
        let grid = std::str::from_utf8(grid).map_err(|_| bad())?;
        let (x, y) = grid.split_once(',').ok_or_else(bad)?;
        let grid = Grid::parse(x, y).map_err(|_| bad())?;
        // The layouts must read back as written (canonical).
        if format!("{},{}", grid.x, grid.y).as_bytes() != parts[0] {
            return Err(bad());
        }
        let mut h = Self::new(grid);
        let c = h.0.as_mut().ok_or_else(bad)?;
        let mut next = 0usize;
        for pair in cells.split(|&b| b == b',').filter(|p| !p.is_empty()) {
            let colon = memchr::memchr(b':', pair).ok_or_else(bad)?;
            let i = usize::try_from(read_u64(&pair[..colon], "2-D histogram cell")?)
                .map_err(|_| bad())?;
            let n = read_u64(&pair[colon + 1..], "2-D histogram count")?;
            if i < next || i >= grid.cells() || n == 0 {
                return Err(bad());
            }
            c.cells.add(i, n, grid.cells());
            next = i + 1;
        }
        let t: Vec<&[u8]> = tails.split(|&b| b == b',').collect();
        let [outside, nan] = t[..] else {
            return Err(bad());
        };
        c.outside = read_u64(outside, "2-D histogram outside count")?;
        c.nan = read_u64(nan, "2-D histogram nan count")?;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::laws;
    use proptest::prelude::*;

    fn grid() -> Grid {
        Grid::parse("-1:1:4", "0:3:3").expect("valid")
    }

    fn bytes(h: &Hist2d) -> Vec<u8> {
        let mut v = Vec::new();
        h.encode(&mut v);
        v
    }

    #[test]
    fn cells_edges_and_tails() {
        let mut h = Hist2d::new(grid());
        for (x, y) in [
            (-1.0, 0.0),
            (1.0, 3.0),
            (0.0, 1.0),
            (-0.5, 2.999),
            (2.0, 1.0),
            (0.0, -0.1),
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
        ] {
            h.add_pair(x, y);
        }
        let c = h.0.as_ref().expect("grid");
        // (-1, 0) -> (0, 0); (1, 3) -> last cell; (0, 1) -> (2, 1);
        // (-0.5, 2.999) -> (1, 2).
        assert_eq!(c.cells.get(0), 1);
        assert_eq!(c.cells.get(11), 1);
        assert_eq!(c.cells.get(2 * 3 + 1), 1);
        assert_eq!(c.cells.get(3 + 2), 1);
        assert_eq!((c.outside, c.nan), (3, 1));
        assert_eq!(Hist2d::decode(&bytes(&h)), Ok(h.clone()));
        laws::rejects(
            Hist2d::decode,
            &[
                &b"-1:1:4,0:3:3;5:1,2:1;0,0"[..],
                b"-1:1:4,0:3:3;12:1;0,0",
                b"-1:1:4,0:3:3;0:0;0,0",
                b"-1.0:1:4,0:3:3;;0,0",
                b"-1:1:4,0:3:3;;0",
                b"-1:1:1000,0:3:1001;;0,0",
            ],
        );
    }

    /// A large grid holds only the cells reached, until a quarter of them
    /// are; its counts, wire bytes and JSON do not depend on which.
    #[test]
    fn a_large_grid_is_sparse_until_it_fills() {
        let g = Grid::parse("0:1:100", "0:1:100").expect("valid");
        let mut h = Hist2d::new(g);
        let mut dense = Hist2d::new(g);
        if let Some(c) = dense.0.as_mut() {
            c.cells = Cells::Dense(vec![0; 10_000]);
        }
        h.add_pair(0.5, 0.5);
        assert!(h.heap_size() < 1000, "{}", h.heap_size());
        dense.add_pair(0.5, 0.5);
        assert_eq!(bytes(&h), bytes(&dense));
        assert_eq!(h, dense);
        for k in 0..3000 {
            let (x, y) = ((k % 97) as f64 / 97.0, (k / 97) as f64 / 97.0);
            h.add_pair(x, y);
            dense.add_pair(x, y);
        }
        assert!(matches!(
            h.0.as_ref().map(|c| &c.cells),
            Some(Cells::Dense(_))
        ));
        assert_eq!(bytes(&h), bytes(&dense));
        let c = h.0.as_ref().expect("grid");
        let counted: u64 = c.cells.nonzero().iter().map(|p| p.1).sum();
        assert_eq!(counted + c.outside + c.nan, 3001, "every pair counted once");
    }

    proptest! {
        /// Any split, order and grouping of the pairs gives the same
        /// counts, decoded between merges.
        #[test]
        fn merge_equals_one_pass(ps in prop::collection::vec((laws::value(), laws::value()), 0..150),
                                 cut in any::<usize>(), rev: bool) {
            // A small grid (dense) and a large one (sparse, then dense).
            for g in [grid(), Grid::parse("-10:10:40", "-10:10:40").expect("valid")] {
                let of = |ps: &[(f64, f64)]| {
                    let mut h = Hist2d::new(g);
                    for &(x, y) in ps {
                        h.add_pair(x, y);
                    }
                    h
                };
                laws::check_pairs(of, &ps, cut, rev);
            }
        }
    }
}
