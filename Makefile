.PHONY: reliability reliability-quick

# Crashes, outages, model faults, load, hostile input and access on real processes (bench/reliability.py).
reliability:
	.venv/bin/python -m bench.reliability

# The same without the real local model.
reliability-quick:
	.venv/bin/python -m bench.reliability --no-model
