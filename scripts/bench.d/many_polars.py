# polars doing the many-keys jobs of scripts/bench (POLARS_MAX_THREADS=2 is
# set by the caller), writing one CSV line per key to OUT: see many_duck.py.
import sys
import polars as pl

mode, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
if mode == "pageviews":
    lf = pl.scan_csv(files, separator=" ", has_header=False, quote_char=None,
                     new_columns=["project", "page", "v", "bytes"],
                     schema_overrides={"page": pl.String, "v": pl.Int64})
    key = "page"
else:
    lf = pl.scan_csv(files, schema_overrides={"id": pl.String, "value": pl.Float64}).rename({"value": "v"})
    key = "id"
table = (
    lf.group_by(key)
    .agg(
        pl.col("v").count().alias("count"),
        pl.col("v").sum().alias("sum"),
        pl.col("v").mean().alias("mean"),
        pl.col("v").std().alias("stddev"),
        pl.col("v").min().alias("min"),
        pl.col("v").max().alias("max"),
    )
    .collect()
)
table.write_csv(out)
