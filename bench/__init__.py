"""Performance benchmarks: ratios measured side by side in one run (``./run_all.sh bench``)."""
