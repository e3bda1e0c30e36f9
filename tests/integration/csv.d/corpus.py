"""Writes one table as the writers people use write it, and the answer.

Usage: corpus.py DIR. Each file holds the same rows (key k, value v);
answer.json holds, per key (its text, a line break inside a field read as
"\n"), the count of numeric values and their exact sum, correctly rounded
to a double, computed here from the rows, not from any file.
"""

import csv
import io
import json
import random
import sys
from fractions import Fraction
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = random.Random(20261202)
keys = [
    "plain",
    "Hong Kong, China",
    'say "hi"',
    "two\nlines",
    "crlf\r\ninside",
    # A first line long enough that a split's cut falls inside it.
    "a first line long enough for a block boundary to fall inside it, as it does\nthen more",
    "",
    "word",
    "x" * 90,
    '"quoted start',
    "trailing,",
]
rows = []
for i in range(3000):
    k = rng.choice(keys)
    if rng.random() < 0.1:
        v = None
    else:
        v = Fraction(rng.randint(-10**7, 10**7), 10 ** rng.randint(0, 6))
    rows.append((k, v))


def dec(v):
    # A decimal string of an exact fraction with a power-of-ten denominator.
    s = f"{abs(v.numerator) * 10**6 // v.denominator:07d}"
    s = (s[:-6] or "0") + "." + s[-6:]
    s = s.rstrip("0").rstrip(".")
    return ("-" if v < 0 else "") + s


def table(missing):
    return [("k", "v")] + [(k, missing if v is None else dec(v)) for k, v in rows]


def write(name, text, encoding="utf-8"):
    (out / name).write_bytes(text.encode(encoding))


def csv_text(data, **kw):
    buf = io.StringIO(newline="")
    w = csv.writer(buf, **kw)
    w.writerows(data)
    return buf.getvalue()


# R write.csv: every text field quoted, numbers bare, NA for missing.
write("r_write_csv.csv", csv_text(
    [("k", "v")] + [(k, "NA" if v is None else float(dec(v))) for k, v in rows],
    quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").replace('"NA"', "NA"))
# pandas to_csv: QUOTE_ALL (numbers quoted too), QUOTE_NONNUMERIC, QUOTE_MINIMAL.
write("pandas_all.csv", csv_text(table(""), quoting=csv.QUOTE_ALL, lineterminator="\n"))
write("pandas_minimal.csv", csv_text(table(""), quoting=csv.QUOTE_MINIMAL, lineterminator="\n"))
# Excel: CRLF, a byte-order mark, minimal quoting.
write("excel.csv", "\ufeff" + csv_text(table(""), lineterminator="\r\n"))
# PostgreSQL COPY ... CSV NULL '\N'.
write("postgres.csv", csv_text(table("\\N"), lineterminator="\n"))
# Classic Mac line ends: a lone CR (every field quoted: Python's writer
# quotes only for the characters of its own line terminator, and would
# leave a "\n" bare).
write("lone_cr.csv", csv_text(table(""), quoting=csv.QUOTE_ALL, lineterminator="\r"))

answer = {}
for k, v in rows:
    key = k.replace("\r\n", "\n").replace("\r", "\n")
    c, s = answer.get(key, (0, Fraction(0)))
    if v is not None:
        # The file's decimal is read as the nearest double, and the sum of
        # the doubles is exact.
        c, s = c + 1, s + Fraction(float(v))
    answer[key] = (c, s)
(out / "answer.json").write_text(json.dumps(
    {k: [c, repr(float(s))] for k, (c, s) in answer.items()}))
