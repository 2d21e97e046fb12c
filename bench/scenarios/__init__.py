"""The scenarios of bench/reliability.py: each drives the real processes of a `Stack` through
one kind of trouble and returns a `Scenario` report (what was tried, what held, what was lost)."""
