"""The expected rows per time bucket of a CSV (columns: when, v), computed
with Python's datetime: each form parsed by its own strptime pattern (or
fromisoformat), offsets taken to UTC, ISO weeks from isocalendar().

usage: buckets.py FILE UNIT [FROM UNTIL]  -> JSON {bucket: [count, sum_of_v]}
(only the rows with FROM <= when < UNTIL, ISO bounds, when given)
"""

import csv
import json
import sys
from datetime import datetime, timezone

path, unit = sys.argv[1:3]
bounds = [datetime.fromisoformat(b) for b in sys.argv[3:5]]


def parse(t):
    for fmt in ("%Y %b", "%b %Y", "%B %Y", "%d %b %Y", "%b %d, %Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(t, fmt)
        except ValueError:
            pass
    d = datetime.fromisoformat(t)
    if d.tzinfo is not None:
        d = d.astimezone(timezone.utc).replace(tzinfo=None)
    return d


def bucket(d):
    if unit == "year":
        return f"{d.year:04d}"
    if unit == "quarter":
        return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
    if unit == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if unit == "week":
        y, w, _ = d.isocalendar()
        return f"{y:04d}-W{w:02d}"
    if unit == "day":
        return d.strftime("%Y-%m-%d")
    if unit == "hour":
        return d.strftime("%Y-%m-%dT%H:00")
    return d.strftime("%Y-%m-%dT%H:%M")


out = {}
with open(path, newline="") as f:
    for row in csv.DictReader(f):
        d = parse(row["when"])
        if bounds and not (bounds[0] <= d < bounds[1]):
            continue
        b = bucket(d)
        c = out.setdefault(b, [0, 0])
        c[0] += 1
        c[1] += int(row["v"])
print(json.dumps(out))
