"""NumPy's own histogram over a memory-mapped array, as the bench's
reference for mapfold's binary input: np.histogram(np.memmap(...)) of a
raw file, or of np.load(..., mmap_mode="r") of a .npy file.

Usage: np_hist.py FILE DTYPE LO HI BINS (DTYPE npy: a .npy file)."""

import sys

import numpy as np

path, dtype, lo, hi, bins = sys.argv[1:]
a = np.load(path, mmap_mode="r") if dtype == "npy" else np.memmap(path, dtype=dtype, mode="r")
counts, _ = np.histogram(a, bins=int(bins), range=(float(lo), float(hi)))
print(int(counts.sum()))
