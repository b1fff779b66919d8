"""`quality suggest`: a first suite for a table, from a profile of at most two queries and, for a
partitioned table, from the history of its partitions (bounds sized for a stated false-alarm rate)."""
