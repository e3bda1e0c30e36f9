"""The answer for vega_datasets' airports.csv (3,376 US airports, names
with quoted commas, codes such as 00M, a state written NA), from Python's
csv module: per state, the count of airports, the exact sum of their
latitudes rounded once, and the count of distinct cities.

Usage: airports.py OUT_DIR. Copies the file there as airports.csv and
writes answer.json. The file comes from the installed vega_datasets
package (found without importing it, as its import needs pandas)."""

import csv
import importlib.util
import json
import shutil
import sys
from fractions import Fraction
from pathlib import Path

spec = importlib.util.find_spec("vega_datasets")
if spec is None:
    sys.exit("vega_datasets is not installed: run scripts/test, which installs it")
src = Path(list(spec.submodule_search_locations)[0]) / "_data" / "airports.csv"
out = Path(sys.argv[1])
shutil.copy(src, out / "airports.csv")
with open(src, newline="") as f:
    rows = list(csv.DictReader(f))
by = {}
for r in rows:
    n, s, cities = by.get(r["state"], (0, Fraction(0), set()))
    by[r["state"]] = (n + 1, s + Fraction(float(r["latitude"])), cities | {r["city"]})
(out / "answer.json").write_text(json.dumps(
    {k: [n, repr(float(s)), len(c)] for k, (n, s, c) in by.items()}))
