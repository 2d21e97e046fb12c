"""Redis plumbing: where the server is (configured or embedded), and hot-path connection lanes."""
