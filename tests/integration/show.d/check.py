"""Reads a job's part files and the flat tables `mapfold show` exported of
them (CSV and TSV with Python's csv module, JSON lines with json, Parquet
with pyarrow), and checks every number of the JSON against every table,
under the column names the README documents, flattened here on their own:

  nested objects joined with ".", quantiles by their own names (p50),
  histogram bins by their edges ("hist[-5,-4.5)", the last one closed),
  2-D histogram cells by both, keys as their own columns.

usage: check.py OUTDIR KEYNAMES(comma list, or "-") TABLES_PREFIX
(TABLES_PREFIX.csv, .tsv, .jsonl, .parquet are read)
"""

import csv
import glob
import json
import math
import sys

import pyarrow.parquet as pq

outdir, keynames, prefix = sys.argv[1:4]
keynames = [] if keynames == "-" else keynames.split(",")


def edge(x):
    r = float(f"{x:.11e}")
    if r == 0:
        r = 0.0
    s = repr(r)
    return s[:-2] if s.endswith(".0") else s


def bin_name(lo, hi, n, i):
    e = lambda k: edge(hi if k == n else lo + (hi - lo) * k / n)
    return f"[{e(i)},{e(i + 1)}{']' if i + 1 == n else ')'}"


def flat(prefix, v, out):
    join = lambda k: f"{prefix}.{k}" if prefix else k
    if isinstance(v, dict):
        if isinstance(v.get("bins"), list) and "lo" in v and "hi" in v:
            n = len(v["bins"])
            for i, c in enumerate(v["bins"]):
                out[prefix + bin_name(v["lo"], v["hi"], n, i)] = c
            for k, x in v.items():
                if k not in ("lo", "hi", "bins"):
                    flat(join(k), x, out)
            return
        if "counts" in v and isinstance(v.get("x"), dict) and isinstance(v.get("y"), dict):
            x, y = v["x"], v["y"]
            for i, row in enumerate(v["counts"]):
                for j, c in enumerate(row):
                    name = bin_name(x["lo"], x["hi"], x["bins"], i) + bin_name(
                        y["lo"], y["hi"], y["bins"], j
                    )
                    out[prefix + name] = c
            for k, w in v.items():
                if k not in ("x", "y", "counts"):
                    flat(join(k), w, out)
            return
        for k, x in v.items():
            flat(prefix if k == "quantiles" else join(k), x, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            flat(f"{prefix}[{i}]", x, out)
    else:
        out[prefix] = v


def key_order(k):
    """Field by field as written: a missing field, numbers, then text."""
    out = []
    for f in next(csv.reader([k])):
        if f == "\\N":
            out.append((0, 0.0, b""))
            continue
        try:
            x = float(f)
            if not math.isnan(x):
                out.append((1, x, b""))
                continue
        except ValueError:
            pass
        out.append((2, 0.0, f.encode()))
    return (out, k)


rows = []
for p in sorted(glob.glob(f"{outdir}/part-*")):
    for line in open(p, encoding="utf-8"):
        k, j = line.rstrip("\n").split("\t", 1)
        if k:
            rows.append((k, json.loads(j)))
rows.sort(key=lambda r: key_order(r[0]))
assert rows, "no keys"

expected = []
for k, v in rows:
    d = {}
    if keynames:
        fields = next(csv.reader([k]))
        assert len(fields) == len(keynames), (k, keynames)
        for name, f in zip(keynames, fields):
            d[name] = f
    flat("", v, d)
    expected.append(d)
names = list(expected[0].keys())
for d in expected:
    assert list(d.keys()) == names, (list(d.keys()), names)


def same(got, want, where):
    if isinstance(want, bool):
        assert got in (want, str(want).lower()), (where, got, want)
    elif want is None:
        assert got in (None, ""), (where, got)
    elif isinstance(want, (int, float)):
        g = float(got)
        assert g == want, (where, got, want)
    else:
        if want in ("inf", "-inf", "nan") and not isinstance(got, str):
            assert repr(float(got)) == repr(float(want)), (where, got, want)
        else:
            assert str(got) == want, (where, got, want)


def check_delimited(path, delim):
    with open(path, newline="", encoding="utf-8") as f:
        r = list(csv.reader(f, delimiter=delim))
    assert r[0] == names, f"{path}: header\n{r[0]}\nwant\n{names}"
    assert len(r) - 1 == len(expected), (path, len(r) - 1, len(expected))
    for got, want in zip(r[1:], expected):
        for n, g in zip(names, got):
            same(g, want[n], (path, n))


check_delimited(prefix + ".csv", ",")
check_delimited(prefix + ".tsv", "\t")

lines = open(prefix + ".jsonl", encoding="utf-8").read().splitlines()
assert len(lines) == len(expected)
for line, want in zip(lines, expected):
    got = json.loads(line)
    assert list(got.keys()) == names
    for n in names:
        g = got[n]
        if n in keynames and isinstance(g, int):
            assert str(g) == want[n], (n, g, want[n])
        else:
            same(g, want[n], ("jsonl", n))

table = pq.read_table(prefix + ".parquet")
assert table.column_names == names, (table.column_names, names)
for n, want_type in [("count", "int64"), ("mean", "double")]:
    if n in names:
        assert str(table.schema.field(n).type) == want_type, (n, table.schema.field(n).type)
for got, want in zip(table.to_pylist(), expected):
    for n in names:
        g = got[n]
        if n in keynames and isinstance(g, int):
            assert str(g) == want[n], (n, g, want[n])
        else:
            same(g, want[n], ("parquet", n))
assert table.num_rows == len(expected)
print(f"checked {len(expected)} keys x {len(names)} columns in 4 formats")
