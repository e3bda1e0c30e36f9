# DuckDB doing the runner's job (stats + 100-bin histogram of temp per year)
# on the same files, with 2 threads.
import sys
import duckdb

files = sys.argv[1:]
con = duckdb.connect()
con.execute("SET threads TO 2")
rows = con.execute(
    """
    SELECT year, count(temp), sum(temp), avg(temp), stddev_samp(temp), min(temp), max(temp),
           histogram(CASE WHEN temp < -5 THEN -1 WHEN temp > 5 THEN 100
                          ELSE least(floor((temp + 5) * 10), 99)::INT END)
    FROM read_csv(?, header = true, columns = {'country': 'INT', 'town': 'INT', 'year': 'INT',
                  'month': 'INT', 'precip': 'DOUBLE', 'temp': 'DOUBLE'})
    GROUP BY year ORDER BY year
    """,
    [files],
).fetchall()
print(len(rows), rows[0][:7])
