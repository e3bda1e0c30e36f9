"""Writes one CSV file compressed as Hadoop's codecs read it, by other
writers than mapfold: Python's gzip, bz2 and zlib, and the zstandard
package, each as two members, streams or frames joined (as pigz, pbzip2
and zstd -T write them), but .deflate (one zlib stream, as DefaultCodec
writes it).

Usage: compress.py SRC DIR. Writes DIR/data.csv{,.gz,.bz2,.zst,.deflate},
and DIR/big.csv{,.bz2}: SRC's rows 60 times, the .bz2 of many blocks."""

import bz2
import gzip
import shutil
import sys
import zlib
from pathlib import Path

import zstandard

src, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
data = src.read_bytes()
half = len(data) // 2
shutil.copy(src, out / "data.csv")
(out / "data.csv.gz").write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))
(out / "data.csv.bz2").write_bytes(bz2.compress(data[:half]) + bz2.compress(data[half:]))
z = zstandard.ZstdCompressor()
(out / "data.csv.zst").write_bytes(z.compress(data[:half]) + z.compress(data[half:]))
(out / "data.csv.deflate").write_bytes(zlib.compress(data))
# A dump of many bzip2 blocks (100 kB blocks, two streams), as a split
# planner cuts a large .bz2 at its blocks.
big = b"".join(data.splitlines(keepends=True)[1:]) * 60
third = len(big) // 3
(out / "big.csv").write_bytes(big)
(out / "big.csv.bz2").write_bytes(bz2.compress(big[:third], 1) + bz2.compress(big[third:], 2))
