"""The `refinery` command line: run, serve, threads, feedback, eval and model."""
