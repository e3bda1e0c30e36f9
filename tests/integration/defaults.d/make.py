"""Writes the files of the canonical jobs and their answers.

Usage: make.py DIR. Python's csv module writes each file; answer.json holds,
computed here from the rows (never from mapfold's output):
- words: the count of each word of words.txt (a header `word`, then words
  that are also the header, missing-value tokens and numbers written many
  ways); `\\N` is the missing key.
- zips: per ZIP code of zips.csv, the count and the exact sum of amounts.
- rows / years: the data rows of the three years_*.csv files, and per year.
- thousands: the count and exact sum of the counts of thousands.csv, whose
  counts are written with thousands separators ("23,288  ").
- places: the rows of thousands.csv whose area is one of two names, one
  of which holds a comma.
- r_na: per country of r_na.csv (R write.csv: "NA" is a country code
  there, NA a missing value), the count of values and of missing values.
"""

import csv
import io
import json
import random
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = random.Random(20261203)


def write(name, rows, **kw):
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n", **kw).writerows(rows)
    (out / name).write_text(buf.getvalue())


def exact(values):
    # Each decimal is read as the nearest double; the sum of the doubles
    # is exact, rounded once.
    return repr(float(sum((Fraction(float(v)) for v in values), Fraction(0))))


answer = {}

vocab = ["the", "of", "word", "Word", "None", "NA", "null", "n/a", "NULL",
         "007", "7", "0", "00", "-0", "+7", "1.50", "1.5", "2024", "-3",
         "\\N", "x,y", 'say "hi"']
words = [rng.choice(vocab) for _ in range(4000)]
write("words.txt", [["word"]] + [[w] for w in words])
answer["words"] = dict(Counter(words))

zips = ["02134", "2134", "00501", "501", "10001", "94105", "0", "00000"]
zip_rows = [(rng.choice(zips), f"{rng.randint(0, 99999) / 100:.2f}") for _ in range(3000)]
write("zips.csv", [["zip", "amount"]] + zip_rows)
answer["zips"] = {
    z: [sum(1 for r in zip_rows if r[0] == z), exact(r[1] for r in zip_rows if r[0] == z)]
    for z in zips
}

years = Counter()
total = 0
for i in range(3):
    rows = [(rng.choice(["fr", "de"]), f"t{rng.randint(0, 9)}", str(rng.randint(1995, 2005)))
            for _ in range(rng.randint(200, 400))]
    write(f"years_{i}.csv", [["country", "town", "year"]] + rows)
    years.update(r[2] for r in rows)
    total += len(rows)
answer["rows"] = total
answer["years"] = dict(years)

areas = ["China, Taiwan Province of China", "World", "Chad", "China"]
counts = [rng.choice([rng.randint(0, 999), rng.randint(1000, 10**7)]) for _ in range(2000)]
place_rows = [(rng.choice(areas), f"{c:,}" + " " * rng.randint(0, 2)) for c in counts]
write("thousands.csv", [["area", "count"]] + place_rows)
answer["thousands"] = [len(counts), exact(counts)]
answer["grouped"] = sum(1 for c in counts if c >= 1000)
answer["places"] = sum(1 for a, _ in place_rows if a in ("China, Taiwan Province of China", "World"))

countries = ["NA", "FR", "None"]
r_rows = []
for _ in range(1500):
    c = rng.choice(countries)
    v = None if rng.random() < 0.2 else f"{rng.randint(-500, 500) / 10}"
    r_rows.append((c, v))
buf = io.StringIO(newline="")
w = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
w.writerow(["country", "value"])
for c, v in r_rows:
    w.writerow([c, "NA" if v is None else float(v)])
(out / "r_na.csv").write_text(buf.getvalue().replace('"NA"\n', "NA\n"))
answer["r_na"] = {
    c: [sum(1 for r in r_rows if r[0] == c and r[1] is not None),
        sum(1 for r in r_rows if r[0] == c and r[1] is None)]
    for c in countries
}

(out / "answer.json").write_text(json.dumps(answer))
