"""Monitoring: freshness and partitions, metric history, anomalies, Azure Monitor sinks, alert rules."""
