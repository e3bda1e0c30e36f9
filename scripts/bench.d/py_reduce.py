# The plain Python streaming reducer of the benchmark: sum and count.
import sys

total = 0.0
n = 0
for line in sys.stdin:
    total += float(line.split("\t", 1)[1])
    n += 1
print("*\t%r\t%d\t%r" % (total, n, total / n if n else float("nan")))
