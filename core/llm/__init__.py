"""The model layer: the role models' factory, its cache, stats, endpoint pools, resilience and
retries, the embedded local model and the context window."""
