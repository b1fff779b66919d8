"""Engine adapters of the quality runner. DuckDB, SQL and Spark share governance.lake.engines (the compiled
SQL runs there); `gx` hands the same suite to Great Expectations itself, the reference implementation."""
