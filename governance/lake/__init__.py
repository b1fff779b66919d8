"""Dataset names → data an engine can scan (Delta, Parquet, SQL tables, Spark tables)."""
