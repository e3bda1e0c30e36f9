"""Writes n-gram rows as the Google Books n-grams hold them (ngram TAB
year TAB match_count TAB page_count TAB volume_count) both as the
SequenceFiles of every layout and codec (tests/seqfile.py: the row number
as a LongWritable key, the row as a Text value) and as the TSV text a
streaming mapper reads of them (row number, TAB, the row), plus one file
with other Writables (IntWritable keys, BytesWritable values) and the
lines Hadoop's toString() gives for it.

Usage: ngrams.py DIR. Writes DIR/text/data.tsv, DIR/seq/*, DIR/other.seq
and DIR/other.txt."""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import seqfile  # noqa: E402

out = sys.argv[1]
rng = random.Random(7)
words = ["the", "of", "and", "whale", "sea", "ship", "Ahab", "naïve", "état", "x,y", "\"q\""]
rows = []
for _ in range(12_000):
    gram = " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
    year = rng.randint(1800, 2008)
    matches = rng.randint(1, 5000)
    rows.append("%s\t%d\t%d\t%d\t%d" % (gram, year, matches, rng.randint(1, matches), rng.randint(1, 40)))
os.makedirs(os.path.join(out, "text"))
with open(os.path.join(out, "text", "data.tsv"), "w", encoding="utf-8") as f:
    for i, r in enumerate(rows):
        f.write("%d\t%s\n" % (i, r))
src = os.path.join(out, "rows.txt")
with open(src, "w", encoding="utf-8") as f:
    f.write("".join(r + "\n" for r in rows))
seqfile.write_all(src, os.path.join(out, "seq"))
os.remove(src)
with open(os.path.join(out, "other.seq"), "wb") as f:
    w = seqfile.Writer(f, "int", "bytes", "block", "zlib", block_size=500)
    with open(os.path.join(out, "other.txt"), "wb") as t:
        for i in range(300):
            b = bytes(rng.randrange(256) for _ in range(rng.randint(0, 5)))
            w.append(-i, b)
            t.write(b"%d\t%s\n" % (-i, " ".join("%02x" % x for x in b).encode()))
    w.close()
