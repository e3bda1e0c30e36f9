# DuckDB doing the quoting rows' job of scripts/bench (count, sum, mean,
# stddev, min, max of temp per year) on one file, with 2 threads.
import sys
import duckdb

con = duckdb.connect()
con.execute("SET threads TO 2")
rows = con.execute(
    """
    SELECT year, count(temp), sum(temp), avg(temp), stddev_samp(temp), min(temp), max(temp)
    FROM read_csv(?, header = true, quote = '"', escape = '"')
    GROUP BY year ORDER BY year
    """,
    [sys.argv[1]],
).fetchall()
print(len(rows), rows[0][:7])
