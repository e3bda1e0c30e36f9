//! A `.bz2` file cut into splits at its blocks, as Hadoop's BZip2Codec
//! (a `SplittableCompressionCodec`) lets FileInputFormat cut it, so every
//! core works on one large dump.
//!
//! A bzip2 stream is a header (`BZh` and the block size), blocks that each
//! start with the 48-bit magic 0x314159265359 at any bit offset and carry
//! their own CRC, and an end-of-stream magic with the CRC of all blocks.
//! A split reads the blocks whose magic starts in its bytes. Each block is
//! decompressed alone, as a one-block stream made from its bits (the
//! header of its stream, the block shifted to a byte boundary, and an end
//! marker whose CRC is the block's own, which is what a one-block stream's
//! combined CRC is), so the reference decoder checks every block's CRC.
//! Lines are taken from the blocks' text as [`super::split`] takes them
//! from a file's bytes: a split after the first skips through its first
//! line end, and every split reads through the line that crosses its end.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
const END_MAGIC: u64 = 0x1772_4538_5090;
const MASK48: u64 = (1 << 48) - 1;

/// One compressed block: where its bits are, and its stream's block size
/// digit (`1`-`9`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// The bit offset of its magic in the file.
    pub start: u64,
    /// The bit offset just past it (the next magic).
    pub end: u64,
    level: u8,
}

/// The blocks of the `.bz2` file at `path`, found once per file and run.
pub fn blocks(path: &Path) -> io::Result<Arc<Vec<Block>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Vec<Block>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(b) = cache.lock().ok().and_then(|c| c.get(path).cloned()) {
        return Ok(b);
    }
    let found = Arc::new(scan(io::BufReader::with_capacity(
        1 << 20,
        File::open(path)?,
    ))?);
    if let Ok(mut c) = cache.lock() {
        c.insert(path.to_path_buf(), found.clone());
    }
    Ok(found)
}

/// The blocks of the streams in `data`, by a bit-level search for the two
/// magics (a stream's header is byte-aligned: the previous stream is
/// padded to a byte).
fn scan(mut r: impl BufRead) -> io::Result<Vec<Block>> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let mut out: Vec<Block> = Vec::new();
    let mut level = 0u8;
    let mut open: Option<u64> = None;
    let mut w: u64 = 0;
    let mut i = 0usize;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        for &byte in chunk {
            scan_byte(byte, i, &mut w, &mut level, &mut open, &mut out).map_err(bad)?;
            i += 1;
        }
        r.consume(n);
    }
    if open.is_some() {
        return Err(bad("the bzip2 file ends inside a block"));
    }
    Ok(out)
}

/// [`scan`]'s step for byte `i` of the file.
fn scan_byte(
    byte: u8,
    i: usize,
    w: &mut u64,
    level: &mut u8,
    open: &mut Option<u64>,
    out: &mut Vec<Block>,
) -> Result<(), &'static str> {
    *w = (*w << 8) | u64::from(byte);
    // A stream header at a byte boundary, when no block is open.
    if open.is_none()
        && i >= 3
        && (*w >> 8) & 0xFF_FFFF == 0x42_5A68
        && (b'1'..=b'9').contains(&byte)
    {
        *level = byte;
        return Ok(());
    }
    {
        // Every bit offset at which a 48-bit pattern ends in this byte.
        for shift in (0..8).rev() {
            let v = (*w >> shift) & MASK48;
            let Some(bit) = ((i as u64 + 1) * 8).checked_sub(shift + 48) else {
                continue;
            };
            if v == BLOCK_MAGIC || v == END_MAGIC {
                if *level == 0 {
                    return Err("a bzip2 block before any stream header");
                }
                if let Some(s) = open.take() {
                    out.push(Block {
                        start: s,
                        end: bit,
                        level: *level,
                    });
                }
                if v == BLOCK_MAGIC {
                    *open = Some(bit);
                }
            }
        }
    }
    Ok(())
}

/// Bits `from..to` of `data` appended to `out` at its bit length `len`:
/// whole bytes at a time while `out` is at a byte boundary.
fn copy_bits(data: &[u8], mut from: u64, to: u64, out: &mut Vec<u8>, len: &mut u64) {
    if (*len).is_multiple_of(8) {
        let s = (from % 8) as u32;
        let at = (from / 8) as usize;
        let whole = ((to - from) / 8) as usize;
        for k in 0..whole {
            let hi = u16::from(data[at + k]) << 8
                | u16::from(data.get(at + k + 1).copied().unwrap_or(0));
            out.push((hi << s >> 8) as u8);
        }
        *len += 8 * whole as u64;
        from += 8 * whole as u64;
    }
    for b in from..to {
        if (*len).is_multiple_of(8) {
            out.push(0);
        }
        if data[(b / 8) as usize] & (0x80 >> (b % 8)) != 0 {
            let last = out.len() - 1;
            out[last] |= 0x80 >> (*len % 8);
        }
        *len += 1;
    }
}

