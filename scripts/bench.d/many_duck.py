# DuckDB doing the many-keys jobs of scripts/bench with 2 threads, writing
# one CSV line per key to OUT as mapfold writes one JSON line per key:
#   pageviews OUT FILES...  count, sum, mean, stddev, min, max of views per page
#   distinct OUT FILE       the same of value per id (every id different)
import sys
import duckdb

mode, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
con = duckdb.connect()
con.execute("SET threads TO 2")
if mode == "pageviews":
    src = """read_csv(?, delim = ' ', header = false, quote = '',
             columns = {'project': 'VARCHAR', 'page': 'VARCHAR', 'v': 'BIGINT', 'bytes': 'BIGINT'})"""
    key = "page"
else:
    src = "read_csv(?, header = true, columns = {'id': 'VARCHAR', 'v': 'DOUBLE'})"
    key = "id"
con.execute(
    f"""COPY (SELECT {key}, count(v), sum(v), avg(v), stddev_samp(v), min(v), max(v)
              FROM {src} GROUP BY {key}) TO '{out}' (HEADER, DELIMITER ',')""",
    [files],
)
