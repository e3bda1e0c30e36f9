# Writes one table five ways, as its writers would, for scripts/bench's
# quoting rows: DIR/{plain,r,pandas_all,long,escaped}.csv from the weather
# CSV on stdin (country,town,year,month,precip,temp), with the country and
# the town as text:
#   plain       no quotes (no field needs them)
#   r           R write.csv: every text field quoted, numbers bare
#   pandas_all  pandas QUOTE_ALL: every field quoted
#   long        r, plus a quoted note of about 90 bytes holding commas:
#               records longer than 64 bytes
#   escaped     long, with a doubled quote ("") in the note: the CSV state
#               machine's path
import csv
import sys
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
names = ["plain", "r", "pandas_all", "long", "escaped"]
files = {n: open(out / f"{n}.csv", "w", newline="") for n in names}
w = {
    "plain": csv.writer(files["plain"], quoting=csv.QUOTE_MINIMAL, lineterminator="\n"),
    "r": csv.writer(files["r"], quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n"),
    "pandas_all": csv.writer(files["pandas_all"], quoting=csv.QUOTE_ALL, lineterminator="\n"),
    "long": csv.writer(files["long"], quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n"),
    "escaped": csv.writer(files["escaped"], quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n"),
}
note = "observed at the station, hourly, then averaged over the month; checked, corrected"
head = sys.stdin.readline().strip().split(",")
for n in names:
    w[n].writerow(head + (["note"] if n in ("long", "escaped") else []))
for line in sys.stdin:
    country, town, year, month, precip, temp = line.rstrip("\n").split(",")
    text = [f"Country {country}", f"Town {town}"]
    nums = [year, month, precip, temp]
    w["plain"].writerow(text + nums)
    w["pandas_all"].writerow(text + nums)
    # QUOTE_NONNUMERIC leaves numbers bare only when they are numbers.
    bare = [int(year), int(month), float(precip), float(temp)]
    w["r"].writerow(text + bare)
    w["long"].writerow(text + bare + [note])
    w["escaped"].writerow(text + bare + [note + ' "ok"'])
for f in files.values():
    f.close()
