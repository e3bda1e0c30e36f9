"""Writes NumPy arrays as NumPy writes them (np.save for .npy,
ndarray.tofile for raw files) and the same numbers as CSV by Python's csv
module, floats as repr() writes them (shortest round-trip digits), bools
as 0 and 1: each array NAME as NAME.npy, NAME.raw, NAME.csv (with the
header row 0,1,...: a .npy file's header counts as a header line) and
NAME.nohead.csv. Also arrays mapfold refuses: Fortran order, 3-D,
big-endian.

Usage: make.py DIR."""

import csv
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(20261203)
n = 3000
f64x3 = rng.normal(size=(n, 3))
f64x3[:, 1] = np.round(f64x3[:, 1] * 2)  # a key column of a few floats
f64x3[::499, 2] = np.nan
f64x3[5, 2] = np.inf
f64x2 = np.column_stack([rng.exponential(size=n), rng.normal(size=n)])
f64x2[::301, 1] = np.nan
f64x2[7, 1] = -np.inf
arrays = {
    "f64x3": f64x3,
    "f64x2": f64x2,
    "u8": rng.binomial(255, 0.3, size=n * 4).astype(np.uint8),
    "i16x2": rng.integers(-30000, 30000, size=(n, 2), dtype=np.int16),
    "bool": rng.random(n) < 0.3,
    "f32": rng.normal(size=n).astype(np.float32),
    "u64": rng.integers(2**60, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True),
    "i64": rng.integers(-(2**62), 2**62, size=n, dtype=np.int64),
    "i8": rng.integers(-128, 128, size=n * 3, dtype=np.int8),
}
arrays["i16x2"][:, 1] %= 7
arrays["u16"] = rng.integers(0, 2**16, size=n, dtype=np.uint16)
arrays["i32"] = rng.integers(-(2**31), 2**31, size=n, dtype=np.int32)
arrays["u32"] = rng.integers(0, 2**32, size=n, dtype=np.uint32)
# 150,000 rows of 24 bytes: past the reader's 1 MiB reads and its runs of
# numbers; column 2 spans every magnitude (exact sums over many positions).
wide = rng.normal(size=(150000, 3))
wide[:, 2] *= 10.0 ** rng.integers(-300, 300, size=len(wide))
wide[::997, 2] = np.nan
wide[3, 2] = -np.inf
wide[11, 2] = 5e-324
arrays["wide"] = wide
# Dates as numbers (20160104), as some exports keep them.
days = np.datetime64("2015-11-01") + rng.integers(0, 400, size=n)
arrays["days"] = np.array([int(str(d).replace("-", "")) for d in days], dtype=np.uint32)


def text(v):
    if isinstance(v, (np.floating, float)):
        return repr(float(v))
    if isinstance(v, (np.bool_, bool)):
        return "1" if v else "0"
    return str(int(v))


for name, a in arrays.items():
    np.save(os.path.join(out, name + ".npy"), a)
    a.tofile(os.path.join(out, name + ".raw"))
    rows = a.reshape(len(a), -1)
    for suffix, header in ((".csv", True), (".nohead.csv", False)):
        with open(os.path.join(out, name + suffix), "w", newline="") as f:
            w = csv.writer(f)
            if header:
                w.writerow([str(i) for i in range(rows.shape[1])])
            for r in rows:
                w.writerow([text(v) for v in r])
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(f64x3))
np.save(os.path.join(out, "cube.npy"), np.zeros((2, 3, 4)))
np.save(os.path.join(out, "big.npy"), f64x2.astype(">f8"))
with open(os.path.join(out, "cut.raw"), "wb") as f:
    f.write(f64x3.tobytes()[:-5])
