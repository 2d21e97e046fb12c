"""Run control, apart from HTTP: executing a run, priority admission, leases and their keeper, the
reaper, the run event log and thread ownership."""
