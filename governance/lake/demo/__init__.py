"""The embedded demo lake: deterministic raw bronze data with documented defects, silver and gold built by
running the job manifests' own SQL. Entry point: `governance.lake.demo.build.init`."""
