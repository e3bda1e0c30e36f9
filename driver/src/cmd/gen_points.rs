//! `mapfold gen points`: random points as a binary array, twice: raw (as
//! `ndarray.tofile` writes it, for `np.memmap`) and as `.npy` (as
//! `np.save` writes it). The values are a mixture of two normal
//! distributions (u8: clipped to 0..=255 and rounded), drawn in blocks of
//! a million from streams seeded by `--seed` and the block, so the bytes
//! depend on the flags alone; blocks are drawn on all cores.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

#[derive(clap::Args, Debug, Clone)]
pub struct Points {
    /// Directory to write `points.<dtype>` and `points.npy` into.
    #[arg(long)]
    pub out: PathBuf,
    /// How many points.
    #[arg(long, default_value_t = 100_000_000)]
    pub n: u64,
    /// The numbers' type.
    #[arg(long, value_enum, default_value = "u8")]
    pub dtype: PointType,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointType {
    U8,
    F64,
}

const BLOCK: u64 = 1 << 20;

/// Writes the two files; returns the bytes of each.
pub fn points(p: &Points) -> anyhow::Result<u64> {
    std::fs::create_dir_all(&p.out).with_context(|| format!("creating {}", p.out.display()))?;
    let (name, descr, size) = match p.dtype {
        PointType::U8 => ("points.u8", "|u1", 1),
        PointType::F64 => ("points.f64", "<f8", 8),
    };
    let header = npy_header(descr, p.n);
    let raw_path = p.out.join(name);
    let npy_path = p.out.join("points.npy");
    let tmp = |path: &Path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
    };
    let mut raw = BufWriter::with_capacity(1 << 20, File::create(tmp(&raw_path))?);
    let mut npy = BufWriter::with_capacity(1 << 20, File::create(tmp(&npy_path))?);
    npy.write_all(&header)?;
    let blocks = p.n.div_ceil(BLOCK);
    let threads = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    // A batch of blocks at a time, one per core, written in block order.
    let mut next = 0;
    while next < blocks {
        let batch: Vec<u64> = (next..blocks.min(next + threads)).collect();
        let drawn: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = batch
                .iter()
                .map(|&b| s.spawn(move || block(p, b)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for bytes in &drawn {
            raw.write_all(bytes)?;
            npy.write_all(bytes)?;
        }
        next += batch.len() as u64;
    }
    for (w, path) in [(raw, &raw_path), (npy, &npy_path)] {
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(tmp(path), path).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(p.n * size)
}

/// The values of block `b`, as little-endian bytes.
fn block(p: &Points, b: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let n = BLOCK.min(p.n - b * BLOCK) as usize;
    let (a, c) = match p.dtype {
        PointType::U8 => (Normal::new(80.0, 22.0), Normal::new(180.0, 14.0)),
        PointType::F64 => (Normal::new(0.0, 1.0), Normal::new(4.0, 0.5)),
    };
    let (Ok(a), Ok(c)) = (a, c) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(n * if p.dtype == PointType::U8 { 1 } else { 8 });
    for _ in 0..n {
        let x: f64 = if rng.random_bool(0.6) {
            a.sample(&mut rng)
        } else {
            c.sample(&mut rng)
        };
        match p.dtype {
            PointType::U8 => out.push(x.round().clamp(0.0, 255.0) as u8),
            PointType::F64 => out.extend_from_slice(&x.to_le_bytes()),
        }
    }
    out
}

/// A `.npy` version 1.0 header for a 1-D array of `n` values of `descr`,
/// padded with spaces to a multiple of 64 bytes as NumPy pads it.
fn npy_header(descr: &str, n: u64) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({n},), }}");
    let unpadded = 10 + dict.len() + 1;
    let pad = unpadded.next_multiple_of(64) - unpadded;
    let text = format!("{dict}{}\n", " ".repeat(pad));
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(text.len() as u16).to_le_bytes());
    h.extend_from_slice(text.as_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_reads_back() {
        let h = npy_header("|u1", 100_000_000);
        assert_eq!(h.len() % 64, 0);
        let npy = mapfold_core::binary::parse_npy(&h)
            .expect("valid")
            .expect("npy");
        assert_eq!(npy.rows, 100_000_000);
        assert_eq!(npy.columns, 1);
        assert_eq!(npy.data_offset, h.len() as u64);
    }
}
