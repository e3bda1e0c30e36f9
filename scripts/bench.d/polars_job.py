# polars doing the runner's job (stats + 100-bin histogram of temp per year)
# on the same files, with 2 threads (POLARS_MAX_THREADS=2 is set by the
# caller, before import).
import sys
import polars as pl

files = sys.argv[1:]
bins = (
    pl.when(pl.col("temp") < -5).then(-1)
    .when(pl.col("temp") > 5).then(100)
    .otherwise(((pl.col("temp") + 5) * 10).floor().clip(upper_bound=99))
    .cast(pl.Int32)
)
out = (
    pl.scan_csv(files)
    .group_by("year")
    .agg(
        pl.col("temp").count().alias("count"),
        pl.col("temp").sum().alias("sum"),
        pl.col("temp").mean().alias("mean"),
        pl.col("temp").std().alias("stddev"),
        pl.col("temp").min().alias("min"),
        pl.col("temp").max().alias("max"),
        bins.value_counts().alias("hist"),
    )
    .sort("year")
    .collect()
)
print(out.height, out.row(0)[:7])