/// The text of `block` of `file`, decompressed by the reference decoder
/// as a stream of that one block.
fn decode(file: &mut File, block: Block, out: &mut Vec<u8>) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let at = block.start / 8;
    let mut data = vec![0u8; (block.end.div_ceil(8) - at) as usize];
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(&mut data)?;
    let (from, to) = (block.start - 8 * at, block.end - 8 * at);
    let mut s = b"BZh".to_vec();
    s.push(block.level);
    let mut len = 32u64;
    copy_bits(&data, from, to, &mut s, &mut len);
    // The end marker, then the block's CRC (the 32 bits after its magic)
    // as the stream's.
    let mut tail = Vec::new();
    tail.extend_from_slice(&END_MAGIC.to_be_bytes()[2..]);
    let crc_at = from + 48;
    let mut crc = Vec::new();
    let mut crc_len = 0;
    copy_bits(&data, crc_at, crc_at + 32, &mut crc, &mut crc_len);
    tail.extend_from_slice(&crc);
    copy_bits(&tail, 0, 80, &mut s, &mut len);
    out.clear();
    bzip2::read::BzDecoder::new(&s[..])
        .take(64 << 20)
        .read_to_end(out)
        .map(|_| ())
}

/// The text of blocks `first..` of a file, as a reader: block by block,
/// and which block it is in.
struct Blocks<'a> {
    file: File,
    blocks: &'a [Block],
    next: usize,
    buf: Vec<u8>,
    at: usize,
}

impl Blocks<'_> {
    /// The index of the block whose text is being read.
    fn current(&self) -> usize {
        self.next.saturating_sub(1)
    }
}

impl Read for Blocks<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let b = self.fill_buf()?;
            let n = b.len().min(out.len());
            out[..n].copy_from_slice(&b[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Blocks<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.buf.len() && self.next < self.blocks.len() {
            decode(&mut self.file, self.blocks[self.next], &mut self.buf)?;
            self.next += 1;
            self.at = 0;
        }
        Ok(&self.buf[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at += n;
    }
}

/// Writes the lines of the split `start..start + length` (compressed
/// bytes) of the `.bz2` file at `path` to `out`.
pub fn feed(
    path: &Path,
    start: u64,
    length: u64,
    out: &mut dyn Write,
    mut progress: impl FnMut(u64),
) -> io::Result<()> {
    let all = blocks(path)?;
    let in_split = |b: &Block| (start..start + length).contains(&(b.start / 8));
    let Some(first) = all.iter().position(in_split) else {
        return Ok(());
    };
    let last = all.iter().rposition(in_split).map_or(first, |l| l + 1);
    let mut r = Blocks {
        file: File::open(path)?,
        blocks: &all,
        next: first,
        buf: Vec::new(),
        at: 0,
    };
    if first > 0 {
        super::split::skip_line(&mut r)?;
        // The first line end lay past the split's blocks: its lines all
        // belong to the split before.
        if r.current() >= last {
            return Ok(());
        }
    }
    loop {
        if r.fill_buf()?.is_empty() || r.current() >= last {
            break;
        }
        let n = {
            let b = r.fill_buf()?;
            out.write_all(b)?;
            b.len()
        };
        r.consume(n);
        progress(n as u64);
    }
    super::split::copy_line(&mut r, out, &mut progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_decodes_alone() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{i},{}\n", i.wrapping_mul(2_654_435_761) % 977).into_bytes())
            .collect();
        let mut z = Vec::new();
        for (part, level) in [(&text[..700_000], 1), (&text[700_000..], 2)] {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
            e.write_all(part).expect("compress");
            z.extend(e.finish().expect("finish"));
        }
        let d = tempfile::tempdir().expect("tempdir");
        let path = d.path().join("t.bz2");
        std::fs::write(&path, &z).expect("write");
        let bs = blocks(&path).expect("scan");
        assert!(bs.len() > 10, "{}", bs.len());
        let mut f = File::open(&path).expect("open");
        let (mut all, mut one) = (Vec::new(), Vec::new());
        for b in bs.iter() {
            decode(&mut f, *b, &mut one).expect("a block");
            all.extend_from_slice(&one);
        }
        assert!(all == text);
        // Every split size gives every line once.
        for size in [1000u64, 7777, 50_000, 400_000] {
            let mut got = Vec::new();
            let mut at = 0;
            while at < z.len() as u64 {
                feed(&path, at, size, &mut got, |_| {}).expect("feed");
                at += size;
            }
            assert!(got == text, "split size {size}");
        }
    }

    #[test]
    fn bits_are_copied_across_byte_boundaries() {
        let data = [0b1010_1100, 0b0101_0011];
        let (mut out, mut len) = (vec![0b1000_0000], 1);
        copy_bits(&data, 3, 13, &mut out, &mut len);
        assert_eq!(len, 11);
        // Bits 3..13 of data are 0 1 1 0 0 0 1 0 1 0.
        assert_eq!(out, [0b1011_0001, 0b0100_0000]);
    }
}
