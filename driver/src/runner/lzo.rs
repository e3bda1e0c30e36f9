//! LZO1X decompression, for SequenceFiles written with hadoop-lzo's
//! `LzoCodec` (the Google Books n-grams on S3 are).
//!
//! Hand-written, not a crate: the pure-Rust port on crates.io
//! (`lzokay-native`) indexes its output with offsets read from the input
//! and panics on a corrupt stream, and the other crates bind C. This one
//! checks every length and distance against what it has, so a corrupt or
//! hostile stream is an error, and never writes past the size the caller
//! expects. The instruction set is LZO1X's, as liblzo2's `lzo1x_decompress`
//! reads it.

/// Why a stream could not be decompressed.
#[derive(Debug, thiserror::Error)]
pub enum LzoError {
    #[error("the LZO stream ends in the middle of an instruction")]
    Truncated,
    #[error("the LZO stream refers back {distance} bytes, past the {have} decompressed so far")]
    Distance { distance: usize, have: usize },
    #[error("the LZO stream decompresses to more than the {0} bytes its block announced")]
    TooLong(usize),
    #[error("the LZO stream has {0} bytes after its end marker")]
    Trailing(usize),
}

/// A cursor over the compressed bytes.
struct Input<'a> {
    b: &'a [u8],
    at: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> Result<usize, LzoError> {
        let v = *self.b.get(self.at).ok_or(LzoError::Truncated)?;
        self.at += 1;
        Ok(usize::from(v))
    }

    fn le16(&mut self) -> Result<usize, LzoError> {
        Ok(self.byte()? | self.byte()? << 8)
    }

    /// A run length's extension: each zero byte adds 255, then the first
    /// non-zero byte adds itself.
    fn extended(&mut self, base: usize, limit: usize) -> Result<usize, LzoError> {
        let mut n = base;
        loop {
            match self.byte()? {
                0 => {
                    n += 255;
                    if n > limit {
                        return Err(LzoError::TooLong(limit));
                    }
                }
                b => return Ok(n + b),
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], LzoError> {
        let s = self
            .b
            .get(self.at..self.at.checked_add(n).ok_or(LzoError::Truncated)?)
            .ok_or(LzoError::Truncated)?;
        self.at += n;
        Ok(s)
    }
}

/// Appends the decompressed `data` (one whole LZO1X stream, up to its end
/// marker) to `out`, which may grow by at most `limit` bytes.
pub fn decompress(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), LzoError> {
    let base = out.len();
    let mut inp = Input { b: data, at: 0 };
    let literals = |out: &mut Vec<u8>, inp: &mut Input<'_>, n: usize| {
        if out.len() - base + n > limit {
            return Err(LzoError::TooLong(limit));
        }
        out.extend_from_slice(inp.take(n)?);
        Ok(())
    };
    // After an instruction: 0 (a literal run may follow), 1-3 (that many
    // literals were copied) or 4 (a run of 4 or more was).
    let mut state = 0;
    match data.first() {
        Some(&b) if b >= 22 => {
            inp.at = 1;
            literals(out, &mut inp, usize::from(b) - 17)?;
            state = 4;
        }
        Some(&b) if b >= 18 => {
            inp.at = 1;
            state = usize::from(b) - 17;
            literals(out, &mut inp, state)?;
        }
        _ => {}
    }
    loop {
        let inst = inp.byte()?;
        let (distance, len, next);
        if inst >= 64 {
            // M2: 3-8 bytes from up to 2 KiB back.
            distance = (inp.byte()? << 3) + ((inst >> 2) & 7) + 1;
            len = (inst >> 5) + 1;
            next = inst & 3;
        } else if inst >= 32 {
            // M3: up to 16 KiB back.
            len = match inst & 31 {
                0 => inp.extended(31, limit)? + 2,
                l => l + 2,
            };
            let v = inp.le16()?;
            distance = (v >> 2) + 1;
            next = v & 3;
        } else if inst >= 16 {
            // M4: 16-48 KiB back, or the end of the stream.
            len = match inst & 7 {
                0 => inp.extended(7, limit)? + 2,
                l => l + 2,
            };
            let v = inp.le16()?;
            let d = ((inst & 8) << 11) + (v >> 2);
            if d == 0 {
                if inp.at != data.len() {
                    return Err(LzoError::Trailing(data.len() - inp.at));
                }
                return Ok(());
            }
            distance = d + 16384;
            next = v & 3;
        } else if state == 0 {
            // A literal run of 3 or more.
            let n = match inst {
                0 => inp.extended(15, limit)? + 3,
                l => l + 3,
            };
            literals(out, &mut inp, n)?;
            state = 4;
            continue;
        } else {
            // M1: 2 bytes from up to 1 KiB back after a short literal run,
            // 3 bytes from 2-3 KiB back after a long one.
            let (extra, l) = if state == 4 { (2049, 3) } else { (1, 2) };
            distance = (inst >> 2) + (inp.byte()? << 2) + extra;
            len = l;
            next = inst & 3;
        }
        let have = out.len() - base;
        if distance > have {
            return Err(LzoError::Distance { distance, have });
        }
        if have + len > limit {
            return Err(LzoError::TooLong(limit));
        }
        // Byte by byte: the copy may overlap what it writes (a run).
        let from = out.len() - distance;
        for i in 0..len {
            let b = out[from + i];
            out.push(b);
        }
        literals(out, &mut inp, next)?;
        state = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streams written by hand from the instruction set: a literal run, a
    /// run copied from one byte back, and the end marker.
    #[test]
    fn reads_literals_and_overlapping_copies() {
        // "abcd" (first byte 17 + 4), then M2 of length 8 from 1 back
        // (0b111_000_00 | distance-1 low bits 0, high byte 0), end marker.
        let s = [21, b'a', b'b', b'c', b'd', 0b1110_0000, 0, 0x11, 0, 0];
        let mut out = Vec::new();
        decompress(&s, 100, &mut out).expect("valid");
        assert_eq!(out, b"abcddddddddd");
    }

    #[test]
    fn corrupt_streams_are_errors_not_panics() {
        let good = [21, b'a', b'b', b'c', b'd', 0b1110_0000, 0, 0x11, 0, 0];
        let mut out = Vec::new();
        // Too far back.
        assert!(
            decompress(
                &[21, b'a', b'b', b'c', b'd', 0xE0, 9, 0x11, 0, 0],
                100,
                &mut out
            )
            .is_err()
        );
        // Over the announced size.
        out.clear();
        assert!(matches!(
            decompress(&good, 6, &mut out),
            Err(LzoError::TooLong(6))
        ));
        // Every truncation, and every single-byte corruption.
        for n in 0..good.len() {
            out.clear();
            assert!(decompress(&good[..n], 100, &mut out).is_err(), "cut at {n}");
        }
        for i in 0..good.len() {
            for v in [0u8, 1, 15, 16, 17, 31, 32, 63, 64, 255] {
                let mut s = good;
                s[i] = v;
                out.clear();
                let _ = decompress(&s, 1 << 20, &mut out);
            }
        }
    }
}
