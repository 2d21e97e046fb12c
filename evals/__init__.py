"""The evaluation suite: runs configurations over data sets (`runner`), scores answers with task
and Ragas metrics (`metrics`, `ragas_metrics`), compares two runs with significance tests
(`compare`), writes reports with plots (`report`) and gates regressions (`gate`); the
`refinery eval` commands live in `cli`."""
