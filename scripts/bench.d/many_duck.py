# DuckDB doing the many-keys jobs of scripts/bench with 2 threads:
#   pageviews FILES...  count, sum, mean, stddev, min, max of views per page
#   distinct FILE       the same of value per id (every id different)
import sys
import duckdb

mode, files = sys.argv[1], sys.argv[2:]
con = duckdb.connect()
con.execute("SET threads TO 2")
if mode == "pageviews":
    src = """read_csv(?, delim = ' ', header = false, quote = '',
             columns = {'project': 'VARCHAR', 'page': 'VARCHAR', 'v': 'BIGINT', 'bytes': 'BIGINT'})"""
    key = "page"
else:
    src = "read_csv(?, header = true, columns = {'id': 'VARCHAR', 'v': 'DOUBLE'})"
    key = "id"
n = con.execute(
    f"""SELECT count(*) FROM (
          SELECT {key}, count(v), sum(v), avg(v), stddev_samp(v), min(v), max(v)
          FROM {src} GROUP BY {key})""",
    [files],
).fetchone()[0]
print(n)
