"""What users tell the engine: ratings and implicit signals, and the online A/B experiments
judged on them."""
