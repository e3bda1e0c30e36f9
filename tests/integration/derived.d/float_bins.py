"""Floats as Python (and pandas, which writes repr) writes them, shortest
round-trip digits, of every magnitude, in DIR/x.csv; and DIR/want.json:
the rows of each bin(x, 0.5), computed on the decimal text with exact
fractions, its key written as plain decimal.

Usage: float_bins.py DIR."""

import json
import os
import random
import sys
from fractions import Fraction

out = sys.argv[1]
rng = random.Random(20261204)
xs = [rng.gauss(0, 1) * 10.0 ** rng.randint(-30, 6) for _ in range(4000)]
xs += [5e-324, -5e-324, 0.027344381304420313, -2.2250738585072014e-308, 1e300, -0.0]
width = Fraction("0.5")


def plain(v):
    """A multiple of 1/2 as the key prints it: no exponent, no trailing
    zeros."""
    if v.denominator == 1:
        return str(v.numerator)
    return ("-" if v < 0 else "") + str(abs(v.numerator) // 2) + ".5"


want = {}
with open(os.path.join(out, "x.csv"), "w") as f:
    f.write("x\n")
    for x in xs:
        text = repr(x)
        f.write(text + "\n")
        key = plain((Fraction(text) / width).__floor__() * width)
        want[key] = want.get(key, 0) + 1
with open(os.path.join(out, "want.json"), "w") as f:
    json.dump(want, f)
