"""Quality suites compiled to one scan per dataset (see compiler.py), run on DuckDB, SQL or Spark."""
